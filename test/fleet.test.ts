/**
 * `vpccni fleet`, in-process: selection (selectors, fleet files, credential sources), the concurrency bound
 * and the per-cluster timeout with driven gates (no sleeps), the renderers and exit codes, and one read of
 * the whole `fleet` sandbox scenario through the real SDK and the in-process Kubernetes client.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetFlags } from '../src/commands/fleet-flags.js';
import { fleetRows } from '../src/commands/fleet.js';
import { failedRow, fleetExitCode, fleetReport, githubMatrix, notUpgradable, type FleetMode, type FleetRow } from '../src/decide/fleet.js';
import { UsageError } from '../src/errors.js';
import type { GatheredFacts, Gateways } from '../src/gather/facts.js';
import { createFleetAccess, eksTokenSource, type FleetAccess } from '../src/gather/fleet-access.js';
import { credentialSources, matchesSelector, parseSelector, readFleetFile, type FleetTarget } from '../src/gather/fleet-targets.js';
import { readFleet, type ClusterOutcome, type Deadline } from '../src/gather/fleet.js';
import { publishFleetSummary, renderFleetDocument, renderFleetMarkdown, renderFleetText } from '../src/render/fleet.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { schemaErrors } from './helpers/schemas.js';

/** A promise the test resolves. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const target = (cluster: string, labels: Record<string, string> = {}, region = 'us-west-2'): FleetTarget => ({
  cluster,
  region,
  account: '111122223333',
  labels,
});

/** Access whose gateways are never used (the tests drive `gather`), recording the abort signals it got. */
function fakeAccess(): FleetAccess & { signals: Map<string, AbortSignal> } {
  const signals = new Map<string, AbortSignal>();
  return {
    signals,
    listClusters: () => Promise.reject(new Error('not used')),
    open(t, signal) {
      signals.set(t.cluster, signal);
      return Promise.resolve({ gateways: { cluster: t.cluster } as unknown as Gateways, close: () => undefined });
    },
    close: () => undefined,
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'vpccni-fleet-'));

describe('selection', () => {
  it('ANDs the pairs of a selector over file labels and the implicit cluster, region and account labels', () => {
    const selector = parseSelector('env=prod, wave=1');
    expect(selector).toEqual([
      ['env', 'prod'],
      ['wave', '1'],
    ]);
    expect(matchesSelector(target('a', { env: 'prod', wave: '1' }), selector)).toBe(true);
    expect(matchesSelector(target('b', { env: 'prod', wave: '2' }), selector)).toBe(false);
    expect(matchesSelector(target('c', { env: 'prod' }), selector)).toBe(false);
    expect(matchesSelector(target('d', {}, 'eu-west-1'), parseSelector('region=eu-west-1,account=111122223333'))).toBe(true);
    expect(matchesSelector(target('d'), [])).toBe(true);
    expect(() => parseSelector('env')).toThrow(UsageError);
  });

  it('reads a fleet file, taking the account from a role ARN and labels as strings', () => {
    const file = join(tmp(), 'fleet.yaml');
    writeFileSync(
      file,
      [
        'clusters:',
        '  - { cluster: prod-a, region: us-west-2, roleArn: "arn:aws:iam::444455556666:role/Reader", labels: { env: prod, wave: 1 } }',
        '  - { cluster: stage-a, region: eu-west-1, profile: stage, context: stage-ctx }',
      ].join('\n'),
    );
    expect(readFleetFile(file)).toEqual([
      { cluster: 'prod-a', region: 'us-west-2', account: '444455556666', roleArn: 'arn:aws:iam::444455556666:role/Reader', labels: { env: 'prod', wave: '1' } },
      { cluster: 'stage-a', region: 'eu-west-1', account: null, profile: 'stage', context: 'stage-ctx', labels: {} },
    ]);
  });

  it('refuses a fleet file that breaks its schema, naming where', () => {
    const file = join(tmp(), 'fleet.yaml');
    writeFileSync(file, 'clusters:\n  - { cluster: a, region: us-west-2, profile: p, roleArn: "arn:aws:iam::111122223333:role/R" }\n');
    expect(() => readFleetFile(file)).toThrow(/not valid at \/clusters\/0/);
    writeFileSync(file, 'clusters:\n  - { cluster: a }\n');
    expect(() => readFleetFile(file)).toThrow(UsageError);
  });

  it('makes one credential source per account from a role template, per profile, or the default chain', () => {
    expect(credentialSources({ roleArnTemplate: 'arn:aws:iam::{account}:role/R', accounts: ['111122223333', '444455556666'] })).toEqual([
      { roleArn: 'arn:aws:iam::111122223333:role/R', account: '111122223333' },
      { roleArn: 'arn:aws:iam::444455556666:role/R', account: '444455556666' },
    ]);
    expect(credentialSources({ profiles: ['a', 'b'] })).toEqual([
      { profile: 'a', account: null },
      { profile: 'b', account: null },
    ]);
    expect(credentialSources({})).toEqual([{ account: null }]);
    expect(() => credentialSources({ roleArnTemplate: 'arn:aws:iam::1:role/R', accounts: ['1'] })).toThrow(/\{account\}/);
    expect(() => credentialSources({ roleArnTemplate: 'arn:aws:iam::{account}:role/R' })).toThrow(/--accounts/);
  });

  it('refuses bad flags before any call', () => {
    const g = { region: 'us-west-2' };
    expect(() => fleetFlags('status', {}, { ...g, output: 'yaml' })).toThrow(/--output/);
    expect(() => fleetFlags('status', { concurrency: '0' }, g)).toThrow(/--concurrency/);
    expect(() => fleetFlags('status', { clusterTimeout: 'soon' }, g)).toThrow(/--cluster-timeout/);
    expect(() => fleetFlags('check', { kubernetesVersion: 'one' }, g)).toThrow(UsageError);
    expect(() => fleetFlags('plan', { to: 'newest' }, g)).toThrow(/--to/);
    expect(() => fleetFlags('status', { fleet: 'f.yaml', regions: 'us-west-2' }, g)).toThrow(/--fleet/);
    expect(fleetFlags('check', { regions: 'a-b-1,c-d-2', concurrency: '3' }, {}).regions).toEqual(['a-b-1', 'c-d-2']);
  });
});

