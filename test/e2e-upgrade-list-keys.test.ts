/**
 * Issue 21: a managed add-on walked from v1.16 to v1.19 (PRESERVE, and OVERWRITE) must leave no list-map item of
 * aws-node without its key. v1.19 drops `ANNOTATE_POD_IP`, which the v1.18 step applied; the sandbox's server-side
 * apply once left `{}` in its place, where a real API server removes the item (and would refuse a nameless env var
 * with 422). The CLI runs in-process (main(argv)); the DaemonSet is read back through kubectl, as a user would.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../src/decide/manifests.js';
import { loadScenario, startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { validateObject } from '../src/sandbox/kube-object-validation.js';
import { parseJson } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { kubectlFor } from './helpers/kubectl.js';
import { itemsWithoutKeys } from './helpers/list-map-keys.js';

useInProcessCli();

const open: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** The EKS add-on v1.16.4-eksbuild.2 on Kubernetes 1.29, on the December 2024 catalogue (v1.17.1, v1.18.5, v1.19.0 offered). */
async function managedV116(): Promise<RunningSandbox> {
  const s = loadScenario('default');
  s.cluster = { ...s.cluster, kubernetesVersion: '1.29' };
  s.addon = { ...s.addon, version: 'v1.16.4-eksbuild.2' } as typeof s.addon;
  s.daemonSet = { manifest: 'v1.16.4', imageTag: 'v1.16.4-eksbuild.2' };
  s.catalogueSnapshot = 'eks-2024-12';
  s.sandbox = { ...s.sandbox, updateDurationMs: 50, rolloutDurationMs: 50 };
  const sandbox = await startSandbox(s);
  open.push(sandbox);
  return sandbox;
}

interface Report {
  steps: Array<{ from: string; to: string; resolveConflicts: string; result: string }>;
}

describe('a managed add-on walked from v1.16 to v1.19', () => {
  for (const mode of ['PRESERVE', 'OVERWRITE'] as const) {
    it(`keeps every list-map item's key under ${mode}, and the DaemonSet stays valid`, async () => {
      const sandbox = await managedV116();
      const result = await onSandboxInProcess(sandbox, [
        'upgrade', '--backup-dir', mkdtempSync(join(tmpdir(), 'vpccni-keys-')),
        '--to', 'v1.19.0-eksbuild.1', '--resolve-conflicts', mode, '--yes', '--output', 'json',
      ]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(parseJson<Report>(result).steps.map((s) => [s.from, s.to, s.resolveConflicts, s.result])).toEqual([
        ['v1.16.4-eksbuild.2', 'v1.17.1-eksbuild.1', mode, 'succeeded'],
        ['v1.17.1-eksbuild.1', 'v1.18.5-eksbuild.1', mode, 'succeeded'],
        ['v1.18.5-eksbuild.1', 'v1.19.0-eksbuild.1', mode, 'succeeded'],
      ]);
      const got = await kubectlFor('1.33', sandbox.kubeconfig)('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json');
      expect(got.exitCode, got.stderr).toBe(0);
      const ds = JSON.parse(got.stdout) as KubeObject;
      expect(itemsWithoutKeys(ds)).toEqual([]);
      expect(validateObject(ds, { kubernetesVersion: '1.29' })).toEqual([]);
      // The variable the v1.18 step applied and v1.19 dropped is gone, not left behind nameless.
      const env = (ds.spec as { template: { spec: { containers: Array<{ name: string; env: Array<{ name?: string }> }> } } }).template.spec.containers
        .find((c) => c.name === 'aws-node')?.env.map((e) => e.name);
      expect(env).not.toContain('ANNOTATE_POD_IP');
    });
  }
});
