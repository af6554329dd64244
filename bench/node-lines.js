#!/usr/bin/env node
// Start-up on the Node.js lines (issue 20), side by side in one run, interleaved, medians of wall and CPU
// (user + sys): this build on Node 24 and on Node 22 (the node24 / node22 devDependencies) with Node's compile
// cache warm, and on Node 24 with it off, against a baseline build on its own node, its cache warm too: the
// commit before this issue (14d1edb: a CommonJS bundle through bin/bundle-loader.cjs) on Node 20, built in a
// folder of its own outside the repository:
//   git clone . /tmp/vpccni-base && git -C /tmp/vpccni-base checkout 14d1edb
//   (cd /tmp/vpccni-base && npm ci && npm run build)      # with the Node 20 of the machine
//   node bench/node-lines.js --baseline /tmp/vpccni-base --baseline-node /usr/bin/node [--quick]
// Each CLI runs `--help` and `status` (exec kubeconfig, EKS token in-process) against one `sandbox serve`.
// Writes between its markers in bench/RESULTS.md.
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { load, log, ms, ratio, run, serveSandbox, writeResultsBlock, sandboxCredentials } from './lib.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const quick = process.argv.includes('--quick');
const N = quick ? 3 : 11;
const option = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const baseline = option('--baseline');
const baselineNode = option('--baseline-node') ?? 'node';
if (baseline && !existsSync(join(baseline, 'bin', 'vpccni.js'))) throw new Error(`--baseline ${baseline}: no bin/vpccni.js there`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const cpuMs = (x) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a');
const nodeOf = (line) => join(ROOT, 'node_modules', line, 'bin', 'node');
const versionOf = (node) => execFileSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
const commitOf = (dir) => execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();

/** The CLIs compared: name → node, launcher, extra environment. */
const CASES = {
  'node24 warm': { node: nodeOf('node24'), bin: join(ROOT, 'bin', 'vpccni.js'), env: {} },
  'node24 off': { node: nodeOf('node24'), bin: join(ROOT, 'bin', 'vpccni.js'), env: { VPCCNI_COMPILE_CACHE: '0' } },
  'node22 warm': { node: nodeOf('node22'), bin: join(ROOT, 'bin', 'vpccni.js'), env: {} },
  ...(baseline ? { 'baseline warm': { node: baselineNode, bin: join(baseline, 'bin', 'vpccni.js'), env: {} } } : {}),
  // This machine sets NODE_EXTRA_CA_CERTS (the system's CA bundle): Node 20 parses it as it starts, Node 22
  // and 24 only when a TLS connection first needs it. The same two without it show what is the line's.
  ...(baseline && process.env.NODE_EXTRA_CA_CERTS
    ? {
        'node24 warm, no extra CA': { node: nodeOf('node24'), bin: join(ROOT, 'bin', 'vpccni.js'), env: { NODE_EXTRA_CA_CERTS: undefined } },
        'baseline warm, no extra CA': { node: baselineNode, bin: join(baseline, 'bin', 'vpccni.js'), env: { NODE_EXTRA_CA_CERTS: undefined } },
      }
    : {}),
};

const loads = [`at the start: ${load()}`];
const s = await serveSandbox(['default'], (info, home) => ({
  ...sandboxCredentials(info, home),
  // One cache folder for all: each build and line keeps its entries apart (the old loader in v8-*, Node's
  // compile cache in compile-cache/<its version>).
  VPCCNI_CACHE_DIR: mkdtempSync(join(tmpdir(), 'vpccni-bench-lines-cache-')),
}));
const commands = {
  '--help': ['--help'],
  status: ['--cluster', s.info.cluster, '--region', s.info.region, '--kubeconfig', s.info.kubeconfigExec, 'status'],
};
const t = {};
const add = (key, r) => {
  (t[key] ??= { wall: [], cpu: [] }).wall.push(r.wall);
  t[key].cpu.push(r.cpu);
};
try {
  // Warm every cache first (the first run of a build writes it), and check each CLI works.
  for (const [name, c] of Object.entries(CASES)) {
    const r = await run(c.node, [c.bin, ...commands.status], { env: { ...s.env, ...c.env } });
    if (r.code !== 0) throw new Error(`${name} status: ${r.stderr}`);
  }
  for (let i = 0; i < N; i++) {
    for (const [command, args] of Object.entries(commands)) {
      for (const [name, c] of Object.entries(CASES)) {
        const r = await run(c.node, [c.bin, ...args], { env: { ...s.env, ...c.env } });
        if (r.code !== 0) throw new Error(`${name} ${command}: ${r.stderr}`);
        add(`${command}|${name}`, r);
      }
    }
    for (const [line, node] of Object.entries({ node24: nodeOf('node24'), node22: nodeOf('node22'), ...(baseline ? { baseline: baselineNode } : {}) })) {
      add(`node -e 0|${line}`, await run(node, ['-e', '0']));
    }
  }
} finally {
  await s.stop();
}
loads.push(`at the end: ${load()}`);
const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { wall: median(v.wall), cpu: median(v.cpu) }]));
log(JSON.stringify(m));

