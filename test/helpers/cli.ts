/**
 * Runs the real, built CLI (`node bin/vpccni.js`) the way a user's shell would, isolated from the
 * machine's AWS and kube configuration so that nothing but loopback is ever reached.
 */
import { execa } from 'execa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'vpccni.js');

/** What a CLI run printed and how it ended. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * One compile cache (bin/vpccni.js turns on Node's) for every CLI the tests spawn, as one user's runs share
 * theirs: Node checks each entry against its file's content, so runs of other builds cannot meet a wrong one.
 */
export const TEST_CODE_CACHE = join(tmpdir(), 'vpccni-test-code-cache');

/** An environment with no AWS profile, no IMDS, no real kubeconfig, and a private kubectl cache. */
export function isolatedEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const home = mkdtempSync(join(tmpdir(), 'vpccni-home-'));
  return {
    HOME: home,
    KUBECONFIG: join(home, 'no-kubeconfig'),
    KUBECACHEDIR: join(home, 'kube-cache'),
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PROFILE: undefined,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_ENDPOINT_URL: undefined,
    AWS_ENDPOINT_URL_EKS: undefined,
    AWS_ENDPOINT_URL_IAM: undefined,
    VPCCNI_CLUSTER: undefined,
    GITHUB_ACTIONS: undefined,
    GITHUB_STEP_SUMMARY: undefined,
    NO_COLOR: '1',
    VPCCNI_CACHE_DIR: TEST_CODE_CACHE,
    ...extra,
  };
}

/** Runs `vpccni …args` and returns its output; never throws on a non-zero exit. */
export async function vpccni(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  const result = await execa('node', [BIN, ...args], {
    reject: false,
    env: options.env ?? isolatedEnv(),
    extendEnv: true,
    cwd: options.cwd ?? ROOT,
    timeout: options.timeoutMs ?? 170_000, // a hang catcher under vitest's 180 s, not a speed limit
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Parses stdout as the one JSON document of a `--output json` run. */
export function parseJson<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.exitCode}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** Where an in-process sandbox listens (the parts of RunningSandbox the CLI needs). */
export interface SandboxEndpoints {
  eksEndpoint: string;
  iamEndpoint: string;
  kubeconfig: string;
  contextName: string;
  cluster: string;
  region: string;
}

/** The environment in which the CLI talks to an in-process sandbox as it would to AWS. */
export function sandboxEnv(sb: SandboxEndpoints, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return isolatedEnv({
    AWS_ENDPOINT_URL_EKS: sb.eksEndpoint,
    AWS_ENDPOINT_URL_IAM: sb.iamEndpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: sb.region,
    ...extra,
  });
}

/** Global flags naming an in-process sandbox's cluster and kube context explicitly. */
export function sandboxFlags(sb: SandboxEndpoints): string[] {
  return ['--kubeconfig', sb.kubeconfig, '--context', sb.contextName, '--cluster', sb.cluster, '--region', sb.region];
}

/** Runs `vpccni …args` against an in-process sandbox. */
export function onSandbox(
  sb: SandboxEndpoints,
  args: string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return vpccni([...sandboxFlags(sb), ...args], {
    env: sandboxEnv(sb, options.env),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/** A CLI run in progress whose stderr a test can wait on (to act at a point the CLI announces). */
export interface RunningCli {
  /** Resolves once stderr so far matches `pattern`; rejects if the run ends first. */
  stderrMatches(pattern: RegExp): Promise<void>;
  /** Sends a signal to the CLI. */
  kill(signal: NodeJS.Signals): void;
  result: Promise<CliResult>;
}

/**
 * What a run has printed on stderr so far, and waits on it: `seen(chunk)` adds what the run writes;
 * `matches(pattern)` resolves once stderr matches, and rejects if the run (`result()`) ends first.
 */
export function stderrWatch(result: () => Promise<CliResult>): { seen(chunk: string): void; matches(pattern: RegExp): Promise<void> } {
  let stderr = '';
  const watchers = new Set<() => void>();
  return {
    seen: (chunk) => {
      stderr += chunk;
      for (const w of [...watchers]) w();
    },
    matches: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(stderr)) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
        void result().then(
          (r) => {
            if (watchers.delete(check)) reject(new Error(`vpccni ended (exit ${r.exitCode}) before stderr matched ${pattern}:\n${r.stderr}`));
          },
          (e: unknown) => {
            if (watchers.delete(check)) reject(e instanceof Error ? e : new Error(String(e)));
          },
        );
      }),
  };
}

/** Starts `vpccni …args` against an in-process sandbox without waiting for it. */
export function spawnOnSandbox(
  sb: SandboxEndpoints,
  args: string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): RunningCli {
  const child = execa('node', [BIN, ...sandboxFlags(sb), ...args], {
    reject: false,
    env: sandboxEnv(sb, options.env),
    extendEnv: true,
    cwd: ROOT,
    timeout: options.timeoutMs ?? 170_000,
    stdin: 'ignore',
  });
  const result = child.then((r) => ({ exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) }));
  const watch = stderrWatch(() => result);
  child.stderr!.on('data', (chunk: Buffer) => watch.seen(String(chunk)));
  return { result, kill: (signal) => child.kill(signal), stderrMatches: watch.matches };
}
