/**
 * Runs the CLI in the test's own process: `main(argv)` from src/cli.ts (commander, the runtime, the real AWS
 * SDK over HTTP, kubectl spawned as always, the same render code), with stdout and stderr captured per run.
 * What it saves is a Node start and the module imports per run; what it keeps is every code path after the
 * launcher. Runs may overlap: each run's writes are routed to its own buffers by AsyncLocalStorage, and its
 * exit code comes from main(), not process.exitCode.
 *
 * The process environment is the worker's, set once to an isolated one by `useInProcessCli()` (no AWS
 * profile, no IMDS, no real kubeconfig, a private kubectl cache); runs that need another environment (GitHub
 * Actions variables) spawn the real CLI instead (helpers/cli.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll } from 'vitest';
import { main } from '../../src/cli.js';
import { isolatedEnv, type CliResult } from './cli.js';

interface Capture {
  stdout: string;
  stderr: string;
}

const capture = new AsyncLocalStorage<Capture>();
let installed = 0;
let restore: (() => void) | undefined;

function install(): void {
  if (installed++ > 0) return;
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const route = (stream: 'stdout' | 'stderr', original: typeof out) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const store = capture.getStore();
      if (!store) return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      store[stream] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    }) as typeof out;
  process.stdout.write = route('stdout', out);
  process.stderr.write = route('stderr', err);
  const saved = { ...process.env };
  for (const [key, value] of Object.entries(isolatedEnv())) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  // The launcher's settings (bin/vpccni.js) that main() expects.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  restore = () => {
    process.stdout.write = out;
    process.stderr.write = err;
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  };
}

function uninstall(): void {
  if (--installed > 0) return;
  restore?.();
  restore = undefined;
}

/** Installs the in-process runner for the calling test file (before all its tests, removed after). */
export function useInProcessCli(): void {
  beforeAll(install);
  afterAll(uninstall);
}

/** Runs `vpccni …args` in-process and returns what it printed and its exit code; never throws on a non-zero exit. */
export async function vpccniInProcess(args: string[]): Promise<CliResult> {
  if (installed === 0) throw new Error('Call useInProcessCli() in the test file first.');
  const store: Capture = { stdout: '', stderr: '' };
  const exitCode = await capture.run(store, () => main(['node', 'vpccni', ...args]));
  return { exitCode, stdout: store.stdout, stderr: store.stderr };
}
