/**
 * `vpccni check` against the built-in sandbox scenarios (real SDK over HTTP, the Kubernetes API client), one scenario per
 * finding family, and the GitHub Actions output. The scenario matrix gathers each scenario's facts once,
 * in-process, through the same runtime and gatherFacts the command uses, and runs check's decision
 * (buildCheckReport) over them for every target; a few runs go through the whole CLI in-process
 * (main(argv), helpers/in-process.ts), which must agree with the decision. The GitHub Actions runs need their
 * own environment: one spawns the real, built CLI, the others run in-process with the environment set for the
 * run, one after another once the concurrent tests are done. Everything else is memoised and the tests run
 * concurrently, so each distinct gather or command runs once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextMinor } from '../src/commands/check.js';
import { buildCheckReport } from '../src/decide/reports.js';
import { gatherFacts, type GatheredFacts } from '../src/gather/facts.js';
import { createRuntime } from '../src/runtime.js';
import { isolatedEnv, parseJson, vpccni, type CliResult } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';
import { limit } from './helpers/limit.js';
import { schemaErrors } from './helpers/schemas.js';

interface Finding {
  id: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  remediation?: string;
}

interface CheckReport {
  schemaVersion: 1;
  pass: boolean;
  kubernetesVersion: string;
  currentKubernetesVersion: string;
  installedVersion: string | null;
  suggestedUpgrade: { to: string; command: string; steps: Array<{ from: string; to: string; action: string }> } | null;
  findings: Finding[];
}

const runs = new Map<string, Promise<CliResult>>();
useInProcessCli();
/** Each gather or CLI run starts a sandbox and reads it: three at a time. */
const heavy = limit(3);

/**
 * Runs the CLI once per distinct argument list (and environment key), in-process; with an environment, only
 * while no other run is under way (the GitHub Actions tests, which run one after another), or spawned.
 */
function run(args: string[], env?: Record<string, string | undefined>, key = '', how: 'in-process' | 'spawned' = 'in-process'): Promise<CliResult> {
  const id = `${key}\u0000${args.join('\u0000')}`;
  let result = runs.get(id);
  if (!result) {
    result = heavy(() => (how === 'spawned' ? vpccni(args, env ? { env } : {}) : vpccniInProcess(args, env ? { env } : {})));
    runs.set(id, result);
  }
  return result;
}

/** The report's invariants: schema-valid, findings error → warning → info, each id once, no error when it passes. */
function expectWellFormed(report: CheckReport, what: string): void {
  expect(schemaErrors('check', report), `${what}: ${JSON.stringify(report)}`).toEqual([]);
  const order = { error: 0, warning: 1, info: 2 };
  const ranks = report.findings.map((f) => order[f.severity]);
  expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  expect(new Set(report.findings.map((f) => f.id)).size).toBe(report.findings.length);
  if (report.pass) expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
}

const gathered = new Map<string, Promise<GatheredFacts>>();

/** One scenario's facts, gathered once through the runtime `--scenario` gives the CLI (in-process sandbox, SDK, kubectl). */
function factsOf(scenario: string): Promise<GatheredFacts> {
  let facts = gathered.get(scenario);
  if (!facts) {
    facts = heavy(async () => {
      const runtime = await createRuntime({ scenario, output: 'json' });
      try {
        return await gatherFacts(runtime);
      } finally {
        await runtime.close();
      }
    });
    gathered.set(scenario, facts);
  }
  return facts;
}

/** check's decision for a scenario and target (undefined: the next minor, as the command picks it), well-formed. */
async function check(scenario: string, kubernetesVersion?: string): Promise<{ report: CheckReport }> {
  const facts = await factsOf(scenario);
  const report = buildCheckReport(facts, kubernetesVersion ?? nextMinor(facts.cluster.kubernetesVersion)) as CheckReport;
  expectWellFormed(report, scenario);
  return { report };
}