describe('concurrency and timeouts (driven gates)', () => {
  it('never reads more than --concurrency clusters at once, and reads them all', async () => {
    const targets = Array.from({ length: 7 }, (_, i) => target(`c${i}`));
    const gates = new Map(targets.map((t) => [t.cluster, gate()]));
    const started: string[] = [];
    let inFlight = 0;
    let peak = 0;
    const startedNext = new Set<() => void>();
    const gather = async (gw: Gateways): Promise<GatheredFacts> => {
      const name = (gw as unknown as { cluster: string }).cluster;
      started.push(name);
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      for (const wake of startedNext) wake();
      await gates.get(name)!.promise;
      inFlight -= 1;
      return { cluster: { name } } as unknown as GatheredFacts;
    };
    const waitForStarted = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (started.length >= n) {
            startedNext.delete(check);
            resolve();
          }
        };
        startedNext.add(check);
        check();
      });
    const run = readFleet(targets, fakeAccess(), { concurrency: 3, clusterTimeoutMs: 60_000, gather });
    await waitForStarted(3);
    expect(started).toEqual(['c0', 'c1', 'c2']);
    gates.get('c1')!.open();
    await waitForStarted(4);
    expect(started).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(inFlight).toBe(3);
    for (const g of gates.values()) g.open();
    const outcomes = await run;
    expect(peak).toBe(3);
    expect(outcomes.map((o) => o.target.cluster)).toEqual(targets.map((t) => t.cluster));
    expect(outcomes.every((o) => 'facts' in o)).toBe(true);
  });

  it('starts the first wave with a cluster of every account and region (their shared reads at once), and keeps the rows in the order found', async () => {
    // As discovery lists them: each account and region's clusters together.
    const targets = ['111122223333', '444455556666'].flatMap((account) =>
      ['us-west-2', 'eu-west-1'].flatMap((region) =>
        [0, 1, 2].map((i) => ({ ...target(`${account.slice(0, 1)}-${region}-${i}`, {}, region), account, roleArn: `arn:aws:iam::${account}:role/R` })),
      ),
    );
    const release = gate();
    const started: string[] = [];
    const firstWave = gate();
    const gather = async (gw: Gateways): Promise<GatheredFacts> => {
      const name = (gw as unknown as { cluster: string }).cluster;
      started.push(name);
      if (started.length === 4) firstWave.open();
      await release.promise;
      return { cluster: { name } } as unknown as GatheredFacts;
    };
    const run = readFleet(targets, fakeAccess(), { concurrency: 4, clusterTimeoutMs: 60_000, gather });
    await firstWave.promise;
    expect(started).toEqual(['1-us-west-2-0', '1-eu-west-1-0', '4-us-west-2-0', '4-eu-west-1-0']);
    release.open();
    const outcomes = await run;
    expect(started).toHaveLength(targets.length);
    expect(outcomes.map((o) => o.target.cluster)).toEqual(targets.map((t) => t.cluster));
  });

  it('starts the next cluster before deciding the one that finished (its requests go out first), and decides every one', async () => {
    const events: string[] = [];
    const gather = (gw: Gateways): Promise<GatheredFacts> => {
      const name = (gw as unknown as { cluster: string }).cluster;
      events.push(`read ${name}`);
      return Promise.resolve({ cluster: { name } } as unknown as GatheredFacts);
    };
    const decided = await readFleet([target('a'), target('b'), target('c')], fakeAccess(), {
      concurrency: 1,
      clusterTimeoutMs: 60_000,
      gather,
      decide: (o: ClusterOutcome) => {
        events.push(`decide ${o.target.cluster}`);
        return o.target.cluster.toUpperCase();
      },
    });
    expect(decided).toEqual(['A', 'B', 'C']);
    expect(events.indexOf('read b')).toBeLessThan(events.indexOf('decide a'));
    expect(events.indexOf('read c')).toBeLessThan(events.indexOf('decide b'));
  });

  it('turns a cluster that hangs into a row with the reason when its deadline passes, aborting its calls, and keeps the others', async () => {
    const deadlines: Array<{ promise: Promise<void>; open: (value: void) => void }> = [];
    const deadline: Deadline = () => {
      const g = gate<void>();
      deadlines.push(g);
      return { expired: g.promise, cancel: () => undefined };
    };
    const access = fakeAccess();
    const hung = gate<GatheredFacts>();
    const gather = (gw: Gateways): Promise<GatheredFacts> => {
      const name = (gw as unknown as { cluster: string }).cluster;
      if (name === 'slow') return hung.promise;
      if (name === 'broken') return Promise.reject(new UsageError('Access was denied; check the role.'));
      return Promise.resolve({ cluster: { name } } as unknown as GatheredFacts);
    };
    const done: string[] = [];
    const run = readFleet([target('ok'), target('slow'), target('broken')], access, {
      concurrency: 3,
      clusterTimeoutMs: 30_000,
      deadline,
      gather,
      onDone: (o) => {
        done.push(o.target.cluster);
        // Once the others are in, the slow cluster's deadline passes.
        if (done.length === 2) deadlines[1]!.open();
      },
    });
    const outcomes = await run;
    expect(done).toEqual(['ok', 'broken', 'slow']);
    expect(outcomes[0]).toHaveProperty('facts');
    expect(outcomes[1]).toMatchObject({ error: expect.stringMatching(/^Timed out after 30 s/) });
    expect(outcomes[2]).toMatchObject({ error: 'Access was denied; check the role.' });
    expect(access.signals.get('slow')!.aborted).toBe(true);
    expect(String(access.signals.get('slow')!.reason)).toMatch(/Timed out/);
  });
});

