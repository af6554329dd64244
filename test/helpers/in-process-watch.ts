/**
 * An in-process CLI run (helpers/in-process.ts) that a test can act on part-way, the way spawnOnSandbox
 * (helpers/cli.ts) lets it act on a spawned one: resolve once the run has said something on stderr, then
 * release a sandbox gate. It watches process.stderr.write for as long as the run lasts, so the runs of a file
 * that uses it must not overlap (vitest runs a file's tests one after the other unless told otherwise).
 */
import { stderrWatch, type CliResult } from './cli.js';
import { vpccniInProcess } from './in-process.js';

/** An in-process run in progress. */
export interface RunningInProcess {
  /** Resolves once stderr so far matches `pattern`; rejects if the run ends first. */
  stderrMatches(pattern: RegExp): Promise<void>;
  result: Promise<CliResult>;
}

let watching = false;

/** Starts `vpccni …args` in-process without waiting for it (call useInProcessCli() in the file first). */
export function startInProcess(args: string[], run: (args: string[]) => Promise<CliResult> = vpccniInProcess): RunningInProcess {
  if (watching) throw new Error('startInProcess: another watched run is still going; await its result first.');
  watching = true;
  const watch = stderrWatch(() => result);
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    watch.seen(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (write as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  const result = run(args).finally(() => {
    process.stderr.write = write;
    watching = false;
  });
  return { result, stderrMatches: watch.matches };
}
