/**
 * `vpccni backup` and `vpccni restore` through the CLI, the real kubectl and the real AWS SDK against the
 * sandbox. Restore needs state that lives across runs, so those tests start the sandbox in this process and
 * point the CLI at its endpoints; its request log proves what was (not) changed. One backup and one restore
 * spawn the real, built CLI; the other runs are the same CLI in-process (main(argv), helpers/in-process.ts).
 */
import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readBackup, type BackupDocument } from '../src/act/backup.js';
import type { KubeObject } from '../src/decide/manifests.js';
import { planConfigMapRestore, planEniConfigRestore, planRestore } from '../src/decide/restore-plan.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { parseJson, sandboxEnv, sandboxFlags, vpccni } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli, vpccniInProcess } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
useInProcessCli();

type Container = { name: string; image: string; env?: Array<{ name: string; value?: string }> };
const containersOf = (ds: KubeObject) => (ds.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
const envOf = (ds: KubeObject, container = 'aws-node') =>
  Object.fromEntries((containersOf(ds).find((c) => c.name === container)?.env ?? []).map((e) => [e.name, e.value]));

describe('vpccni backup', () => {
  it('writes one file that parses and holds the stripped DaemonSet and the add-on record', async () => {
    const out = tmp('vpccni-backup-');
    // The real, built CLI, spawned: the one end-to-end run of backup.
    const result = await vpccni(['--sandbox', 'backup', '--out', out]);
    expect(result.exitCode, result.stderr).toBe(0);
    const path = result.stdout.trim();
    expect(readdirSync(out)).toEqual([path.slice(out.length + 1)]);
    expect(path).toMatch(/aws-node-demo-\d{8}T\d{6}Z\.yaml$/);
    const doc = await readBackup(path);
    expect(doc.cluster).toMatchObject({ name: 'demo', region: 'us-west-2', arn: 'arn:aws:eks:us-west-2:111122223333:cluster/demo' });
    expect(doc.daemonSet).toMatchObject({ kind: 'DaemonSet', metadata: { name: 'aws-node', namespace: 'kube-system' } });
    expect(doc.daemonSet.status).toBeUndefined();
    expect(doc.daemonSet.metadata).not.toHaveProperty('resourceVersion');
    expect(doc.daemonSet.metadata).not.toHaveProperty('uid');
    expect(containersOf(doc.daemonSet).find((c) => c.name === 'aws-node')?.image).toMatch(/amazon-k8s-cni:v1\.12\.6-eksbuild\.2$/);
    // The v1.12.6 manifest has no amazon-vpc-cni ConfigMap (it came with v1.14).
    expect(doc.configMap).toBeNull();
    expect(doc.addon).toMatchObject({ addonName: 'vpc-cni', addonVersion: 'v1.12.6-eksbuild.2' });
  });

  it('writes a second file rather than overwrite, and its JSON output fits the schema', async () => {
    const out = tmp('vpccni-backup-');
    const [a, b] = await Promise.all([
      vpccniInProcess(['--sandbox', '--output', 'json', 'backup', '--out', out]),
      vpccniInProcess(['--sandbox', '--output', 'json', 'backup', '--out', out]),
    ]);
    const docs = [parseJson<{ backup: string }>(a!), parseJson<{ backup: string }>(b!)];
    for (const doc of docs) {
      expect(schemaErrors('backup-output', doc)).toEqual([]);
      expect(doc).toMatchObject({ schemaVersion: 1, cluster: 'demo', daemonSetVersion: 'v1.12.6-eksbuild.2' });
    }
    expect(docs[0]!.backup).not.toBe(docs[1]!.backup);
    expect(readdirSync(out).sort()).toEqual(docs.map((d) => d.backup.slice(out.length + 1)).sort());
  });

  it('keeps the ConfigMap and the ENIConfigs, and the add-on record only when managed', async () => {
    const out = tmp('vpccni-backup-');
    const [selfManaged, managed] = await Promise.all(
      ['self-managed-custom-networking', 'v1.19.3-custom-networking-sgp'].map((s) => vpccniInProcess(['--scenario', s, 'backup', '--out', out])),
    );
    expect(selfManaged!.exitCode, selfManaged!.stderr).toBe(0);
    const a = await readBackup(selfManaged!.stdout.trim());
    expect(a.addon).toBeNull();
    expect(a.eniConfigs.length).toBeGreaterThan(0);
    expect(a.eniConfigs[0]).toMatchObject({ kind: 'ENIConfig' });
    expect(a.eniConfigs[0]!.metadata).not.toHaveProperty('resourceVersion');
    expect(envOf(a.daemonSet)).toMatchObject({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', WARM_IP_TARGET: expect.any(String) });

    expect(managed!.exitCode, managed!.stderr).toBe(0);
    const b = await readBackup(managed!.stdout.trim());
    expect(b.addon).toMatchObject({ addonName: 'vpc-cni', addonVersion: expect.stringMatching(/^v1\.19\.3-eksbuild\.\d+$/) });
    expect(b.configMap).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' } });
    expect(b.eniConfigs.length).toBeGreaterThan(0);
    expect(envOf(b.daemonSet)).toMatchObject({ ENABLE_POD_ENI: 'true' });
  });
});

/** Starts a sandbox for `scenario` and takes a backup of it through the CLI. */
async function backedUp(scenario: string, dir: string) {
  const sandbox = await startSandbox(scenario, { dir });
  const result = await onSandboxInProcess(sandbox, ['backup', '--out', join(dir, 'backups')]);
  expect(result.exitCode, result.stderr).toBe(0);
  const backupPath = result.stdout.trim();
  return { sandbox, env: sandboxEnv(sandbox), global: sandboxFlags(sandbox), backupPath, backup: await readBackup(backupPath) };
}

describe('vpccni restore', () => {
  let sandbox: RunningSandbox;
  let env: Record<string, string | undefined>;
  let global: string[];
  let backupPath: string;
  let backup: BackupDocument;
  const dir = tmp('vpccni-restore-');
  /** Where restore backs up the live objects before its first change (--backup-dir). */
  const beforeDir = join(dir, 'before');
  const backupsBefore = () => (existsSync(beforeDir) ? readdirSync(beforeDir) : []);

  const liveDaemonSet = () => structuredClone(sandbox.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject);
  const mutations = () => sandbox.log.mutating().length;
  const cli = (args: string[]) => vpccniInProcess([...global, ...args, ...(args.includes('restore') ? ['--backup-dir', beforeDir] : [])], { env });
  const kubectl = (args: string[]) =>
    execa('kubectl', ['--kubeconfig', sandbox.kubeconfig, '--context', sandbox.contextName, ...args], {
      env: { KUBECACHEDIR: join(dir, 'kube-cache') },
    });
  /** Waits until the rollout a change by hand started is over (its status updates would make restore's read stale). */
  const rolledOut = async () => expect((await kubectl(['rollout', 'status', 'daemonset/aws-node', '-n', 'kube-system'])).exitCode).toBe(0);

  beforeAll(async () => {
    ({ sandbox, env, global, backupPath, backup } = await backedUp('default', dir));
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('refuses a missing or corrupt backup with exit 2, changing nothing', async () => {
    const before = mutations();
    const missing = await cli(['restore', join(dir, 'nope.yaml'), '--yes']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
    const truncated = join(dir, 'truncated.yaml');
    const text = readFileSync(backupPath, 'utf8');
    writeFileSync(truncated, text.slice(0, Math.floor(text.length / 2)) + '\n  - [unclosed');
    const corrupt = await cli(['restore', truncated, '--yes']);
    expect(corrupt.exitCode).toBe(2);
    expect(corrupt.stderr).toMatch(/^vpccni: The backup file .* (is not valid YAML|is not a vpccni backup)/);
    const plain = join(dir, 'plain-daemonset.yaml');
    writeFileSync(plain, stringify(backup.daemonSet));
    const notOurs = await cli(['restore', plain, '--yes']);
    expect(notOurs.exitCode).toBe(2);
    expect(notOurs.stderr).toMatch(/not a vpccni backup: it is a plain DaemonSet manifest/);
    expect(mutations()).toBe(before);
    expect(backupsBefore()).toEqual([]);
  });

  it('refuses a backup of another cluster with exit 2 before reading or changing the DaemonSet', async () => {
    const other = parse(readFileSync(backupPath, 'utf8')) as BackupDocument;
    other.cluster = { ...other.cluster, name: 'prod', arn: 'arn:aws:eks:us-west-2:111122223333:cluster/prod' };
    containersOf(other.daemonSet)[0]!.image = 'example.com/amazon-k8s-cni:v1.0.0';
    const file = join(dir, 'other-cluster.yaml');
    writeFileSync(file, stringify(other));
    const before = sandbox.log.entries.length;
    const liveBefore = liveDaemonSet();
    const result = await cli(['restore', file, '--yes']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/This backup is of cluster prod in us-west-2, not of demo in us-west-2; refusing to restore it here\./);
    const calls = sandbox.log.entries.slice(before);
    expect(calls.filter((c) => c.mutating)).toEqual([]);
    expect(calls.filter((c) => c.service === 'kube')).toEqual([]);
    expect(liveDaemonSet().spec).toEqual(liveBefore.spec);
    expect(backupsBefore()).toEqual([]);
  });

  it('lists the drift with --dry-run, refuses without --yes off a terminal, and brings the backup back with --yes', async () => {
    // Drift: someone sets WARM_IP_TARGET and changes WARM_ENI_TARGET by hand.
    const set = await kubectl(['set', 'env', 'daemonset/aws-node', '-n', 'kube-system', '-c', 'aws-node', 'WARM_IP_TARGET=99', 'WARM_ENI_TARGET=4']);
    expect(set.exitCode).toBe(0);
    await rolledOut();
    expect(envOf(liveDaemonSet())).toMatchObject({ WARM_IP_TARGET: '99', WARM_ENI_TARGET: '4' });
    const drifted = liveDaemonSet();
    const before = mutations();

    const dry = await cli(['--output', 'json', 'restore', backupPath, '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = parseJson<{ changes: Array<{ path: string; live: unknown; backup: unknown }>; applied: boolean; dryRun: boolean }>(dry);
    expect(schemaErrors('restore', plan)).toEqual([]);
    expect(plan).toMatchObject({ schemaVersion: 1, backup: backupPath, dryRun: true, applied: false });
    expect(plan.changes).toEqual([
      { path: 'spec.template.spec.containers[aws-node].env.WARM_ENI_TARGET', live: '4', backup: envOf(backup.daemonSet).WARM_ENI_TARGET },
      { path: 'spec.template.spec.containers[aws-node].env.WARM_IP_TARGET', live: '99', backup: null },
    ]);
    const dryText = await cli(['restore', backupPath, '--dry-run']);
    expect(dryText.exitCode).toBe(0);
    expect(dryText.stdout).toContain('spec.template.spec.containers[aws-node].env.WARM_IP_TARGET: "99" → (absent)');
    expect(dryText.stdout).toContain('Dry run: nothing was changed.');
    expect(dryText.stderr).toMatch(/managed by EKS, which may put its own settings back/);

    const unconfirmed = await cli(['restore', backupPath]);
    expect(unconfirmed.exitCode).toBe(2);
    expect(unconfirmed.stderr).toMatch(/needs confirmation; pass --yes/);
    expect(mutations()).toBe(before);
    expect(liveDaemonSet().spec).toEqual(drifted.spec);
    // Neither the dry runs nor the unconfirmed run backed anything up.
    expect(plan).toMatchObject({ backupBefore: null });
    expect(backupsBefore()).toEqual([]);

    const applied = await cli(['--output', 'json', 'restore', backupPath, '--yes']);
    expect(applied.exitCode, applied.stderr).toBe(0);
    const report = parseJson<{ backupBefore: string }>(applied);
    expect(schemaErrors('restore', report)).toEqual([]);
    expect(report).toMatchObject({ dryRun: false, applied: true, rolledOut: true, managed: true });
    // Before its change, restore backed up the live objects as they were: the drifted settings.
    expect(backupsBefore()).toEqual([report.backupBefore.slice(beforeDir.length + 1)]);
    expect(report.backupBefore).toMatch(/aws-node-demo-\d{8}T\d{6}Z\.yaml$/);
    const taken = await readBackup(report.backupBefore);
    expect(envOf(taken.daemonSet)).toMatchObject({ WARM_IP_TARGET: '99', WARM_ENI_TARGET: '4' });
    expect(taken.cluster).toMatchObject({ name: 'demo', region: 'us-west-2' });
    expect(taken.addon).toMatchObject({ addonName: 'vpc-cni' });
    const kubeMutations = sandbox.log.mutating().slice(before);
    expect(kubeMutations.map((m) => `${m.service} ${m.operation} ${m.status}`)).toEqual(['kube PUT daemonsets/aws-node 200']);
    const restored = liveDaemonSet();
    expect(envOf(restored)).not.toHaveProperty('WARM_IP_TARGET');
    expect(envOf(restored).WARM_ENI_TARGET).toBe(envOf(backup.daemonSet).WARM_ENI_TARGET);
    expect(planRestore(restored, backup.daemonSet)).toEqual([]);

    const again = await cli(['restore', backupPath, '--yes']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/^Nothing to restore: the aws-node DaemonSet of demo already matches the backup/);
    expect(again.stderr).not.toContain('Backup of the live objects');
    expect(mutations()).toBe(before + 1);
    // Nothing to restore, nothing backed up.
    expect(backupsBefore()).toHaveLength(1);
  });

  it('brings back an image changed by hand', async () => {
    const set = await kubectl(['set', 'image', 'daemonset/aws-node', '-n', 'kube-system', 'aws-node=example.com/mirror/amazon-k8s-cni:v1.12.6']);
    expect(set.exitCode).toBe(0);
    await rolledOut();
    // The real, built CLI, spawned: the one end-to-end run of restore.
    const result = await vpccni([...global, 'restore', backupPath, '--yes', '--backup-dir', beforeDir], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`Backup of the live objects: ${beforeDir}/aws-node-demo-\\d{8}T\\d{6}Z(-\\d+)?\\.yaml`));
    expect(result.stdout).toContain(
      'spec.template.spec.containers[aws-node].image: "example.com/mirror/amazon-k8s-cni:v1.12.6" → "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.12.6-eksbuild.2"',
    );
    expect(result.stdout).toMatch(/Restored daemonset\/aws-node on demo from .*; it runs v1\.12\.6-eksbuild\.2 and has rolled out\./);
    expect(containersOf(liveDaemonSet()).find((c) => c.name === 'aws-node')?.image).toBe(
      containersOf(backup.daemonSet).find((c) => c.name === 'aws-node')?.image,
    );
  });

  it('a rollout that does not finish stops with exit 4 naming the command that continues and the one that goes back; going back puts the DaemonSet back', async () => {
    const set = await kubectl(['set', 'env', 'daemonset/aws-node', '-n', 'kube-system', '-c', 'aws-node', 'WARM_IP_TARGET=42']);
    expect(set.exitCode).toBe(0);
    await rolledOut();
    const getDaemonSet = async () => JSON.parse((await kubectl(['get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json'])).stdout) as KubeObject;
    const drifted = await getDaemonSet();
    expect(envOf(drifted).WARM_IP_TARGET).toBe('42');
    const taken = backupsBefore().length;

    sandbox.store.rolloutNeverFinishes = true;
    let stopped;
    try {
      stopped = await cli(['restore', backupPath, '--yes', '--timeout', '2s']);
    } finally {
      sandbox.store.rolloutNeverFinishes = false;
    }
    expect(stopped.exitCode, stopped.stderr).toBe(4);
    // The backup of the live objects, named on stderr, holds the DaemonSet as it was before the restore.
    expect(backupsBefore()).toHaveLength(taken + 1);
    const path = /Backup of the live objects: (\S+)/.exec(stopped.stderr)?.[1] ?? '';
    expect(backupsBefore()).toContain(basename(path));
    expect(envOf((await readBackup(path)).daemonSet).WARM_IP_TARGET).toBe('42');
    const where = `--context ${sandbox.contextName} --cluster demo --region us-west-2`;
    const last = stopped.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/rollout did not finish within 2 s/);
    expect(last.endsWith(`continue: vpccni restore ${backupPath} --yes ${where}; go back: vpccni restore ${path} --yes ${where}`)).toBe(true);
    expect(envOf(await getDaemonSet())).not.toHaveProperty('WARM_IP_TARGET');

    // Going back: the exact command of the stop, in-process (the kubeconfig is this sandbox's).
    await rolledOut();
    const goBack = last.slice(last.indexOf('go back: vpccni ') + 'go back: vpccni '.length).split(' ');
    const back = await vpccniInProcess(['--kubeconfig', sandbox.kubeconfig, ...goBack, '--backup-dir', beforeDir], { env });
    expect(back.exitCode, back.stderr).toBe(0);
    expect(back.stdout).toContain('spec.template.spec.containers[aws-node].env.WARM_IP_TARGET: (absent) → "42"');
    const now = await getDaemonSet();
    expect(envOf(now).WARM_IP_TARGET).toBe('42');
    expect((now.spec as { template: unknown }).template).toEqual((drifted.spec as { template: unknown }).template);
  });

  it('with the DaemonSet gone: backup exits 3 saying so, restore creates it again', async () => {
    const deleted = await kubectl(['delete', 'daemonset', 'aws-node', '-n', 'kube-system', '--wait=false']);
    expect(deleted.exitCode).toBe(0);
    const none = await cli(['backup', '--out', join(dir, 'backups')]);
    expect(none.exitCode).toBe(3);
    expect(none.stderr).toMatch(/^vpccni: Cluster "demo" has no aws-node DaemonSet in kube-system, so there is nothing to back up; /);
    expect(none.stdout).toBe('');

    const result = await cli(['--output', 'json', 'restore', backupPath, '--yes']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseJson<{ changes: Array<{ path: string; live: unknown }>; applied: boolean }>(result);
    expect(schemaErrors('restore', report)).toEqual([]);
    expect(report.applied).toBe(true);
    expect(report.changes).toEqual([{ path: 'daemonset/aws-node', live: null, backup: expect.stringMatching(/whole DaemonSet/) }]);
    expect(planRestore(liveDaemonSet(), backup.daemonSet)).toEqual([]);
  });
});

describe('vpccni restore of the ConfigMap and the ENIConfigs', () => {
  let sandbox: RunningSandbox;
  let env: Record<string, string | undefined>;
  let global: string[];
  let backupPath: string;
  let backup: BackupDocument;
  const dir = tmp('vpccni-restore-cm-');
  const ENI = 'crd.k8s.amazonaws.com/v1alpha1';

  const cli = (args: string[]) => vpccniInProcess([...global, ...args, ...(args.includes('restore') ? ['--backup-dir', join(dir, 'before')] : [])], { env });
  const mutations = () => sandbox.log.mutating().length;
  const configMap = () => sandbox.store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system') as KubeObject;
  const eniConfig = (name: string) => sandbox.store.get(ENI, 'ENIConfig', name);
  const backupEniConfig = (name: string) => backup.eniConfigs.find((e) => e.metadata.name === name)!;

  beforeAll(async () => {
    ({ sandbox, env, global, backupPath, backup } = await backedUp('v1.19.3-custom-networking-sgp', dir));
    expect(backup.configMap).not.toBeNull();
    expect(backup.eniConfigs.map((e) => e.metadata.name).sort()).toEqual(['us-west-2a', 'us-west-2b', 'us-west-2c']);
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('lists ConfigMap and ENIConfig drift with --dry-run, refuses unconfirmed, puts them back with --yes, then has nothing to do', async () => {
    // Drift: a ConfigMap key flipped, one ENIConfig moved to another subnet, one deleted, one added by hand.
    const cm = configMap();
    const data = cm.data as Record<string, string>;
    const key = 'enable-network-policy-controller';
    const backupValue = (backup.configMap!.data as Record<string, string>)[key];
    expect(backupValue).toBe('false');
    sandbox.store.put({ ...cm, data: { ...data, [key]: 'true' } });
    const a = eniConfig('us-west-2a')!;
    sandbox.store.put({ ...a, spec: { ...(a.spec as object), subnet: 'subnet-0fffffffffffffff0' } });
    expect(sandbox.store.delete(ENI, 'ENIConfig', 'us-west-2b')).toBe(true);
    sandbox.store.put({ apiVersion: ENI, kind: 'ENIConfig', metadata: { name: 'us-west-2d' }, spec: { subnet: 'subnet-0d', securityGroups: ['sg-0d'] } });
    const before = mutations();

    const dry = await cli(['--output', 'json', 'restore', backupPath, '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = parseJson<Record<string, unknown>>(dry);
    expect(schemaErrors('restore', plan)).toEqual([]);
    const b = backupEniConfig('us-west-2b').spec as { subnet: string; securityGroups: string[] };
    expect(plan).toMatchObject({ dryRun: true, applied: false, changes: [], kept: ['eniconfig/us-west-2d'], rolledOut: null });
    expect(plan.objects).toEqual([
      { object: 'configmap/amazon-vpc-cni', action: 'replace', applied: false, changes: [{ path: `data.${key}`, live: 'true', backup: 'false' }] },
      {
        object: 'eniconfig/us-west-2a',
        action: 'replace',
        applied: false,
        changes: [{ path: 'spec.subnet', live: 'subnet-0fffffffffffffff0', backup: (backupEniConfig('us-west-2a').spec as { subnet: string }).subnet }],
      },
      {
        object: 'eniconfig/us-west-2b',
        action: 'create',
        applied: false,
        changes: [
          { path: 'spec.securityGroups', live: null, backup: b.securityGroups },
          { path: 'spec.subnet', live: null, backup: b.subnet },
        ],
      },
    ]);
    const dryText = await cli(['restore', backupPath, '--dry-run']);
    expect(dryText.exitCode, dryText.stderr).toBe(0);
    expect(dryText.stdout).toContain(`configmap/amazon-vpc-cni data.${key}: "true" → "false"`);
    expect(dryText.stdout).toContain('eniconfig/us-west-2a spec.subnet: "subnet-0fffffffffffffff0" → ');
    expect(dryText.stdout).toContain('eniconfig/us-west-2b: (absent) → (create)');
    expect(dryText.stdout).toContain(`eniconfig/us-west-2b spec.subnet: (absent) → "${b.subnet}"`);
    expect(dryText.stdout).toMatch(/Left as they are \(live, but not in the backup; restore never deletes\): eniconfig\/us-west-2d\./);
    expect(dryText.stdout).toContain('Dry run: nothing was changed.');

    const unconfirmed = await cli(['restore', backupPath]);
    expect(unconfirmed.exitCode).toBe(2);
    expect(unconfirmed.stderr).toMatch(/needs confirmation; pass --yes/);
    expect(mutations()).toBe(before);
    expect((configMap().data as Record<string, string>)[key]).toBe('true');
    expect(eniConfig('us-west-2b')).toBeUndefined();

    const applied = await cli(['--output', 'json', 'restore', backupPath, '--yes']);
    expect(applied.exitCode, applied.stderr).toBe(0);
    const report = parseJson<{ objects: Array<{ object: string; applied: boolean }> }>(applied);
    expect(schemaErrors('restore', report)).toEqual([]);
    // The DaemonSet matched, so it was neither replaced nor waited for.
    expect(report).toMatchObject({ applied: true, rolledOut: null, changes: [], kept: ['eniconfig/us-west-2d'] });
    expect(report.objects.map((o) => [o.object, o.applied])).toEqual([
      ['configmap/amazon-vpc-cni', true],
      ['eniconfig/us-west-2a', true],
      ['eniconfig/us-west-2b', true],
    ]);
    expect(sandbox.log.mutating().slice(before).map((m) => `${m.service} ${m.operation} ${m.status}`)).toEqual([
      'kube PUT configmaps/amazon-vpc-cni 200',
      'kube PUT eniconfigs/us-west-2a 200',
      'kube POST eniconfigs/us-west-2b 201',
    ]);
    expect(configMap().data).toEqual(backup.configMap!.data);
    expect(configMap().metadata.labels).toEqual(cm.metadata.labels);
    for (const name of ['us-west-2a', 'us-west-2b', 'us-west-2c']) expect(eniConfig(name)?.spec).toEqual(backupEniConfig(name).spec);
    expect(eniConfig('us-west-2d')?.spec).toEqual({ subnet: 'subnet-0d', securityGroups: ['sg-0d'] });

    const again = await cli(['restore', backupPath, '--yes']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /^Nothing to restore: the aws-node DaemonSet, the amazon-vpc-cni ConfigMap and 3 ENIConfig\(s\) of demo already match the backup/,
    );
    expect(again.stdout).toContain('eniconfig/us-west-2d');
    expect(mutations()).toBe(before + 3);
  });

  it('creates the ConfigMap when it is gone, with the DaemonSet drift in the same run', async () => {
    expect(sandbox.store.delete('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system')).toBe(true);
    const kubectl = (args: string[]) =>
      execa('kubectl', ['--kubeconfig', sandbox.kubeconfig, '--context', sandbox.contextName, ...args], { env: { KUBECACHEDIR: join(dir, 'kube-cache') } });
    const set = await kubectl(['set', 'env', 'daemonset/aws-node', '-n', 'kube-system', '-c', 'aws-node', 'WARM_IP_TARGET=7']);
    expect(set.exitCode).toBe(0);
    // Its rollout over first: the rollout's status updates would make restore's read of the DaemonSet stale.
    expect((await kubectl(['rollout', 'status', 'daemonset/aws-node', '-n', 'kube-system'])).exitCode).toBe(0);
    const before = mutations();
    const result = await cli(['restore', backupPath, '--yes']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('daemonset/aws-node spec.template.spec.containers[aws-node].env.WARM_IP_TARGET: "7" → (absent)');
    expect(result.stdout).toContain('configmap/amazon-vpc-cni: (absent) → (create)');
    expect(result.stdout).toMatch(/Restored configmap\/amazon-vpc-cni \(created\) on demo from /);
    expect(sandbox.log.mutating().slice(before).map((m) => `${m.operation} ${m.status}`)).toEqual([
      'PUT daemonsets/aws-node 200',
      'POST configmaps/amazon-vpc-cni 201',
    ]);
    expect(configMap().data).toEqual(backup.configMap!.data);
    expect(envOf(sandbox.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')!)).not.toHaveProperty('WARM_IP_TARGET');
  });
});

describe('planRestore', () => {
  const ds = (containers: unknown[], extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'aws-node', namespace: 'kube-system', resourceVersion: '7', uid: 'u' },
    spec: { template: { spec: { containers, ...extra } } },
    status: { numberReady: 3 },
  });

  it('diffs images, env, resources, init containers, affinity, tolerations and anything else of the spec', () => {
    const live = ds(
      [{ name: 'aws-node', image: 'a:2', env: [{ name: 'X', value: '1' }], resources: { requests: { cpu: '50m' } } }],
      { tolerations: [{ operator: 'Exists' }], hostNetwork: true, initContainers: [{ name: 'init', image: 'i:2' }] },
    );
    const backup = ds(
      [{ name: 'aws-node', image: 'a:1', env: [{ name: 'X', value: '2' }, { name: 'Y', value: 'y' }], resources: { requests: { cpu: '25m' } } }],
      {
        tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: {} },
        initContainers: [{ name: 'init', image: 'i:1' }],
      },
    );
    expect(planRestore(live, backup)).toEqual([
      { path: 'spec.template.spec.affinity', live: null, backup: { nodeAffinity: {} } },
      { path: 'spec.template.spec.containers[aws-node].env.X', live: '1', backup: '2' },
      { path: 'spec.template.spec.containers[aws-node].env.Y', live: null, backup: 'y' },
      { path: 'spec.template.spec.containers[aws-node].image', live: 'a:2', backup: 'a:1' },
      { path: 'spec.template.spec.containers[aws-node].resources.requests.cpu', live: '50m', backup: '25m' },
      { path: 'spec.template.spec.hostNetwork', live: true, backup: null },
      { path: 'spec.template.spec.initContainers[init].image', live: 'i:2', backup: 'i:1' },
      { path: 'spec.template.spec.tolerations', live: [{ operator: 'Exists' }], backup: [{ operator: 'Exists', effect: 'NoSchedule' }] },
    ]);
  });

  it('ignores server fields and status; a container only on one side is one line', () => {
    const live = ds([{ name: 'aws-node', image: 'a:1' }, { name: 'aws-eks-nodeagent', image: 'n:1' }]);
    const backup = ds([{ name: 'aws-node', image: 'a:1' }]);
    backup.metadata = { name: 'aws-node', namespace: 'kube-system' };
    delete backup.status;
    expect(planRestore(live, backup)).toEqual([
      { path: 'spec.template.spec.containers[aws-eks-nodeagent]', live: { name: 'aws-eks-nodeagent', image: 'n:1' }, backup: null },
    ]);
    expect(planRestore(live, live)).toEqual([]);
  });

  it('diffs the ConfigMap data by key and the ENIConfig specs by name, never deleting a live-only ENIConfig', () => {
    const cm = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' }, data });
    expect(planConfigMapRestore(cm({ a: '1', b: '2' }), cm({ a: '1', b: '3', c: '4' }))).toEqual({
      object: 'configmap/amazon-vpc-cni',
      action: 'replace',
      changes: [
        { path: 'data.b', live: '2', backup: '3' },
        { path: 'data.c', live: null, backup: '4' },
      ],
    });
    expect(planConfigMapRestore(cm({ a: '1' }), cm({ a: '1' }))).toBeNull();
    expect(planConfigMapRestore(cm({ a: '1' }), null)).toBeNull();
    expect(planConfigMapRestore(null, cm({ a: '1' }))).toMatchObject({ action: 'create', changes: [{ path: 'data.a', live: null, backup: '1' }] });

    const eni = (name: string, subnet: string): KubeObject => ({
      apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
      kind: 'ENIConfig',
      metadata: { name, resourceVersion: '3' },
      spec: { subnet, securityGroups: ['sg-1'] },
    });
    expect(planEniConfigRestore([eni('b', 's-live'), eni('c', 's-c'), eni('x', 's-x')], [eni('c', 's-c'), eni('b', 's-b'), eni('a', 's-a')])).toEqual({
      objects: [
        { object: 'eniconfig/a', action: 'create', changes: [{ path: 'spec.securityGroups', live: null, backup: ['sg-1'] }, { path: 'spec.subnet', live: null, backup: 's-a' }] },
        { object: 'eniconfig/b', action: 'replace', changes: [{ path: 'spec.subnet', live: 's-live', backup: 's-b' }] },
      ],
      notInBackup: ['eniconfig/x'],
    });
  });
});
