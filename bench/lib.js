// What the benchmarks share: running a command with its wall time (and CPU and peak RSS under /usr/bin/time), and
// the formats of their tables.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

/** GNU time, for the peak RSS; null where the machine has none. */
export const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
export const ms = (x) => `${Math.round(x)} ms`;
export const ratio = (x) => `${x.toFixed(2)}×`;
export const log = (text) => process.stderr.write(`${text}\n`);

/**
 * Runs a command; returns its wall time (ms), exit code, and under /usr/bin/time (always, where the machine
 * has it) its CPU time, user + sys (ms: the load-independent measure on a shared machine) and peak RSS (KiB).
 */
export function run(cmd, args, { env = process.env } = {}) {
  const timeFile = TIME ? join(mkdtempSync(join(tmpdir(), 'vpccni-bench-')), 'time') : null;
  const [file, argv] = timeFile ? [TIME, ['-f', '%M %U %S', '-o', timeFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = performance.now() - started;
      const last = timeFile ? readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number) : null;
      if (timeFile) rmSync(dirname(timeFile), { recursive: true, force: true });
      resolve({ wall, code, rssKiB: last ? last[0] : null, cpu: last ? Math.round((last[1] + last[2]) * 1000) : null, stderr });
    });
  });
}

/** The load average now, as `1.2, 3.4, 5.6`. */
export const load = () => loadavg().map((x) => x.toFixed(1)).join(', ');

const BIN = fileURLToPath(new URL('../bin/vpccni.js', import.meta.url));

/** The sandbox's credentials and region for a CLI run against `serveSandbox`, with a kubectl cache in its home. */
export const sandboxCredentials = (info, home) => ({
  AWS_ACCESS_KEY_ID: 'sandbox',
  AWS_SECRET_ACCESS_KEY: 'sandbox',
  AWS_REGION: info.region,
  AWS_DEFAULT_REGION: info.region,
  KUBECACHEDIR: join(home, 'kube-cache'),
});

/**
 * Starts `vpccni sandbox serve …args` with a home of its own, and returns its info line, an environment that
 * points the CLI at it and nowhere else (no AWS profile, no IMDS; `set` adds or overrides variables), the
 * child (for its CPU time) and stop().
 */
export async function serveSandbox(args, set = () => ({})) {
  const home = mkdtempSync(join(tmpdir(), 'vpccni-bench-home-'));
  const child = spawn(process.execPath, [BIN, 'sandbox', 'serve', ...args, '--dir', home], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: home } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`sandbox serve exited with ${code}: ${stderr}`)));
  });
  const info = JSON.parse(line);
  const env = {
    ...process.env,
    HOME: home,
    NO_COLOR: '1',
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_EKS: info.eksEndpoint,
    AWS_ENDPOINT_URL_IAM: info.iamEndpoint,
    ...set(info, home),
  };
  delete env.AWS_PROFILE;
  return { info, env, child, stop: () => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGINT'))) };
}

/**
 * Writes `block` between the markers `<!-- bench-<name>:start -->` and `<!-- bench-<name>:end -->` of
 * bench/RESULTS.md, or appends it under `heading` the first time.
 */
export function writeResultsBlock(name, heading, block) {
  const results = fileURLToPath(new URL('RESULTS.md', import.meta.url));
  const start = `<!-- bench-${name}:start -->`;
  const end = `<!-- bench-${name}:end -->`;
  const previous = existsSync(results) ? readFileSync(results, 'utf8') : '# Benchmark results\n';
  const next = previous.includes(start)
    ? `${previous.slice(0, previous.indexOf(start))}${start}\n${block}\n${end}${previous.slice(previous.indexOf(end) + end.length)}`
    : `${previous.trimEnd()}\n\n## ${heading}\n\n${start}\n${block}\n${end}\n`;
  writeFileSync(results, next);
  log(`wrote ${results}`);
}
