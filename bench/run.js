#!/usr/bin/env node
// vpccni benchmarks (`npm run bench`): start-up, `status` against a slow API, a three-step upgrade, peak RSS.
// Every ratio is measured within one run (the machine is shared and noisy): medians of interleaved runs.
// Writes the results between the markers of bench/RESULTS.md; the notes around them are kept.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, ms, ratio, run, serveSandbox } from './lib.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'vpccni.js');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const LATENCY = 100;
const quick = process.argv.includes('--quick');
const N = { startup: quick ? 5 : 15, status: quick ? 3 : 7, manual: quick ? 1 : 3, upgrade: quick ? 1 : 3 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};


/** Starts `vpccni sandbox serve` and returns its info line, an environment that points at it, and stop(). */
const serve = (args) =>
  serveSandbox(args, (info) => ({
    KUBECONFIG: info.kubeconfig,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: info.region,
    AWS_DEFAULT_REGION: info.region,
    AWS_PAGER: '',
  }));

function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  let kubectl = 'unknown';
  let aws = 'not installed';
  try {
    kubectl = execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    kubectl = JSON.parse(kubectl).clientVersion.gitVersion;
  } catch {
    /* keep unknown */
  }
  try {
    aws = execFileSync('aws', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split(' ')[0];
  } catch {
    /* keep */
  }
  return { nproc: availableParallelism(), node: process.version, cpu, kubectl, aws };
}

async function startup() {
  const cases = { 'node -e 0': ['-e', '0'], 'vpccni --version': [BIN, '--version'], 'vpccni --help': [BIN, '--help'] };
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < N.startup; i++) {
    for (const [name, args] of Object.entries(cases)) times[name].push((await run('node', args)).wall);
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  return { medians: m, version: m['vpccni --version'] / m['node -e 0'], help: m['vpccni --help'] / m['node -e 0'] };
}

/**
 * The longest chain of dependent network calls of `status` (src/facts.ts, src/gateways/*.ts):
 *   AWS:  DescribeAddon → GetRole ‖ ListAttachedRolePolicies                      = 2 round trips
 *         (DescribeCluster, DescribeAddonVersions (one page of 100), ListOpenIDConnectProviders: 1 each)
 *   kube: each read is one kubectl: the dispatcher's GET /version → kubectl's discovery GET /api, GET /apis
 *         (only with a cold discovery cache) → one GET (a list with a name field selector)
 *                                                                                = 2 warm, 4 cold
 * So the ideal is 2 × latency with a warm kubectl cache and 4 × latency with a cold one.
 */
const IDEAL_CHAIN = { warm: 2, cold: 4 };

