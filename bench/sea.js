#!/usr/bin/env node
// The single executable (issue 20): dist/sea/vpccni-linux-x64 (`npm run build:sea`, Node.js 24 inside) beside
// the installed CLI (bin/vpccni.js, the bundle with its code cache warm) on the machine's Node.js and on Node.js
// 24 (the devDependency node24), and beside the floor (bench/floor/four-calls.cjs) on both, interleaved in one
// run, medians, wall and CPU (user + sys, /usr/bin/time):
//  - start-up: `node -e 0`, `--version`, and `status` against a sandbox with no latency (warm: each runner's
//    code cache written by a first run);
//  - `status` at 100 ms per call against its critical path of 4 dependent round trips (counted in
//    bench/kube-client.js, latency()) and against the floor at the same latency.
// Run by bench/run.js after kube-client.js, or alone: `node bench/sea.js [--quick]` (after `npm run build:sea`).
// Writes between the bench-sea markers of bench/RESULTS.md.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, log, ms, ratio, run, serveSandbox, writeResultsBlock, sandboxCredentials } from './lib.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'vpccni.js');
const SEA = join(ROOT, 'dist', 'sea', 'vpccni-linux-x64');
const NODE24 = join(ROOT, 'node_modules', 'node24', 'bin', 'node');
const FLOOR = join(ROOT, 'bench', 'floor', 'four-calls.cjs');
const quick = process.argv.includes('--quick');
const N = quick ? 3 : 9;
const LATENCY = 100;
/** `status`'s dependent round trips (bench/kube-client.js, latency()). */
const IDEAL_TRIPS = 4;

for (const [file, how] of [[SEA, 'npm run build:sea'], [NODE24, 'npm ci']]) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run ${how} first`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const serve = (args) =>
  serveSandbox(args, sandboxCredentials);

/** The three ways to run vpccni: [command, arguments before vpccni's own]. */
const RUNNERS = {
  node: ['node', [BIN]],
  node24: [NODE24, [BIN]],
  sea: [SEA, []],
};
const nodeVersions = { node: process.version, node24: readFileSync(join(ROOT, 'node_modules', 'node24', 'package.json'), 'utf8').match(/"version":\s*"([^"]+)"/)?.[1] };

const loads = [`at the start: ${load()}`];
const fast = await serve(['default']);
const slow = await serve(['default', '--latency', String(LATENCY)]);
const status = (s) => ['--cluster', s.info.cluster, '--region', s.info.region, '--kubeconfig', s.info.kubeconfigExec, 'status'];
/** name → [command, args, env] */
const cases = {};
for (const [runner, [cmd, pre]] of Object.entries(RUNNERS)) {
  if (runner !== 'sea') cases[`node -e 0|${runner}`] = [cmd, ['-e', '0'], fast.env];
  cases[`--version|${runner}`] = [cmd, [...pre, '--version'], fast.env];
  cases[`status 0 ms|${runner}`] = [cmd, [...pre, ...status(fast)], fast.env];
  cases[`status 100 ms|${runner}`] = [cmd, [...pre, ...status(slow)], slow.env];
  if (runner !== 'sea') cases[`floor 100 ms|${runner}`] = [cmd, [FLOOR, slow.info.cluster], slow.env];
}
const t = Object.fromEntries(Object.keys(cases).map((k) => [k, { wall: [], cpu: [] }]));
try {
  // Each runner's first status writes its code cache (bin/bundle-loader.cjs; the single executable has its code in its blob).
  for (const [cmd, args, env] of Object.values(cases)) await run(cmd, args, { env });
  for (let i = 0; i < N; i++) {
    for (const [name, [cmd, args, env]] of Object.entries(cases)) {
      const r = await run(cmd, args, { env });
      if (r.code !== 0) throw new Error(`${name}: exit ${r.code}: ${r.stderr}`);
      t[name].wall.push(r.wall);
      t[name].cpu.push(r.cpu);
    }
  }
} finally {
  await fast.stop();
  await slow.stop();
}
loads.push(`at the end: ${load()}`);
const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { wall: median(v.wall), cpu: median(v.cpu) }]));
log(JSON.stringify(m));

const critical = IDEAL_TRIPS * LATENCY;
const cell = (key) => (m[key] ? `${ms(m[key].wall)} / ${ms(m[key].cpu)}` : '–');
const path = (key) => (m[key] ? ` (${ratio(m[key].wall / critical)})` : '');
const row = (label, what, note = () => '') => `| ${label} | ${Object.keys(RUNNERS).map((r) => `${cell(`${what}|${r}`)}${note(`${what}|${r}`)}`).join(' | ')} |`;
const block = [
  `Run ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}${quick ? ' (--quick)' : ''}; ${N} interleaved rounds of every case, medians; sandbox over HTTPS with EKS-token auth (the token made in-process); ${availableParallelism()} cores. Load average (1, 5, 15 min) ${loads.join('; ')}.`,
  '',
  `Each cell: wall / CPU (user + sys). \`bin/vpccni.js\` runs the bundle with its code cache warm; vpccni-linux-x64 is the single executable (Node.js ${nodeVersions.node24} inside, its code cache in its blob). In brackets at 100 ms per call: the share of the critical path (${IDEAL_TRIPS} round trips, ${ms(critical)}).`,
  '',
  `| measure | \`node bin/vpccni.js\`, Node.js ${nodeVersions.node} | \`node24 bin/vpccni.js\`, Node.js ${nodeVersions.node24} | \`vpccni-linux-x64\` |`,
  '|---|---|---|---|',
  row('`node -e 0`', 'node -e 0'),
  row('`--version`', '--version'),
  row('`status`, 0 ms per call', 'status 0 ms'),
  row(`\`status\`, ${LATENCY} ms per call`, 'status 100 ms', path),
  row(`the floor (bench/floor/four-calls.cjs: the SDK's EKS client alone, ${IDEAL_TRIPS} dependent calls), ${LATENCY} ms per call`, 'floor 100 ms', path),
  '',
  `\`status\` at ${LATENCY} ms per call: vpccni-linux-x64 is ${ratio(m['status 100 ms|sea'].wall / m['status 100 ms|node'].wall)} the wall of \`node bin/vpccni.js\` (CPU ${ratio(m['status 100 ms|sea'].cpu / m['status 100 ms|node'].cpu)}) and ${ratio(m['status 100 ms|sea'].wall / m['floor 100 ms|node'].wall)} the floor on Node.js ${nodeVersions.node} (${ratio(m['status 100 ms|sea'].wall / m['floor 100 ms|node24'].wall)} the floor on Node.js ${nodeVersions.node24}).`,
].join('\n');
process.stdout.write(`${block}\n`);

writeResultsBlock('sea', 'The single executable (issue 20)', block);