const names = Object.keys(CASES);
const row = (command) => `| \`${command}\` | ${names.map((n) => ms(m[`${command}|${n}`].wall)).join(' / ')} | ${names.map((n) => cpuMs(m[`${command}|${n}`].cpu)).join(' / ')} |`;
const versus = (command, a, b) => `${ratio(m[`${command}|${a}`].wall / m[`${command}|${b}`].wall)} wall, ${ratio(m[`${command}|${a}`].cpu / m[`${command}|${b}`].cpu)} CPU`;
const lines = [
  `Run ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}${quick ? ' (--quick)' : ''}; ${N} interleaved rounds; ${availableParallelism()} cores; load average (1, 5, 15 min) ${loads.join('; ')}.`,
  '',
  `CLIs: this build (${commitOf(ROOT)}, ES module bundle, Node's compile cache) on Node.js ${versionOf(nodeOf('node24'))} with the cache warm and off, and on ${versionOf(nodeOf('node22'))} warm` +
    (baseline ? `; the baseline ${commitOf(baseline)} (CommonJS bundle through bin/bundle-loader.cjs) on Node.js ${versionOf(baselineNode)}, its cache warm.` : '; no baseline given.'),
  '',
  `| command | wall, ${names.join(' / ')} | CPU (user + sys), ${names.join(' / ')} |`,
  '|---|---|---|',
  `| \`node -e 0\` | ${['node24', 'node22', ...(baseline ? ['baseline'] : [])].map((l) => ms(m[`node -e 0|${l}`].wall)).join(' / ')} (Node 24 / 22${baseline ? ' / baseline' : ''}) | ${['node24', 'node22', ...(baseline ? ['baseline'] : [])].map((l) => cpuMs(m[`node -e 0|${l}`].cpu)).join(' / ')} |`,
  row('--help'),
  row('status'),
  '',
  '| ratio | `--help` | `status` |',
  '|---|---|---|',
  ...(baseline
    ? [
        `| Node 24 warm ÷ baseline warm | ${versus('--help', 'node24 warm', 'baseline warm')} | ${versus('status', 'node24 warm', 'baseline warm')} |`,
        `| Node 22 warm ÷ baseline warm | ${versus('--help', 'node22 warm', 'baseline warm')} | ${versus('status', 'node22 warm', 'baseline warm')} |`,
      ]
    : []),
  ...(CASES['baseline warm, no extra CA']
    ? [`| the same without NODE_EXTRA_CA_CERTS: Node 24 warm ÷ baseline warm | ${versus('--help', 'node24 warm, no extra CA', 'baseline warm, no extra CA')} | ${versus('status', 'node24 warm, no extra CA', 'baseline warm, no extra CA')} |`]
    : []),
  `| Node 24 warm ÷ Node 24 cache off | ${versus('--help', 'node24 warm', 'node24 off')} | ${versus('status', 'node24 warm', 'node24 off')} |`,
];
const block = lines.join('\n');
process.stdout.write(`${block}\n`);
writeResultsBlock('lines', 'Start-up on the Node.js lines (issue 20)', block);
