/**
 * Temporary directories that go away with the process: on close, on exit, and on SIGINT or SIGTERM (when
 * nothing else handles the signal, it is raised again afterwards so that the exit code stays 130 / 143).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
let installed = false;

function removeAll(): void {
  for (const dir of dirs) removeTempDir(dir);
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles the signal (an upgrade stopping its wait, `sandbox serve` closing): the dirs may
  // still be in use; they go on exit.
  if (process.listenerCount(signal) > 1) return;
  removeAll();
  // Alone on this signal: behave as if we had never listened.
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

/** Makes `<tmp>/<prefix>XXXXXX`, removed at the latest when the process ends. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  if (!installed) {
    installed = true;
    process.on('exit', removeAll);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return dir;
}

/** Removes a directory made by makeTempDir now. */
export function removeTempDir(dir: string): void {
  dirs.delete(dir);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Best effort: a leftover temp dir is not worth failing the command for.
  }
}
