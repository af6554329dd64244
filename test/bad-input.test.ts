/**
 * Bad input, every command: the exit code the contract gives it, one sentence on stderr (one line, no stack
 * frames), nothing on stdout (or the one JSON document / problem list the command documents), and nothing
 * changed on the cluster: the in-process sandbox's request log holds no mutating request, and an upgrade
 * left no backup or journal behind. The cases run the CLI in-process (main(argv), helpers/in-process.ts); the
 * few marked `spawn` run the real, built CLI, so that its exit-2 path is proven end to end.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { onSandbox, sandboxEnv, vpccni, type CliResult } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli, vpccniInProcess } from './helpers/in-process.js';

useInProcessCli();

const dir = mkdtempSync(join(tmpdir(), 'vpccni-bad-input-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** Files the cases read, written once. */
const files = {
  // A cluster on 1.27 whose catalogue offers nothing for 1.27: `latest` has no answer.
  noCompatible: file(
    'no-compatible.yaml',
    toYaml({
      name: 'no-compatible',
      catalogue: [
        { version: 'v1.12.6-eksbuild.2', compatibilities: [{ clusterVersion: '1.26', defaultVersion: true }] },
        { version: 'v1.13.4-eksbuild.1', compatibilities: [{ clusterVersion: '1.26' }] },
      ],
    }),
  ),
  badScenario: file('bad-scenario.yaml', 'name: broken\ncluster:\n  kubernetesVersion: 12\n  region: [1, 2]\nnodes: yes\n'),
  notYamlScenario: file('not-yaml-scenario.yaml', 'name: [unclosed\n  - :\n'),
  huge: file('huge.json', JSON.stringify({ env: { WARM_IP_TARGET: '5' }, padding: 'x'.repeat(300 * 1024) })),
  empty: file('empty.yaml', ''),
  yamlList: file('list.yaml', '- env\n- WARM_IP_TARGET\n'),
  garbage: file('garbage.yaml', 'kind: VpccniBackup\nschemaVersion: 1\ncluster: {name: demo\n  region: "us-west-2\n'),
  plainDaemonSet: file('daemonset.yaml', 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: aws-node\n  namespace: kube-system\n'),
  // Nested 20,000 levels deep (issue 19): JSON, YAML flow, YAML compact sequences (which abort the YAML parser).
  deepJson: file('deep.json', `${'{"env":'.repeat(20_000)}{}${'}'.repeat(20_000)}`),
  deepFlow: file('deep-flow.yaml', `env: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`),
  deepDashes: file('deep-dashes.yaml', `${'- '.repeat(20_000)}x\n`),
  deepBackup: file('deep-backup.yaml', `kind: VpccniBackup\nschemaVersion: 1\ndaemonSet: ${'['.repeat(20_000)}\n`),
  deepAdvisories: file('deep-advisories.json', `{"advisories": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`),
  deepFleet: file('deep-fleet.yaml', `clusters:\n${'  - '.repeat(1)}${'- '.repeat(20_000)}x\n`),
  deepScenario: file('deep-scenario.yaml', `name: deep\ncluster: ${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}\n`),
  deepKubeconfig: file('deep-kubeconfig.yaml', `apiVersion: v1\nclusters: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`),
  // Filled in beforeAll from a real backup of the sandbox.
  otherCluster: join(dir, 'other-cluster.yaml'),
  truncated: join(dir, 'truncated.yaml'),
};

let sb: RunningSandbox;

beforeAll(async () => {
  sb = await startSandbox('default');
  const out = mkdtempSync(join(tmpdir(), 'vpccni-bad-input-backup-'));
  const result = await onCluster(['backup', '--out', out]);
  expect(result.exitCode, result.stderr).toBe(0);
  const taken = join(out, readdirSync(out).find((f) => f.endsWith('.yaml'))!);
  const text = readFileSync(taken, 'utf8');
  const doc = parseYaml(text) as { cluster: { name: string; arn: string | null } };
  doc.cluster.name = 'prod';
  doc.cluster.arn = 'arn:aws:eks:us-west-2:111122223333:cluster/prod';
  writeFileSync(files.otherCluster, toYaml(doc));
  writeFileSync(files.truncated, text.slice(0, Math.floor(text.length / 2)).replace(/\n[^\n]*$/, '\n  image: "602401143452.dkr.ecr'));
});

afterAll(async () => {
  await sb?.close();
});

/** Runs the CLI against the in-process sandbox, naming the cluster explicitly. */
function onCluster(args: string[]): Promise<CliResult> {
  return onSandboxInProcess(sb, args);
}

/** Runs the CLI against the sandbox server's endpoints but with flags that name another kubeconfig. */
function onClusterWithout(args: string[]): Promise<CliResult> {
  return vpccniInProcess(['--cluster', sb.cluster, '--region', sb.region, ...args], { env: sandboxEnv(sb) });
}

/** The same, through the real, built CLI. */
function spawned(where: Where, args: string[]): Promise<CliResult> {
  if (where === 'cluster') return onSandbox(sb, args);
  if (where === 'bare-cluster') return vpccni(['--cluster', sb.cluster, '--region', sb.region, ...args], { env: sandboxEnv(sb) });
  return vpccni(where === 'sandbox' ? ['--sandbox', ...args] : args);
}

type Where = 'cluster' | 'sandbox' | 'bare' | 'bare-cluster';
interface Case {
  name: string;
  /** The in-process sandbox (request log checked), `--sandbox` (no cluster needed), no flags, or its endpoints without its kubeconfig. */
  where: Where;
  args: string[];
  exit: number;
  /** What stderr's one sentence says. */
  message: RegExp;
  /** stdout: empty unless the command documents output on this failure. */
  stdout?: 'empty' | 'json' | 'lines';
  /** A progress line the command may print on stderr before the error (e.g. which schema validate used). */
  progress?: RegExp;
  /** Run the real, built CLI rather than in-process. */
  spawn?: boolean;
}

const upgradeTo = (...extra: string[]) => ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', ...extra];

const cases: Case[] = [
  // Versions
  { name: 'plan: malformed version', where: 'cluster', args: ['plan', '--to', '1.x.3'], exit: 2, message: /version/i, spawn: true },
  { name: 'plan: not a version at all', where: 'sandbox', args: ['plan', '--to', 'banana'], exit: 2, message: /banana/ },
  { name: 'plan: version EKS does not offer', where: 'cluster', args: ['plan', '--to', 'v9.99.0'], exit: 2, message: /v9\.99\.0/ },
  { name: 'plan: --to missing', where: 'sandbox', args: ['plan'], exit: 2, message: /--to/ },
  { name: 'plan: latest with no compatible version', where: 'bare', args: ['--scenario', files.noCompatible, 'plan', '--to', 'latest'], exit: 2, message: /1\.27/ },
  { name: 'upgrade: latest with no compatible version', where: 'bare', args: ['--scenario', files.noCompatible, 'upgrade', '--to', 'latest', '--yes'], exit: 2, message: /1\.27/ },
  { name: 'upgrade: malformed version', where: 'cluster', args: ['upgrade', '--to', 'v1..13', '--yes'], exit: 2, message: /version/i },
  { name: 'upgrade: version not offered for the cluster', where: 'cluster', args: ['upgrade', '--to', 'v1.19.0-eksbuild.1', '--yes'], exit: 2, message: /v1\.19\.0/ },
  { name: 'validate: malformed --addon-version', where: 'sandbox', args: ['validate', '--configuration-values', '{}', '--addon-version', 'nope'], exit: 2, message: /nope/ },
  { name: 'check: bad --kubernetes-version', where: 'cluster', args: ['check', '--kubernetes-version', 'banana'], exit: 2, message: /banana/ },
  { name: 'check: --kubernetes-version with a patch', where: 'sandbox', args: ['check', '--kubernetes-version', '1.28.3'], exit: 2, message: /1\.28\.3/ },
  // Conflicting flags
  { name: 'upgrade: --resume with --configuration-values', where: 'cluster', args: ['upgrade', '--resume', '--configuration-values', '{}'], exit: 2, message: /--resume/ },
  { name: 'upgrade: --resume with nothing to resume', where: 'cluster', args: ['upgrade', '--resume', '--yes'], exit: 2, message: /no stopped upgrade/i },
  { name: 'upgrade: neither --to nor --resume', where: 'sandbox', args: ['upgrade', '--yes'], exit: 2, message: /--to/ },
  { name: 'upgrade: PRESERVE on a create step', where: 'bare', args: ['--scenario', 'self-managed-custom-networking', ...upgradeTo('--resolve-conflicts', 'PRESERVE', '--accept-setting-loss')], exit: 2, message: /PRESERVE/ },
  { name: 'upgrade: unknown --resolve-conflicts mode', where: 'sandbox', args: upgradeTo('--resolve-conflicts', 'MAYBE'), exit: 2, message: /MAYBE|resolve-conflicts/ },
  // Configuration values
  { name: 'upgrade: invalid JSON values', where: 'cluster', args: upgradeTo('--configuration-values', '{"env": {"WARM_IP_TARGET": "5"'), exit: 2, message: /not valid JSON or YAML/ },
  { name: 'upgrade: invalid YAML values', where: 'cluster', args: upgradeTo('--configuration-values', 'env:\n  WARM_IP_TARGET: "5"\n bad: [1'), exit: 2, message: /not valid JSON or YAML/ },
  { name: 'upgrade: values that break the schema', where: 'cluster', args: upgradeTo('--configuration-values', '{"env":{"NOT_A_SETTING":"1"}}'), exit: 2, message: /schema/i },
  { name: 'upgrade: values of the wrong type', where: 'cluster', args: upgradeTo('--configuration-values', '{"env":{"WARM_IP_TARGET":5}}'), exit: 2, message: /WARM_IP_TARGET|schema/ },
  { name: 'upgrade: empty values', where: 'cluster', args: upgradeTo('--configuration-values', ''), exit: 2, message: /empty/ },
  { name: 'upgrade: values file over 256 KiB', where: 'cluster', args: upgradeTo('--configuration-values', `@${files.huge}`), exit: 2, message: /256 KiB/ },
  { name: 'upgrade: values file missing', where: 'cluster', args: upgradeTo('--configuration-values', '@/nonexistent/values.yaml'), exit: 2, message: /nonexistent/ },
  { name: 'upgrade: values that are a list', where: 'cluster', args: upgradeTo('--configuration-values', `@${files.yamlList}`), exit: 2, message: /must be an object/ },
  { name: 'upgrade: values nested 20,000 levels deep', where: 'cluster', args: upgradeTo('--configuration-values', `@${files.deepJson}`), exit: 2, message: /nests deeper than 100 levels \(at line 1, column \d+\)/ },
  { name: 'upgrade: inline values nested 20,000 levels deep', where: 'cluster', args: upgradeTo('--configuration-values', `${'{"env":'.repeat(20_000)}{}${'}'.repeat(20_000)}`), exit: 2, message: /--configuration-values nests deeper than 100 levels/ },
  { name: 'validate: YAML flow nested 20,000 levels deep', where: 'sandbox', args: ['validate', '--configuration-values', `@${files.deepFlow}`], exit: 2, message: /nests deeper than 100 levels/ },
  { name: 'validate: YAML sequences nested 20,000 levels deep on one line', where: 'sandbox', args: ['validate', '--configuration-values', `@${files.deepDashes}`], exit: 2, message: /nests deeper than 100 levels/, spawn: true },
  { name: 'validate: invalid JSON', where: 'sandbox', args: ['validate', '--configuration-values', '{"env":'], exit: 2, message: /not valid JSON or YAML/ },
  { name: 'validate: empty file', where: 'sandbox', args: ['validate', '--configuration-values', `@${files.empty}`], exit: 2, message: /empty/ },
  { name: 'validate: over 256 KiB', where: 'sandbox', args: ['validate', '--configuration-values', `@${files.huge}`], exit: 2, message: /256 KiB/ },
  { name: 'validate: schema violation (text)', where: 'cluster', args: ['validate', '--configuration-values', '{"env":{"WARM_IP_TARGET":5}}'], exit: 2, message: /not valid for vpc-cni/, stdout: 'lines', progress: /^Using the schema of/ },
  { name: 'validate: schema violation (json)', where: 'cluster', args: ['validate', '--configuration-values', '{"nope":true}', '--output', 'json'], exit: 2, message: /not valid for vpc-cni/, stdout: 'json', progress: /^Using the schema of/ },
  // Role ARN, timeout
  { name: 'upgrade: role ARN of a user', where: 'cluster', args: upgradeTo('--service-account-role-arn', 'arn:aws:iam::111122223333:user/bob'), exit: 2, message: /not an IAM role ARN/ },
  { name: 'upgrade: role name instead of ARN', where: 'sandbox', args: upgradeTo('--service-account-role-arn', 'AmazonEKSVPCCNIRole'), exit: 2, message: /not an IAM role ARN/ },
  { name: 'upgrade: --timeout not a duration', where: 'cluster', args: upgradeTo('--timeout', 'forever'), exit: 2, message: /--timeout/ },
  { name: 'upgrade: --timeout too short', where: 'sandbox', args: upgradeTo('--timeout', '0s'), exit: 2, message: /--timeout/ },
  // Backups
  { name: 'restore: backup file missing', where: 'cluster', args: ['restore', '/nonexistent/backup.yaml', '--yes'], exit: 2, message: /does not exist/ },
  { name: 'restore: corrupted backup', where: 'cluster', args: ['restore', files.garbage, '--yes'], exit: 2, message: /not valid YAML/ },
  { name: 'restore: truncated backup', where: 'cluster', args: ['restore', files.truncated, '--yes'], exit: 2, message: /backup/ },
  { name: 'restore: empty backup file', where: 'cluster', args: ['restore', files.empty, '--yes'], exit: 2, message: /not a vpccni backup/ },
  { name: 'restore: a plain DaemonSet manifest', where: 'cluster', args: ['restore', files.plainDaemonSet, '--yes'], exit: 2, message: /plain DaemonSet/ },
  { name: 'restore: backup of another cluster', where: 'cluster', args: ['restore', files.otherCluster, '--yes'], exit: 2, message: /prod/ },
  { name: 'restore: backup of another cluster (dry run)', where: 'cluster', args: ['restore', files.otherCluster, '--dry-run'], exit: 2, message: /refusing/ },
  { name: 'restore: --backup-dir is a file', where: 'cluster', args: ['restore', files.otherCluster, '--yes', '--backup-dir', files.empty], exit: 2, message: /--backup-dir .*empty\.yaml is a file, not a directory/ },
  { name: 'restore: backup nested 20,000 levels deep', where: 'cluster', args: ['restore', files.deepBackup, '--yes'], exit: 2, message: /deep-backup\.yaml nests deeper than 100 levels.*use another backup/ },
  { name: 'status: advisories file nested 20,000 levels deep', where: 'sandbox', args: ['--advisories', files.deepAdvisories, 'status'], exit: 2, message: /advisories file .* nests deeper than 100 levels/ },
  { name: 'fleet: fleet file nested 20,000 levels deep', where: 'bare', args: ['fleet', 'status', '--fleet', files.deepFleet], exit: 2, message: /fleet file .* nests deeper than 100 levels/ },
  // Cluster access
  { name: 'status: kubeconfig nested 20,000 levels deep', where: 'bare-cluster', args: ['--kubeconfig', files.deepKubeconfig, 'status'], exit: 2, message: /kubeconfig .* nests deeper than 100 levels/ },
  { name: 'status: missing kubeconfig', where: 'bare-cluster', args: ['--kubeconfig', '/nonexistent/kubeconfig', 'status'], exit: 2, message: /kubeconfig/ },
  { name: 'status: unknown kube context', where: 'bare-cluster', args: ['--kubeconfig', 'SANDBOX_KUBECONFIG', '--context', 'nope', 'status'], exit: 2, message: /nope/ },
  { name: 'status: cluster that does not exist', where: 'bare-cluster', args: ['--kubeconfig', 'SANDBOX_KUBECONFIG', '--cluster', 'nope', 'status'], exit: 3, message: /"nope" was not found/ },
  { name: 'upgrade: missing kubeconfig', where: 'bare-cluster', args: ['--kubeconfig', '/nonexistent/kubeconfig', ...upgradeTo()], exit: 2, message: /kubeconfig/ },
  // Scenarios
  { name: 'status: unknown scenario', where: 'bare', args: ['--scenario', 'no-such-scenario', 'status'], exit: 2, message: /no-such-scenario/ },
  { name: 'status: invalid scenario file', where: 'bare', args: ['--scenario', files.badScenario, 'status'], exit: 2, message: /bad-scenario\.yaml|scenario/ },
  { name: 'status: scenario file that is not YAML', where: 'bare', args: ['--scenario', files.notYamlScenario, 'status'], exit: 2, message: /scenario/ },
  { name: 'status: scenario file nested 20,000 levels deep', where: 'bare', args: ['--scenario', files.deepScenario, 'status'], exit: 2, message: /Scenario .* nests deeper than 100 levels/ },
  { name: 'sandbox serve: unknown scenario', where: 'bare', args: ['sandbox', 'serve', 'no-such-scenario'], exit: 2, message: /no-such-scenario/ },
  { name: 'sandbox serve: bad --throttle-rate', where: 'bare', args: ['sandbox', 'serve', '--throttle-rate', '2'], exit: 2, message: /throttle-rate/ },
  // The command line itself
  { name: 'status: unknown flag', where: 'sandbox', args: ['status', '--bogus'], exit: 2, message: /--bogus/ },
  { name: 'unknown command', where: 'bare', args: ['upgrad', '--to', 'latest'], exit: 2, message: /upgrad/, spawn: true },
  { name: 'status: bad --output', where: 'sandbox', args: ['--output', 'xml', 'status'], exit: 2, message: /xml|--output/ },
  { name: 'backup: --out is a file', where: 'cluster', args: ['backup', '--out', files.empty], exit: 2, message: /empty\.yaml|directory/ },
];

describe('bad input', () => {
  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$name → exit $exit', async (c) => {
    const before = sb.log.entries.length;
    const backupDir = mkdtempSync(join(tmpdir(), 'vpccni-bad-input-upgrade-'));
    const args = c.args.map((a) => (a === 'SANDBOX_KUBECONFIG' ? sb.kubeconfig : a));
    // upgrade and restore back up before their first change: into this directory, which must stay empty.
    if ((args.includes('upgrade') || args.includes('restore')) && !args.includes('--backup-dir')) args.push('--backup-dir', backupDir);
    const where = c.where;
    const result = c.spawn
      ? await spawned(where, args)
      : where === 'cluster'
        ? await onCluster(args)
        : where === 'sandbox'
          ? await vpccniInProcess(['--sandbox', ...args])
          : where === 'bare-cluster'
            ? await onClusterWithout(args)
            : await vpccniInProcess(args);

    expect(result.exitCode, `stderr: ${result.stderr}\nstdout: ${result.stdout}`).toBe(c.exit);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toMatch(/unexpected error/);
    // Commander's hints ("(Did you mean upgrade?)", "(run vpccni --help for usage)") are not part of the error.
    let lines = result.stderr.split('\n').filter((l) => l.trim() !== '' && !/^\(.*\)$/.test(l));
    if (c.progress) lines = lines.filter((l) => !c.progress!.test(l));
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^vpccni: /);
    expect(lines[0]).toMatch(c.message);
    const stdout = c.stdout ?? 'empty';
    if (stdout === 'empty') expect(result.stdout).toBe('');
    if (stdout === 'json') expect(() => JSON.parse(result.stdout) as unknown).not.toThrow();
    if (stdout === 'lines') expect(result.stdout.trim()).not.toBe('');

    // Nothing changed: no mutating request reached the cluster, no backup or journal was written.
    expect(sb.log.entries.slice(before).filter((e) => e.mutating)).toEqual([]);
    expect(readdirSync(backupDir)).toEqual([]);
  });

  it('left the cluster exactly as it was', () => {
    expect(sb.log.mutating()).toEqual([]);
    expect(sb.addon()).toMatchObject({ addonVersion: 'v1.12.6-eksbuild.2', status: 'ACTIVE' });
  });
});