/** `vpccni --scenario <s> check [--kubernetes-version v] --output json` through the CLI: parsed, well-formed, exit code = verdict, and the same report as the decision. */
async function checkCli(scenario: string, kubernetesVersion?: string): Promise<{ result: CliResult; report: CheckReport }> {
  const args = ['--scenario', scenario, 'check', ...(kubernetesVersion ? ['--kubernetes-version', kubernetesVersion] : []), '--output', 'json'];
  const result = await run(args);
  const report = parseJson<CheckReport>(result);
  expectWellFormed(report, scenario);
  // The exit code is the verdict.
  expect(result.exitCode, result.stderr).toBe(report.pass ? 0 : 1);
  // Each side starts a sandbox of its own, whose insights were "refreshed an hour before it started": the same
  // report but for that instant.
  expect(withoutInstants(report)).toEqual(withoutInstants((await check(scenario, kubernetesVersion)).report));
  return { result, report };
}

/** The report with every ISO instant masked. */
function withoutInstants(report: CheckReport): unknown {
  return JSON.parse(JSON.stringify(report).replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<instant>'));
}

const ids = (report: CheckReport): string[] => report.findings.map((f) => f.id);
const severityOf = (report: CheckReport, id: string): string | undefined => report.findings.find((f) => f.id === id)?.severity;

/** A scenario file outside the built-ins: NETWORK_POLICY_ENFORCING_MODE without the agent below v1.19.4. */
const scenarioDir = mkdtempSync(join(tmpdir(), 'vpccni-check-scenarios-'));
const npBeforeV1194 = join(scenarioDir, 'np-v1.18.6.yaml');
writeFileSync(
  npBeforeV1194,
  [
    'name: np-v1.18.6',
    'description: v1.18.6 with aws-eks-nodeagent removed and NETWORK_POLICY_ENFORCING_MODE set.',
    'cluster: { kubernetesVersion: "1.30" }',
    'addon: { version: v1.18.6-eksbuild.1 }',
    'daemonSet:',
    '  imageTag: v1.18.6-eksbuild.1',
    '  removeContainers: [aws-eks-nodeagent]',
    '  env: { aws-node: { NETWORK_POLICY_ENFORCING_MODE: standard } }',
    'catalogueSnapshot: mid-2025',
    '',
  ].join('\n'),
);

describe.concurrent('check on the default scenario (the user guide example, Kubernetes 1.27)', () => {
  it('fails for 1.28 and names the upgrade that fixes it, with its steps', async () => {
    const { result, report } = await checkCli('default', '1.28');
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({
      pass: false,
      kubernetesVersion: '1.28',
      currentKubernetesVersion: '1.27',
      installedVersion: 'v1.12.6-eksbuild.2',
    });
    expect(report.suggestedUpgrade).toEqual({
      to: 'v1.14.0-eksbuild.3',
      command: 'vpccni upgrade --to v1.14.0-eksbuild.3',
      steps: [
        { from: 'v1.12.6-eksbuild.2', to: 'v1.13.4-eksbuild.1', action: 'update' },
        { from: 'v1.13.4-eksbuild.1', to: 'v1.14.0-eksbuild.3', action: 'update' },
      ],
    });
    const notOffered = report.findings.find((f) => f.id === 'not-offered-for-target');
    expect(notOffered).toMatchObject({ severity: 'error', message: 'v1.12.6-eksbuild.2 is not offered for Kubernetes 1.28.' });
    expect(notOffered?.remediation).toContain('`vpccni upgrade --to v1.14.0-eksbuild.3` (v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3)');
    expect(result.stderr).toBe('');
  });

  it('says the same for people, with the path', async () => {
    const result = await run(['--sandbox', 'check', '--kubernetes-version', '1.28']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('FAIL: vpc-cni v1.12.6-eksbuild.2 on demo is not ready for Kubernetes 1.28.');
    expect(result.stdout).toContain(
      'Upgrade first: vpccni upgrade --to v1.14.0-eksbuild.3  (v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3)',
    );
    expect(result.stdout).toContain('[not-offered-for-target]');
  });

  it('checks against the next minor when --kubernetes-version is left out', async () => {
    const { report: implicit } = await checkCli('default');
    const { report: explicit } = await checkCli('default', '1.28');
    expect(implicit.kubernetesVersion).toBe('1.28');
    expect(withoutInstants(implicit)).toEqual(withoutInstants(explicit));
  });

  it('passes for the Kubernetes version the cluster already runs', async () => {
    const { result, report } = await checkCli('default', '1.27');
    expect(result.exitCode).toBe(0);
    expect(report).toMatchObject({ pass: true, kubernetesVersion: '1.27', suggestedUpgrade: null });
  });

  it.each([['1.x'], ['1'], ['v1.30.1'], ['latest']])('refuses --kubernetes-version %s with exit 2 and one sentence', async (bad) => {
    const result = await run(['--sandbox', 'check', '--kubernetes-version', bad, '--output', 'json']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/is not a Kubernetes version/);
  });

  it.each([
    'hybrid-nodes-not-excluded',
    'eniconfig-missing-for-zone',
    'eniconfig-missing-for-annotation',
    'custom-networking-ipv6',
    'custom-networking-version-too-old',
    'metrics-helper-version-mismatch',
    'irsa-not-configured',
    'irsa-role-missing',
    'irsa-oidc-provider-missing',
    'irsa-trust-policy-mismatch',
    'irsa-cni-policy-missing',
    'v1.19.4-custom-networking-sgp',
    'network-policy-enforcing-mode-without-agent',
    'addon-not-active',
    'addon-health-issues',
    'addon-not-ready',
    'daemonset-not-rolled-out',
    'self-managed',
  ])('stays silent about %s', async (id) => {
    const { report } = await check('default', '1.28');
    expect(ids(report)).not.toContain(id);
  });
});

describe.concurrent('check passes when the add-on is ready', () => {
  it('ready-for-1.28 (default after the suggested upgrade) passes for 1.28; a warning does not fail the gate', async () => {
    const { result, report } = await checkCli('ready-for-1.28', '1.28');
    expect(result.exitCode).toBe(0);
    expect(report).toMatchObject({ pass: true, installedVersion: 'v1.14.0-eksbuild.3', suggestedUpgrade: null });
    expect(report.findings.map((f) => `${f.severity} ${f.id}`)).toEqual(['warning v1.14.0-node-agent-port-8080']);
    const text = await run(['--scenario', 'ready-for-1.28', 'check']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('PASS: vpc-cni v1.14.0-eksbuild.3 on demo is ready for Kubernetes 1.28.');
  });

  it('v1.19.3-custom-networking-sgp passes for 1.32 (v1.19.3 is not the bad v1.19.4)', async () => {
    const { report } = await check('v1.19.3-custom-networking-sgp');
    expect(report).toMatchObject({ pass: true, kubernetesVersion: '1.32' });
    expect(ids(report)).not.toContain('v1.19.4-custom-networking-sgp');
  });

  it('ready-for-1.28 still fails for 1.29, which its catalogue does not offer v1.14 for, naming no impossible path', async () => {
    const { report } = await check('ready-for-1.28', '1.29');
    expect(report.pass).toBe(false);
    expect(report.suggestedUpgrade).toBeNull();
    const finding = report.findings.find((f) => f.id === 'not-offered-for-target');
    expect(finding?.remediation).toContain('aws eks describe-addon-versions --addon-name vpc-cni --kubernetes-version 1.29');
  });
});

/** scenario, target (undefined: next minor), the finding id, its severity. Every row fails the gate. */
const FAMILIES: Array<[family: string, scenario: string, target: string | undefined, id: string, severity: Finding['severity']]> = [
  ['hybrid nodes', 'hybrid-nodes', undefined, 'hybrid-nodes-not-excluded', 'error'],
  ['custom networking: ENIConfig for a zone', 'eniconfig-missing-zone', undefined, 'eniconfig-missing-for-zone', 'error'],
  ['custom networking: ENIConfig of an annotation', 'eniconfig-missing-zone', undefined, 'eniconfig-missing-for-annotation', 'error'],
  ['custom networking: IPv6', 'ipv6-custom-networking', undefined, 'custom-networking-ipv6', 'error'],
  ['metrics helper skew', 'metrics-helper-skew', undefined, 'metrics-helper-version-mismatch', 'error'],
  ['IRSA: role missing', 'irsa-role-missing', '1.27', 'irsa-role-missing', 'error'],
  ['IRSA: trust policy', 'irsa-broken', '1.27', 'irsa-trust-policy-mismatch', 'error'],
  ['IRSA: OIDC provider', 'irsa-broken', '1.27', 'irsa-oidc-provider-missing', 'error'],
  ['IRSA: no CNI policy', 'irsa-broken', '1.27', 'irsa-cni-policy-missing', 'warning'],
  ['v1.19.4 advisory', 'v1.19.4-custom-networking-sgp', undefined, 'v1.19.4-custom-networking-sgp', 'error'],
  ['network policy mode without agent', 'network-policy-mode-without-agent', undefined, 'network-policy-enforcing-mode-without-agent', 'error'],
  ['degraded: status', 'addon-degraded', undefined, 'addon-not-active', 'error'],
  ['degraded: health issue', 'addon-degraded', undefined, 'addon-health-issues', 'error'],
  ['degraded: gate', 'addon-degraded', undefined, 'addon-not-ready', 'error'],
  ['rolling out: rollout', 'rolling-out', '1.28', 'daemonset-not-rolled-out', 'warning'],
  ['rolling out: gate', 'rolling-out', '1.28', 'addon-not-ready', 'error'],
  ['self-managed', 'self-managed-custom-networking', undefined, 'self-managed', 'warning'],
];

describe.concurrent('each finding family fires on its scenario and fails the gate', () => {
  it.each(FAMILIES)('%s on %s', async (_family, scenario, target, id, severity) => {
    const { report } = await check(scenario, target);
    expect(ids(report)).toContain(id);
    expect(severityOf(report, id)).toBe(severity);
    // Fails the gate: pass false, which the CLI turns into exit 1 (asserted by checkCli on every CLI run).
    expect(report.pass).toBe(false);
    const finding = report.findings.find((f) => f.id === id);
    expect(finding?.remediation?.length ?? 0).toBeGreaterThan(10);
  });

  it('names the missing zone, the missing ENIConfig and the nodes', async () => {
    const { report } = await check('eniconfig-missing-zone');
    const zone = report.findings.find((f) => f.id === 'eniconfig-missing-for-zone');
    expect(zone?.message).toContain('us-west-2c');
    expect(zone?.message).toContain('ip-192-168-78-90.us-west-2.compute.internal');
    expect(zone?.message).not.toContain('us-west-2a,');
    const annotation = report.findings.find((f) => f.id === 'eniconfig-missing-for-annotation');
    expect(annotation?.message).toContain('us-west-2a-pods');
    expect(annotation?.message).toContain('ip-192-168-13-57.us-west-2.compute.internal');
    // Its version is offered for 1.32 and healthy: the ENIConfigs alone fail the gate.
    expect(report.suggestedUpgrade).toBeNull();
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => f.id).sort()).toEqual([
      'eniconfig-missing-for-annotation',
      'eniconfig-missing-for-zone',
    ]);
  });

  it('quotes the EKS health issue of a degraded add-on', async () => {
    const { report } = await check('addon-degraded');
    expect(report.findings.find((f) => f.id === 'addon-health-issues')?.message).toBe(
      "EKS reports health issues for the vpc-cni add-on: InsufficientNumberOfReplicas: The add-on is unhealthy because it doesn't have the desired number of replicas.",
    );
    expect(report.findings.find((f) => f.id === 'addon-not-ready')?.message).toContain('status DEGRADED, 1 health issue(s), aws-node rolled out');
  });

  it('fails a rollout in progress although nothing else is wrong', async () => {
    const { report } = await check('rolling-out', '1.28');
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => f.id)).toEqual(['addon-not-ready']);
    expect(report.findings.find((f) => f.id === 'daemonset-not-rolled-out')?.message).toMatch(/0\/3 updated/);
  });

  it('v1.19.4 with custom networking points to v1.19.5', async () => {
    const { report } = await check('v1.19.4-custom-networking-sgp');
    expect(report.installedVersion).toBe('v1.19.4-eksbuild.1');
    expect(report.findings.find((f) => f.id === 'v1.19.4-custom-networking-sgp')?.remediation).toContain('v1.19.5');
  });

  it('self-managed: the suggested upgrade creates the EKS add-on first', async () => {
    const { report } = await check('self-managed-custom-networking', '1.28');
    expect(report.installedVersion).toBe('v1.12.6');
    expect(report.suggestedUpgrade?.steps.map((s) => `${s.action} ${s.to}`)).toEqual([
      'create v1.13.4-eksbuild.1',
      'update v1.14.0-eksbuild.3',
    ]);
    // Custom networking with an ENIConfig for every zone: nothing to say about ENIConfigs.
    expect(ids(report)).not.toContain('eniconfig-missing-for-zone');
  });

  it('network policy mode without the agent only warns below v1.19.4 (scenario file)', async () => {
    const { report } = await check(npBeforeV1194);
    expect(severityOf(report, 'network-policy-enforcing-mode-without-agent')).toBe('warning');
    expect(report.kubernetesVersion).toBe('1.31');
  });

  it.each([
    ['eniconfig-missing-zone', 1, 'eniconfig-missing-for-zone'],
    ['addon-degraded', 1, 'addon-health-issues'],
    ['ready-for-1.28', 0, 'v1.14.0-node-agent-port-8080'],
  ])('status on %s reports the same findings, schema-valid, exit %i', async (scenario, exitCode, id) => {
    const result = await run(['--scenario', scenario, 'status', '--output', 'json']);
    expect(result.exitCode).toBe(exitCode);
    const status = parseJson<{ findings: Finding[] }>(result);
    expect(schemaErrors('status', status)).toEqual([]);
    expect(status.findings.map((f) => f.id)).toContain(id);
  });
});

