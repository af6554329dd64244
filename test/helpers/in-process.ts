/**
 * Runs the CLI in the test's own process: `main(argv)` from src/cli.ts (commander, the runtime, the real AWS
 * SDK over HTTP, kubectl spawned as always, the same render code), with stdout and stderr captured per run.
 * What it saves is a Node start and the module imports per run; what it keeps is every code path after the
 * launcher. Runs may overlap: each run's writes are routed to its own buffers by AsyncLocalStorage, and its
 * exit code comes from main(), not process.exitCode.
 *
 * The process environment is the worker's, set once to an isolated one by `useInProcessCli()` (no AWS
 * profile, no IMDS, no real kubeconfig, a private kubectl cache, no terminal). A run that needs its own
 * environment or working directory (`{ env, cwd }`, as for the spawned `vpccni()` of helpers/cli.ts) gets them
 * set on the process for that run and put back after it; such a run must not overlap any other, so it is
 * refused while another run is under way, and other runs are refused while it is.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll } from 'vitest';
import { main } from '../../src/cli.js';
import { isolatedEnv, sandboxEnv, sandboxFlags, type CliResult, type SandboxEndpoints } from './cli.js';

interface Capture {
  stdout: string;
  stderr: string;
}

const capture = new AsyncLocalStorage<Capture>();
let installed = 0;
let restore: (() => void) | undefined;
/** Runs under way, and whether one of them has set the process's environment or working directory. */
let running = 0;
let exclusive = false;

const STREAMS = [process.stdin, process.stdout, process.stderr] as const;

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
  // No terminal, as for the spawned CLI (stdin ignored, output piped): no prompt, spinner or colour, even
  // when vitest itself runs in one.
  const ttys = STREAMS.map((stream) => Object.getOwnPropertyDescriptor(stream, 'isTTY'));
  for (const stream of STREAMS) Object.defineProperty(stream, 'isTTY', { value: false, configurable: true, writable: true });
  restore = () => {
    process.stdout.write = out;
    process.stderr.write = err;
    STREAMS.forEach((stream, i) => {
      const descriptor = ttys[i];
      if (descriptor) Object.defineProperty(stream, 'isTTY', descriptor);
      else delete (stream as { isTTY?: boolean }).isTTY;
    });
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

/** What one in-process run may set on the process: variables (undefined removes one) and the working directory. */
export interface InProcessOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Runs `vpccni …args` in-process and returns what it printed and its exit code; never throws on a non-zero
 * exit. With `env` (applied over the isolated environment, as the spawned CLI's `extendEnv`) or `cwd`, the run
 * has the process to itself: it throws if another run is under way, and others throw while it is.
 */
export async function vpccniInProcess(args: string[], options: InProcessOptions = {}): Promise<CliResult> {
  if (installed === 0) throw new Error('Call useInProcessCli() in the test file first.');
  const own = options.env !== undefined || options.cwd !== undefined;
  if (exclusive || (own && running > 0)) {
    throw new Error('An in-process run that sets env or cwd cannot overlap another run: run them one after another.');
  }
  running++;
  exclusive = own;
  const undo = own ? applyProcessSettings(options) : () => undefined;
  const exitCodeBefore = process.exitCode;
  const store: Capture = { stdout: '', stderr: '' };
  try {
    const exitCode = await capture.run(store, () => main(['node', 'vpccni', ...args]));
    // As execa reports a spawned run's output: without its final newline.
    return { exitCode, stdout: stripFinalNewline(store.stdout), stderr: stripFinalNewline(store.stderr) };
  } finally {
    // Nothing of this run may reach the next one or the worker's own exit code.
    process.exitCode = exitCodeBefore;
    undo();
    exclusive = false;
    running--;
  }
}

/** Runs `vpccni …args` in-process against an in-process sandbox, as onSandbox (helpers/cli.ts) spawns it. */
export function onSandboxInProcess(sb: SandboxEndpoints, args: string[], options: { env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  return vpccniInProcess([...sandboxFlags(sb), ...args], { env: sandboxEnv(sb, options.env) });
}

function stripFinalNewline(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** Sets the variables and the working directory of one run; returns what puts the previous ones back. */
function applyProcessSettings(options: InProcessOptions): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(options.env ?? {})) {
    saved.set(key, process.env[key]);
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  const cwd = process.cwd();
  if (options.cwd !== undefined) process.chdir(options.cwd);
  return () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    if (options.cwd !== undefined) process.chdir(cwd);
  };
}