async function status() {
  const slow = await serve(['default', '--latency', String(LATENCY)]);
  const fast = await serve(['default']);
  const flags = (s) => ['--cluster', s.info.cluster, '--region', s.info.region, 'status'];
  const cache = { slow: mkdtempSync(join(tmpdir(), 'vpccni-bench-kc-')), fast: mkdtempSync(join(tmpdir(), 'vpccni-bench-kc-')) };
  const manualSteps = (env) => [
    ['kubectl', ['describe', 'daemonset', 'aws-node', '-n', 'kube-system']],
    ['aws', ['eks', 'describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--query', 'addon.addonVersion', '--output', 'text']],
    ['aws', ['eks', 'describe-addon-versions', '--kubernetes-version', '1.27', '--addon-name', 'vpc-cni', '--query', 'addons[].addonVersions[].[addonVersion, compatibilities[].defaultVersion]', '--output', 'text']],
    ['aws', ['eks', 'describe-cluster', '--name', 'demo', '--query', 'cluster.version', '--output', 'text']],
    ['kubectl', ['get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'yaml']],
  ].map(([cmd, args]) => ({ cmd, args, env }));
  try {
    const warmSlow = { ...slow.env, KUBECACHEDIR: cache.slow };
    const warmFast = { ...fast.env, KUBECACHEDIR: cache.fast };
    // Warm the kubectl caches (discovery, the dispatcher's /version) as a user's second run finds them.
    await run('node', [BIN, ...flags(slow)], { env: warmSlow });
    await run('node', [BIN, ...flags(fast)], { env: warmFast });
    const t = { warm: [], cold: [], zero: [], manual: [], rss: [] };
    let haveAws = true;
    for (let i = 0; i < N.status; i++) {
      const w = await run('node', [BIN, ...flags(slow)], { env: warmSlow, rss: true });
      if (w.code !== 0) throw new Error(`status failed: ${w.stderr}`);
      t.warm.push(w.wall);
      if (w.rssKiB) t.rss.push(w.rssKiB);
      const coldCache = mkdtempSync(join(tmpdir(), 'vpccni-bench-kc-'));
      t.cold.push((await run('node', [BIN, ...flags(slow)], { env: { ...slow.env, KUBECACHEDIR: coldCache } })).wall);
      rmSync(coldCache, { recursive: true, force: true });
      t.zero.push((await run('node', [BIN, ...flags(fast)], { env: warmFast })).wall);
      if (haveAws && i < N.manual) {
        let total = 0;
        for (const step of manualSteps(warmSlow)) {
          const r = await run(step.cmd, step.args, { env: step.env }).catch(() => null);
          if (!r || r.code !== 0) {
            haveAws = false;
            log(`manual step ${step.cmd} ${step.args.slice(0, 2).join(' ')} failed: ${r?.stderr ?? 'not found'}`);
            break;
          }
          total += r.wall;
        }
        if (haveAws) t.manual.push(total);
      }
    }
    const m = { warm: median(t.warm), cold: median(t.cold), zero: median(t.zero), manual: t.manual.length ? median(t.manual) : null };
    return {
      medians: m,
      rssKiB: t.rss.length ? median(t.rss) : null,
      ideal: { warm: IDEAL_CHAIN.warm * LATENCY, cold: IDEAL_CHAIN.cold * LATENCY },
      vsIdealWarm: m.warm / (IDEAL_CHAIN.warm * LATENCY),
      vsIdealCold: m.cold / (IDEAL_CHAIN.cold * LATENCY),
      // What the latency adds, against what it must add: the same binary at 0 ms takes the fixed costs.
      latencyEfficiency: (m.warm - m.zero) / (IDEAL_CHAIN.warm * LATENCY),
      vsManual: m.manual ? m.warm / m.manual : null,
    };
  } finally {
    await slow.stop();
    await fast.stop();
  }
}

const UPDATE_MS = 3000;
const ROLLOUT_MS = 100;

async function upgrade() {
  const dir = mkdtempSync(join(tmpdir(), 'vpccni-bench-upgrade-'));
  // Kubernetes 1.25 with the add-on at v1.11.4: latest for 1.25 (v1.14.0-eksbuild.3) is three steps away.
  const scenario = join(dir, 'three-steps.yaml');
  writeFileSync(
    scenario,
    [
      'name: three-steps',
      'description: Kubernetes 1.25 with the EKS add-on at v1.11.4-eksbuild.1, three minor versions below latest.',
      'cluster:',
      '  kubernetesVersion: "1.25"',
      'addon:',
      '  version: v1.11.4-eksbuild.1',
      'daemonSet:',
      '  manifest: v1.11.4',
      '  imageTag: v1.11.4-eksbuild.1',
      '',
    ].join('\n'),
  );
  const walls = [];
  const rss = [];
  for (let i = 0; i < N.upgrade; i++) {
    const s = await serve([scenario, '--update-duration', String(UPDATE_MS), '--rollout-duration', String(ROLLOUT_MS)]);
    try {
      const env = { ...s.env, KUBECACHEDIR: join(dir, `kc-${i}`) };
      const r = await run(
        'node',
        [BIN, '--cluster', s.info.cluster, '--region', s.info.region, 'upgrade', '--to', 'latest', '--yes', '--backup-dir', join(dir, `b-${i}`)],
        { env, rss: true },
      );
      if (r.code !== 0) throw new Error(`upgrade failed (${r.code}): ${r.stderr}`);
      if (!/Step 3\/3: done/.test(r.stderr)) throw new Error(`expected three steps:\n${r.stderr}`);
      walls.push(r.wall);
      if (r.rssKiB) rss.push(r.rssKiB);
    } finally {
      await s.stop();
    }
  }
  const wall = median(walls);
  const floor = 3 * (UPDATE_MS + ROLLOUT_MS);
  return { wall, floor, overhead: (wall - floor) / (3 * UPDATE_MS), rssKiB: rss.length ? median(rss) : null };
}

function render(m, s, st, u) {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const pass = (ok) => (ok ? 'met' : '**missed**');
  const lines = [
    `Run ${date}${quick ? ' (--quick: fewer runs)' : ''}.`,
    '',
    `Machine: ${m.nproc} cores (\`nproc\`), ${m.cpu}, Node.js ${m.node}, kubectl ${m.kubectl}, ${m.aws}.`,
    '',
    '| measure | median | ratio | target |',
    '|---|---|---|---|',
    `| \`node -e 0\` | ${ms(s.medians['node -e 0'])} | 1.00× | |`,
    `| \`vpccni --version\` | ${ms(s.medians['vpccni --version'])} | ${ratio(s.version)} of node -e 0 | < 2× (${pass(s.version < 2)}) |`,
    `| \`vpccni --help\` | ${ms(s.medians['vpccni --help'])} | ${ratio(s.help)} of node -e 0 | |`,
    `| \`status\`, ${LATENCY} ms per call, warm kubectl cache | ${ms(st.medians.warm)} | ${ratio(st.vsIdealWarm)} of ideal ${ms(st.ideal.warm)} | < 1.5× (${pass(st.vsIdealWarm < 1.5)}) |`,
    `| \`status\`, ${LATENCY} ms per call, cold kubectl cache | ${ms(st.medians.cold)} | ${ratio(st.vsIdealCold)} of ideal ${ms(st.ideal.cold)} | |`,
    `| \`status\`, 0 ms per call (fixed costs) | ${ms(st.medians.zero)} | latency added ${ms(st.medians.warm - st.medians.zero)} = ${ratio(st.latencyEfficiency)} of the ideal ${ms(st.ideal.warm)} | |`,
    st.medians.manual
      ? `| manual procedure (2 × kubectl, 3 × aws, in a row), ${LATENCY} ms per call | ${ms(st.medians.manual)} | status takes ${ratio(st.vsManual)} of it | < 1× (${pass(st.vsManual < 1)}) |`
      : '| manual procedure | not measured (no AWS CLI) | | |',
    `| three-step \`upgrade\`, ${UPDATE_MS} ms per update, ${ROLLOUT_MS} ms per rollout | ${ms(u.wall)} | overhead ${(u.overhead * 100).toFixed(1)} % of the update time (floor ${ms(u.floor)}) | < 10 % (${pass(u.overhead < 0.1)}) |`,
    `| peak RSS, \`status\` | ${st.rssKiB ? `${Math.round(st.rssKiB / 1024)} MiB` : 'n/a'} | | |`,
    `| peak RSS, \`upgrade\` | ${u.rssKiB ? `${Math.round(u.rssKiB / 1024)} MiB` : 'n/a'} | | |`,
    '',
    `Runs: start-up ${N.startup} each (interleaved), status ${N.status} of each kind (interleaved), manual ${N.manual}, upgrade ${N.upgrade}. Peak RSS from \`/usr/bin/time -f %M\` (the node process; kubectl children are smaller).`,
  ];
  return lines.join('\n');
}

const m = machine();
log(`machine: ${JSON.stringify(m)}`);
log('start-up…');
const s = await startup();
log(`  --version ${ratio(s.version)}, --help ${ratio(s.help)} of node -e 0`);
log(`status against sandbox serve --latency ${LATENCY}…`);
const st = await status();
log(`  warm ${ms(st.medians.warm)} (${ratio(st.vsIdealWarm)} ideal), cold ${ms(st.medians.cold)} (${ratio(st.vsIdealCold)}), 0 ms ${ms(st.medians.zero)}, manual ${st.medians.manual ? ms(st.medians.manual) : 'n/a'}`);
log(`three-step upgrade, ${UPDATE_MS} ms per update…`);
const u = await upgrade();
log(`  ${ms(u.wall)}, overhead ${(u.overhead * 100).toFixed(1)} %`);

const block = render(m, s, st, u);
process.stdout.write(`${block}\n`);
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';
const previous = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : `# Benchmark results\n\n${START}\n${END}\n`;
const [head, rest = ''] = previous.includes(START) ? previous.split(START) : [`${previous.trimEnd()}\n\n`, `\n${END}\n`];
const tail = rest.includes(END) ? rest.slice(rest.indexOf(END) + END.length) : '\n';
writeFileSync(RESULTS, `${head}${START}\n${block}\n${END}${tail}`);
log(`wrote ${RESULTS}`);

// The Kubernetes client's measures (issue 12): bench/kube-client.js, in the same run.
if (!process.argv.includes('--no-kube')) await import('./kube-client.js');
// The single executable beside Node.js 20 and 24 (issue 20): bench/sea.js (`npm run bench` builds it first).
if (!process.argv.includes('--no-sea')) await import('./sea.js');