// Not concurrent: these runs set the process's environment in turn (the first spawns the built CLI).
describe('check under GitHub Actions', () => {
  const annotations = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('::'));

  it('annotates each finding on stderr, keeps stdout one JSON document and writes the step summary', async () => {
    const summary = join(mkdtempSync(join(tmpdir(), 'vpccni-gha-')), 'step-summary.md');
    const env = isolatedEnv({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary });
    const result = await run(['--scenario', 'irsa-broken', 'check', '--kubernetes-version', '1.28', '--output', 'json'], env, 'gha-json', 'spawned');
    expect(result.exitCode).toBe(1);
    const report = parseJson<CheckReport>(result);
    expect(schemaErrors('check', report)).toEqual([]);
    const lines = annotations(result.stderr);
    expect(lines).toHaveLength(report.findings.length);
    report.findings.forEach((f, i) => {
      const level = { error: 'error', warning: 'warning', info: 'notice' }[f.severity];
      expect(lines[i]).toMatch(new RegExp(`^::${level} title=vpccni ${f.id.replace(/\./g, '\\.')}::`));
      expect(lines[i]).toContain(f.message.replace(/%/g, '%25'));
    });
    const markdown = readFileSync(summary, 'utf8');
    expect(markdown).toContain('### ❌ vpccni check: demo → Kubernetes 1.28');
    expect(markdown).toContain('**FAIL: vpc-cni v1.12.6-eksbuild.2 on demo is not ready for Kubernetes 1.28.**');
    expect(markdown).toContain(
      'Upgrade first: `vpccni upgrade --to v1.14.0-eksbuild.3` (v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3)',
    );
    expect(markdown).toContain('| severity | id | finding | what to do |');
    for (const f of report.findings) expect(markdown).toContain(`| \`${f.id}\` |`);
    expect(markdown.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| severity'))).toHaveLength(report.findings.length);
  });

  it('appends a passing summary in text mode, and prints nothing for GitHub outside Actions', async () => {
    const summary = join(mkdtempSync(join(tmpdir(), 'vpccni-gha-')), 'step-summary.md');
    writeFileSync(summary, '## earlier step\n\n');
    const env = isolatedEnv({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary });
    const result = await run(['--scenario', 'ready-for-1.28', 'check', '--kubernetes-version', '1.28'], env, 'gha-text');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('PASS:');
    expect(annotations(result.stderr)).toEqual([expect.stringMatching(/^::warning title=vpccni v1\.14\.0-node-agent-port-8080::/)]);
    expect(annotations(result.stdout)).toEqual([]);
    const markdown = readFileSync(summary, 'utf8');
    expect(markdown.startsWith('## earlier step\n\n### ✅ vpccni check: demo → Kubernetes 1.28\n')).toBe(true);

    const outside = await run(['--scenario', 'ready-for-1.28', 'check', '--kubernetes-version', '1.28']);
    expect(outside.exitCode).toBe(0);
    expect(annotations(outside.stderr)).toEqual([]);
  });

  it('keeps the verdict when the step summary cannot be written', async () => {
    const env = isolatedEnv({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: join(scenarioDir, 'missing-dir', 'summary.md') });
    const result = await run(['--scenario', 'ready-for-1.28', 'check', '--output', 'json'], env, 'gha-unwritable');
    expect(result.exitCode).toBe(0);
    expect(parseJson<CheckReport>(result).pass).toBe(true);
    expect(annotations(result.stderr).at(-1)).toMatch(/^::warning title=vpccni::Could not append the step summary/);
  });
});
