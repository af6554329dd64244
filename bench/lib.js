// What the benchmarks share: running a command with its wall time (and peak RSS under /usr/bin/time), and
// the formats of their tables.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** GNU time, for the peak RSS; null where the machine has none. */
export const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
export const ms = (x) => `${Math.round(x)} ms`;
export const ratio = (x) => `${x.toFixed(2)}×`;
export const log = (text) => process.stderr.write(`${text}\n`);

/** Runs a command, returns wall time (ms), exit code and, under /usr/bin/time, the peak RSS (KiB). */
export function run(cmd, args, { env = process.env, rss = false } = {}) {
  const rssFile = rss && TIME ? join(mkdtempSync(join(tmpdir(), 'vpccni-bench-')), 'rss') : null;
  const [file, argv] = rssFile ? [TIME, ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = performance.now() - started;
      const kib = rssFile ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) : null;
      resolve({ wall, code, rssKiB: kib, stderr });
    });
  });
}