const finding = (id: string, severity: 'error' | 'warning' = 'error') => ({ id, severity, message: `${id} applies.` });

function rows(): FleetRow[] {
  const base = { region: 'us-west-2', account: '111122223333', kubernetesVersion: '1.31', managed: true, target: '1.32', owner: null, error: null };
  return [
    { ...base, cluster: 'ready', version: 'v1.19.5-eksbuild.1', pass: true, upgradeTo: null, steps: [], findings: [finding('x', 'warning')] },
    {
      ...base,
      cluster: 'behind',
      roleArn: 'arn:aws:iam::111122223333:role/R',
      version: 'v1.18.6-eksbuild.1',
      pass: false,
      upgradeTo: 'v1.19.5-eksbuild.1',
      steps: ['v1.19.5-eksbuild.1'],
      findings: [finding('not-offered-for-target')],
    },
    { ...base, cluster: 'stuck', version: 'v1.12.6', managed: false, pass: false, upgradeTo: null, steps: [], findings: [finding('addon-not-ready')] },
    failedRow({ cluster: '*', region: 'eu-west-1', account: '777788889999' }, 'Access was denied.'),
  ];
}

describe('renderers and exit codes', () => {
  const check: FleetMode = { kind: 'check', kubernetesVersion: '1.32' };

  it('exits 3 when a row could not be read, else 1 when one is not ready, else 0', () => {
    expect(fleetExitCode(rows())).toBe(3);
    expect(fleetExitCode(rows().slice(0, 3))).toBe(1);
    expect(fleetExitCode(rows().slice(0, 1))).toBe(0);
  });

  it('prints a table a row a cluster, with the blocking findings and a summary naming the unreadable', () => {
    const lines = renderFleetText(check, rows());
    expect(lines[0]).toMatch(/^CLUSTER\s+REGION\s+ACCOUNT\s+K8S\s+VPC-CNI\s+MANAGED\s+READY FOR 1.32\s+BLOCKING$/);
    expect(lines.find((l) => l.startsWith('behind'))).toMatch(/no \(upgrade to v1\.19\.5-eksbuild\.1\)\s+not-offered-for-target$/);
    expect(lines.find((l) => l.startsWith('ready'))).toMatch(/\byes$/);
    expect(lines.find((l) => l.startsWith('*'))).toMatch(/unreadable\s+Access was denied\.$/);
    expect(lines.at(-1)).toBe('4 rows: 1 ready, 2 not ready, 1 could not be read (account 777788889999 in eu-west-1).');
  });

  it('writes Markdown for a step summary', () => {
    const text = renderFleetMarkdown(check, rows());
    expect(text).toContain('## vpccni fleet check');
    expect(text).toContain('| Cluster | Region | Account | K8s | Vpc-cni | Managed | Ready for 1.32 | Blocking |');
    expect(text).toContain('| `behind` | us-west-2 | 111122223333 | 1.31 | v1.18.6-eksbuild.1 | yes | ❌ no (upgrade to v1.19.5-eksbuild.1) | not-offered-for-target |');
    expect(text).toContain('⚠️ unreadable');
    expect(text).toContain('- `addon-not-ready`: addon-not-ready applies.');
  });

  it('appends the Markdown to the step summary under GitHub Actions only', () => {
    const file = join(tmp(), 'summary.md');
    writeFileSync(file, '# before\n');
    expect(publishFleetSummary('## fleet\n', { GITHUB_STEP_SUMMARY: file })).toBe(false);
    expect(publishFleetSummary('## fleet\n', { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: file })).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('# before\n## fleet\n\n');
    const warnings: string[] = [];
    expect(publishFleetSummary('x', { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: join(file, 'not-a-dir', 'x') }, (t) => warnings.push(t))).toBe(false);
    expect(warnings[0]).toMatch(/^Could not append the step summary/);
  });

  it('prints a JSON document its schema accepts, and a matrix of the clusters an upgrade fixes', () => {
    const report = fleetReport(check, rows());
    expect(schemaErrors('fleet', JSON.parse(renderFleetDocument('json', check, report)))).toEqual([]);
    expect(report.pass).toBe(false);
    const matrix = JSON.parse(renderFleetDocument('github-matrix', check, report)) as unknown;
    expect(schemaErrors('fleet-matrix', matrix)).toEqual([]);
    expect(matrix).toEqual({
      include: [{ cluster: 'behind', region: 'us-west-2', account: '111122223333', to: 'v1.19.5-eksbuild.1', roleArn: 'arn:aws:iam::111122223333:role/R' }],
    });
    // plan: the clusters with steps to take.
    expect(githubMatrix({ kind: 'plan', to: 'v1.19.5-eksbuild.1' }, rows()).include).toEqual([]);
  });

  it('leaves a cluster whose add-on infrastructure code owns out of the matrix, names it, and shows the owner', () => {
    const owner = { kind: 'cloudformation' as const, detail: 'stack demo-addons, logical id VpcCniAddon' };
    const owned = rows().map((r) => (r.cluster === 'behind' ? { ...r, owner } : r));
    const report = fleetReport(check, owned);
    expect(schemaErrors('fleet', JSON.parse(renderFleetDocument('json', check, report)))).toEqual([]);
    expect(report.clusters.find((r) => r.cluster === 'behind')?.owner).toEqual(owner);
    expect(githubMatrix(check, owned).include).toEqual([]);
    expect(notUpgradable(check, owned).map((r) => r.cluster)).toContain('behind');
    expect(renderFleetText(check, owned).find((l) => l.startsWith('behind'))).toMatch(/\byes \(owner: cloudformation\)/);
  });
});

