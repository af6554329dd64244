#!/usr/bin/env node
// `vpccni fleet check` of 200 sandbox clusters at 100 ms per call (`npm run build && node bench/fleet.js`).
// Writes its numbers between the bench-fleet markers of bench/RESULTS.md (the rest of the file is kept).
//
// The fleet: 200 clusters over 2 regions and 2 accounts, each with the managed add-on and an IRSA role,
// served by one `vpccni sandbox serve <file> --latency 100` (100 ms added to every EKS, IAM, STS and
// Kubernetes API call). The CLI discovers them with ListClusters per region and account (a role assumed per
// account) and reads them `--concurrency 8` at a time.
//
// Ideal = clusters ÷ concurrency × one cluster's critical path of dependent round trips, where the critical
// path (src/gather/facts.ts, src/gather/modern.ts, src/gather/fleet-access.ts) is:
//   DescribeCluster → the Kubernetes reads (asked for at once, one HTTP/2 connection; it needs the endpoint) = 2
//   ListInsights → DescribeInsight                                                                        = 2
//   DescribeAddon, ListPodIdentityAssociations: 1 each, alongside; the add-on role and its policies, the OIDC
//   providers and the catalogue are read once per account and region (shared), so 0 for most clusters
// so 2 round trips = 200 ms; discovery (AssumeRole → ListClusters) adds 2 more once, in front, and the first
// clusters of each account and region wait once for the role's policies (DescribeAddon → ListAttachedRolePolicies
// → GetPolicy → GetPolicyVersion, GetRole beside them); the clusters are read round-robin over the accounts and
// regions, so the first wave waits for all of those chains at once.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCOUNTS, REGIONS, fleetScenarioYaml } from './fleet-scenario.js';
import { serveSandbox, writeResultsBlock } from './lib.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'vpccni.js');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const CLUSTERS = Number(process.env.FLEET_CLUSTERS ?? 200);
const CONCURRENCY = Number(process.env.FLEET_CONCURRENCY ?? 8);
const LATENCY = 100;
const CRITICAL_PATH = 2;
const ROUNDS = Number(process.env.FLEET_ROUNDS ?? 3);
const log = (text) => process.stderr.write(`${text}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function scenarioFile(dir) {
  const file = join(dir, 'bench-fleet.yaml');
  writeFileSync(file, fleetScenarioYaml(CLUSTERS, 'bench'));
  return file;
}

async function serve(file, latency) {
  const served = await serveSandbox([file, ...(latency ? ['--latency', String(latency)] : [])], (info) => ({
    AWS_ENDPOINT_URL_STS: info.stsEndpoint,
    AWS_ACCESS_KEY_ID: info.accounts[0].accessKeyId,
    AWS_SECRET_ACCESS_KEY: info.accounts[0].secretAccessKey,
    AWS_REGION: REGIONS[0],
  }));
  return { ...served, cpu: () => processCpu(served.child.pid) };
}

/** User + system CPU time of a running process so far, ms (Linux /proc; null elsewhere). */
function processCpu(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = 100;

function fleetCheck(env) {
  const args = [
    BIN, 'fleet', 'check', '--regions', REGIONS.join(','), '--role-arn-template', 'arn:aws:iam::{account}:role/VpccniFleetReadOnly',
    '--accounts', ACCOUNTS.join(','), '--concurrency', String(CONCURRENCY), '--cluster-timeout', '120s', '--output', 'json',
  ];
  const rssFile = TIME ? join(mkdtempSync(join(tmpdir(), 'vpccni-bench-rss-')), 'rss') : null;
  const [file, argv] = rssFile ? [TIME, ['-f', '%M %U %S', '-o', rssFile, 'node', ...args]] : ['node', args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = performance.now() - started;
      const [kib, user, sys] = rssFile ? readFileSync(rssFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number) : [null, null, null];
      const rssKiB = kib;
      const cpu = user === null ? null : (user + sys) * 1000;
      let rows = 0;
      let errors = 0;
      try {
        const doc = JSON.parse(stdout);
        rows = doc.clusters.length;
        errors = doc.clusters.filter((c) => c.error !== null).length;
      } catch {
        /* reported below */
      }
      resolve({ wall, code, rssKiB, cpu, rows, errors, stderr, load: loadavg()[0] });
    });
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'vpccni-bench-fleet-scenario-'));
  const file = scenarioFile(dir);
  const results = {};
  for (const latency of [LATENCY, 0]) {
    log(`Serving ${CLUSTERS} clusters at ${latency} ms per call…`);
    const served = await serve(file, latency);
    const runs = [];
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const before = served.cpu();
        const r = await fleetCheck(served.env);
        const after = served.cpu();
        r.serverCpu = before === null || after === null ? null : after - before;
        log(`  run ${i + 1}: ${Math.round(r.wall)} ms, CPU ${Math.round(r.cpu ?? 0)} ms (server ${Math.round(r.serverCpu ?? 0)} ms), exit ${r.code}, ${r.rows} rows, ${r.errors} unreadable, peak RSS ${r.rssKiB} KiB, load ${loadavg()[0].toFixed(1)}`);
        if (r.rows !== CLUSTERS) log(`  stderr: ${r.stderr.split('\n').slice(0, 5).join(' | ')}`);
        runs.push(r);
      }
    } finally {
      await served.stop();
    }
    results[latency] = runs;
  }
  const slow = results[LATENCY];
  const fast = results[0];
  const wall = median(slow.map((r) => r.wall));
  const fixed = median(fast.map((r) => r.wall));
  const ideal = (CLUSTERS / CONCURRENCY) * CRITICAL_PATH * LATENCY;
  const cpu = median(slow.map((r) => r.cpu ?? 0));
  const serverCpu = median(slow.map((r) => r.serverCpu ?? 0));
  // On an idle 2-core machine the CLI (one thread) and the server each have a core: the wall is at least the
  // larger of their CPU times and of the round trips (discovery's 2 in front of the ideal). A bound, not a run.
  const idleBound = Math.max(cpu, serverCpu, ideal + 2 * LATENCY);
  const loads = slow.map((r) => r.load);
  const rss = Math.max(...slow.map((r) => r.rssKiB ?? 0), ...fast.map((r) => r.rssKiB ?? 0)) / 1024;
  const ok = slow.every((r) => r.rows === CLUSTERS && r.errors === 0 && (r.code === 0 || r.code === 1));
  const load = loadavg().map((l) => l.toFixed(1)).join(', ');
  const block = [
    `Run ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}: ${CLUSTERS} clusters, 2 regions, 2 accounts, \`--concurrency ${CONCURRENCY}\`, ${ROUNDS} runs each (medians).`,
    '',
    `Machine: ${availableParallelism()} cores, Node.js ${process.version}, 1-minute load average at the end of each ${LATENCY} ms run ${loads.map((l) => l.toFixed(1)).join(', ')}; at the end ${load}.`,
    '',
    '| measure | value | target |',
    '|---|---|---|',
    `| wall, ${LATENCY} ms per call | ${Math.round(wall)} ms | |`,
    `| ideal (${CLUSTERS} ÷ ${CONCURRENCY} × ${CRITICAL_PATH} round trips × ${LATENCY} ms) | ${Math.round(ideal)} ms | |`,
    `| wall ÷ ideal | ${(wall / ideal).toFixed(2)}× | ≤ 1.5× ${wall / ideal <= 1.5 ? '(met)' : '(**not met**)'} |`,
    `| wall, no added latency (the fixed costs: Node, the SDK, signing, JSON) | ${Math.round(fixed)} ms | |`,
    `| CPU time of the CLI (user + sys), ${LATENCY} ms per call | ${Math.round(cpu)} ms (${(cpu / CLUSTERS).toFixed(1)} ms a cluster, start-up included) | |`,
    `| CPU time of the sandbox server during a run | ${Math.round(serverCpu)} ms (${(serverCpu / CLUSTERS).toFixed(1)} ms a cluster) | |`,
    `| wall an idle 2-core machine allows at least: max(CLI CPU, server CPU, ideal + discovery) | ${Math.round(idleBound)} ms = ${(idleBound / ideal).toFixed(2)}× the ideal | ≤ 1.5× ${idleBound / ideal <= 1.5 ? '(within reach)' : '(**out of reach**)'} |`,
    `| peak RSS of the CLI | ${rss.toFixed(0)} MB | < 300 MB ${rss < 300 ? '(met)' : '(**not met**)'} |`,
    `| every cluster read (exit 0 or 1, never 3) | ${ok ? 'yes' : '**no**'} | |`,
    '',
    `All runs, ms (${LATENCY} ms per call): ${slow.map((r) => Math.round(r.wall)).join(', ')}; (no latency): ${fast.map((r) => Math.round(r.wall)).join(', ')}.`,
  ].join('\n');
  writeResultsBlock('fleet', `fleet check of ${CLUSTERS} clusters`, block);
  process.stdout.write(`${block}\n`);
}

await main();
