/** kubectl of a given minor against a sandbox kubeconfig, isolated with its own KUBECACHEDIR. */
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa, execaSync } from 'execa';

/** What a kubectl run gives back. */
export interface KubectlResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Where the machine keeps kubectl.1.27 … kubectl.1.33. */
export const KUBECTL_DIR = dirname(realpathSync(execaSync('which', ['kubectl']).stdout.trim()));

/** The two minors every new sandbox behaviour is driven with. */
export const KUBECTL_MINORS = ['1.27', '1.33'] as const;

/** A kubectl of `minor` bound to `kubeconfig`, with a fresh cache directory; never rejects. */
export function kubectlFor(minor: string, kubeconfig: string, env: Record<string, string> = {}): (...args: string[]) => Promise<KubectlResult> {
  const cache = mkdtempSync(join(tmpdir(), 'vpccni-kubectl-'));
  return (...args: string[]) =>
    execa(join(KUBECTL_DIR, `kubectl.${minor}`), ['--kubeconfig', kubeconfig, ...args], {
      env: { KUBECACHEDIR: cache, ...env },
      reject: false,
      timeout: 60_000,
    }).then((r) => ({ exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) }));
}