describe('the fleet scenario, in-process', () => {
  let sandbox: RunningSandbox;
  let access: FleetAccess;
  beforeAll(async () => {
    sandbox = await startSandbox('fleet');
    const first = sandbox.accounts.find((a) => a.id === '111122223333')!;
    access = createFleetAccess({
      eksEndpoint: sandbox.eksEndpoint,
      iamEndpoint: sandbox.iamEndpoint,
      stsEndpoint: sandbox.stsEndpoint,
      baseCredentials: { accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey },
      kubeconfig: sandbox.kubeconfig,
    });
  });
  afterAll(async () => {
    access?.close();
    await sandbox?.close();
  });

  it('discovers every cluster of two regions and three accounts; the denying account and the slow cluster are rows with reasons', async () => {
    const flags = fleetFlags(
      'check',
      { regions: 'us-west-2,eu-west-1', roleArnTemplate: 'arn:aws:iam::{account}:role/VpccniFleetReadOnly', accounts: '111122223333,444455556666,777788889999' },
      {},
    );
    // The slow cluster's deadline passes once every other cluster is in: no clock decides it.
    const expired = gate();
    const deadline: Deadline = () => ({ expired: expired.promise, cancel: () => undefined });
    const readable = sandbox.clusters.filter((c) => c.account !== '777788889999' && c.cluster !== 'slow-euw1').length;
    let done = 0;
    const result = await fleetRows(flags, access, (text) => {
      if (/^\[\d+\/\d+\]/.test(text) && ++done === readable) expired.open();
    }, deadline);
    const byName = new Map(result.map((r) => [`${r.cluster}/${r.region}/${r.account}`, r]));
    expect(result).toHaveLength(readable + 1 + 2);
    expect(byName.get('slow-euw1/eu-west-1/111122223333')?.error).toMatch(/^Timed out after 60 s/);
    for (const region of ['us-west-2', 'eu-west-1']) {
      expect(byName.get(`*/${region}/777788889999`)?.error).toMatch(/denied.*eks:ListClusters/);
    }
    const a = byName.get('prod-usw2-a/us-west-2/111122223333')!;
    expect(a).toMatchObject({ pass: true, error: null, version: 'v1.19.5-eksbuild.1', managed: true, kubernetesVersion: '1.31', target: '1.32' });
    const b = byName.get('prod-usw2-b/us-west-2/111122223333')!;
    expect(b).toMatchObject({ pass: false, error: null, roleArn: 'arn:aws:iam::111122223333:role/VpccniFleetReadOnly' });
    expect(b.upgradeTo).not.toBeNull();
    expect(b.findings.map((f) => f.id)).toContain('not-offered-for-target');
    const sm = byName.get('stage-usw2-sm/us-west-2/444455556666')!;
    expect(sm).toMatchObject({ managed: false, version: 'v1.16.4', error: null });
    expect(byName.get('auto-euw1/eu-west-1/444455556666')).toMatchObject({ version: null, error: null });
    expect(fleetExitCode(result)).toBe(3);
    expect(schemaErrors('fleet', fleetReport(flags.mode, result))).toEqual([]);
  });

  it('reads a fleet file with a selector, one cluster through its kube context', async () => {
    const dir = tmp();
    const file = join(dir, 'fleet.yaml');
    const context = sandbox.clusters.find((c) => c.cluster === 'stage-usw2')!.contextName;
    writeFileSync(
      file,
      [
        'clusters:',
        '  - { cluster: prod-usw2-a, region: us-west-2, labels: { env: prod, wave: "1" } }',
        '  - { cluster: prod-usw2-b, region: us-west-2, labels: { env: prod, wave: "2" } }',
        `  - { cluster: stage-usw2, region: us-west-2, roleArn: "arn:aws:iam::444455556666:role/VpccniFleetReadOnly", context: "${context}", labels: { env: stage, wave: "1" } }`,
      ].join('\n'),
    );
    const rowsOf = (selector: string) => fleetRows(fleetFlags('status', { fleet: file, selector }, {}), access);
    const wave1 = await rowsOf('wave=1');
    expect(wave1.map((r) => r.cluster).sort()).toEqual(['prod-usw2-a', 'stage-usw2']);
    expect(wave1.every((r) => r.error === null)).toBe(true);
    expect(wave1.find((r) => r.cluster === 'stage-usw2')).toMatchObject({ account: '444455556666', version: 'v1.20.1-eksbuild.1' });
    const prod2 = await fleetRows(fleetFlags('plan', { fleet: file, selector: 'env=prod,wave=2', to: 'latest' }, {}), access);
    expect(prod2).toHaveLength(1);
    expect(prod2[0]).toMatchObject({ cluster: 'prod-usw2-b', pass: true, error: null });
    expect(prod2[0]!.steps.length).toBeGreaterThan(0);
    expect(githubMatrix({ kind: 'plan', to: 'latest' }, prod2).include).toEqual([
      { cluster: 'prod-usw2-b', region: 'us-west-2', account: '111122223333', to: prod2[0]!.upgradeTo },
    ]);
  });

  it('--owner-tag names the owner of a tagged add-on in its row and keeps it out of the matrix', async () => {
    const file = join(tmp(), 'fleet.yaml');
    writeFileSync(file, 'clusters:\n  - { cluster: prod-usw2-b, region: us-west-2 }\n');
    const addon = sandbox.clusters.find((c) => c.cluster === 'prod-usw2-b')!.controller.addon!;
    addon.tags.ManagedBy = 'Terraform';
    try {
      const untagged = await fleetRows(fleetFlags('check', { fleet: file }, {}), access);
      expect(untagged[0]).toMatchObject({ pass: false, owner: null });
      const flags = fleetFlags('check', { fleet: file }, { ownerTag: ['ManagedBy=terraform'] });
      const owned = await fleetRows(flags, access);
      expect(owned[0]).toMatchObject({ pass: false, owner: { kind: 'terraform', detail: 'tag ManagedBy=Terraform' } });
      expect(owned[0]!.upgradeTo).not.toBeNull();
      expect(owned[0]!.findings.map((f) => f.id)).toContain('addon-owned-by-iac');
      expect(schemaErrors('fleet', fleetReport(flags.mode, owned))).toEqual([]);
      expect(githubMatrix(flags.mode, owned).include).toEqual([]);
      expect(notUpgradable(flags.mode, owned).map((r) => r.cluster)).toEqual(['prod-usw2-b']);
    } finally {
      delete addon.tags.ManagedBy;
    }
  });
});

describe('the in-process EKS token of a fleet cluster', () => {
  it('is made once for callers that ask at once (made early, while DescribeCluster is on its way, and again when the first read asks)', async () => {
    let clock = Date.parse('2026-11-30T00:00:00Z');
    // Each reading of the clock a second later: two tokens made would differ in X-Amz-Date.
    const now = () => (clock += 1000);
    const credentials = () => Promise.resolve({ accessKeyId: 'AKIATEST', secretAccessKey: 'test' });
    const tokens = eksTokenSource('c-1', 'us-west-2', credentials, now);
    const [early, first] = await Promise.all([tokens.authorization(), tokens.authorization()]);
    expect(first).toBe(early);
    expect(await tokens.authorization()).toBe(early);
    tokens.invalidate();
    expect(await tokens.authorization()).not.toBe(early);
  });
});
