/**
 * Restore names every setting it changes back in the settings model's vocabulary (issue 10): on a cluster
 * drifted many ways since the backup (env on both containers, a node agent argument, a digest pin,
 * nodeSelector, updateStrategy, a pod annotation, a sidecar, ConfigMap keys, an ENIConfig), the dry run lists
 * each one with the same paths upgrade uses, and the restore puts every one back. In process: the real
 * restore code, the real SDK and the in-process Kubernetes client against the sandbox.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupDocumentOf, readBackup, toYaml } from '../src/act/backup.js';
import { runRestore, type RestoreReport } from '../src/act/restore.js';
import type { KubeObject } from '../src/decide/manifests.js';
import { UpgradeStoppedError } from '../src/errors.js';
import { gatherFacts } from '../src/gather/facts.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { apiRuntimes } from './helpers/api-runtime.js';
import { schemaErrors } from './helpers/schemas.js';
import { recordingUi, sandboxesClosedAfterEach } from './helpers/in-process-runtime.js';

type Container = { name: string; image: string; env?: Array<{ name: string; value?: string }>; args?: string[] };
type Pod = { containers: Container[]; initContainers?: Container[]; nodeSelector?: Record<string, string> };
type Ds = KubeObject & { spec: { updateStrategy: unknown; template: { metadata: { annotations?: Record<string, string> }; spec: Pod } } };

const sandboxOf = sandboxesClosedAfterEach();
const runtimeFor = apiRuntimes();
const DIGEST = 'sha256:7d3f9a1e5b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e';

const daemonSet = (sandbox: RunningSandbox): Ds => structuredClone(sandbox.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')) as Ds;
const container = (ds: Ds, name: string): Container => [...ds.spec.template.spec.containers, ...(ds.spec.template.spec.initContainers ?? [])].find((c) => c.name === name)!;
const envOf = (c: Container): Record<string, string | undefined> => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

/** Drifts the live install every way a hand edit does (through the store, as `kubectl edit` would). */
function drift(sandbox: RunningSandbox): void {
  const ds = daemonSet(sandbox);
  const cni = container(ds, 'aws-node');
  cni.env = (cni.env ?? []).map((e) => (e.name === 'WARM_PREFIX_TARGET' ? { ...e, value: '4' } : e));
  cni.image = `${cni.image}@${DIGEST}`;
  const init = container(ds, 'aws-vpc-cni-init');
  init.env = (init.env ?? []).filter((e) => e.name !== 'DISABLE_TCP_EARLY_DEMUX');
  const agent = container(ds, 'aws-eks-nodeagent');
  agent.args = (agent.args ?? []).map((a) => (a === '--enable-network-policy=true' ? '--enable-network-policy=false' : a));
  ds.spec.template.spec.nodeSelector = { ...ds.spec.template.spec.nodeSelector, 'example.com/pool': 'cni' };
  ds.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%' } };
  ds.spec.template.metadata.annotations = { ...ds.spec.template.metadata.annotations, 'example.com/edited-by': 'someone' };
  ds.spec.template.spec.containers.push({ name: 'debug-shell', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-for-fluent-bit:2.31.12' });
  sandbox.store.put(ds);
  const cm = structuredClone(sandbox.store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system')) as KubeObject & { data: Record<string, string> };
  cm.data = { ...cm.data, 'enable-network-policy-controller': 'false', 'enable-windows-ipam': 'false' };
  sandbox.store.put(cm);
  const eni = structuredClone(sandbox.store.get('crd.k8s.amazonaws.com/v1alpha1', 'ENIConfig', 'us-west-2a')) as KubeObject & { spec: { subnet: string } };
  eni.spec = { ...eni.spec, subnet: 'subnet-0ffffffffffffffff' };
  sandbox.store.put(eni);
}

describe('restore changes back every setting, named by the settings model', () => {
  it('lists env, args, digest, nodeSelector, updateStrategy, annotation, sidecar, ConfigMap keys and the ENIConfig; then puts each back', async () => {
    const sandbox = await sandboxOf('custom-settings-network-policy', (s) => {
      s.eniConfigs = [{ name: 'us-west-2a', subnet: 'subnet-0a1b2c3d4e5f60718', securityGroups: ['sg-0b1c2d3e4f5a60789'] }];
    });
    const file = join(mkdtempSync(join(tmpdir(), 'vpccni-restore-settings-')), 'backup.yaml');
    writeFileSync(file, toYaml(backupDocumentOf(await gatherFacts(runtimeFor(sandbox)))));
    const doc = await readBackup(file);
    drift(sandbox);
    const backupDir = mkdtempSync(join(tmpdir(), 'vpccni-restore-settings-before-'));

    const ui = recordingUi('json');
    await expect(runRestore(runtimeFor(sandbox, ui), file, doc, { dryRun: true, yes: false, timeoutSeconds: 60, backupDir })).resolves.toBe(0);
    const report = ui.documents.at(-1) as RestoreReport;
    expect(schemaErrors('restore', report)).toEqual([]);
    // A dry run takes no backup.
    expect(report.backupBefore).toBeNull();
    expect(readdirSync(backupDir)).toEqual([]);
    expect(report.settings).toEqual([
      { path: 'configMap.enable-network-policy-controller', live: 'false', backup: 'true' },
      { path: 'configMap.enable-windows-ipam', live: 'false', backup: 'true' },
      { path: 'containers[aws-eks-nodeagent].args.--enable-network-policy', live: 'false', backup: 'true' },
      { path: 'containers[aws-node].env.WARM_PREFIX_TARGET', live: '4', backup: '2' },
      { path: 'containers[aws-node].image.digest', live: DIGEST, backup: null },
      { path: 'containers[debug-shell]', live: expect.objectContaining({ name: 'debug-shell' }), backup: null },
      { path: 'eniConfig[us-west-2a]', live: expect.objectContaining({ subnet: 'subnet-0ffffffffffffffff' }), backup: expect.objectContaining({ subnet: 'subnet-0a1b2c3d4e5f60718' }) },
      { path: 'initContainers[aws-vpc-cni-init].env.DISABLE_TCP_EARLY_DEMUX', live: null, backup: 'true' },
      { path: 'nodeSelector.example.com/pool', live: 'cni', backup: null },
      { path: 'template.annotations.example.com/edited-by', live: 'someone', backup: null },
      { path: 'updateStrategy', live: expect.objectContaining({ rollingUpdate: { maxUnavailable: '50%' } }), backup: expect.objectContaining({ type: 'RollingUpdate' }) },
    ]);
    expect(sandbox.log.mutating()).toEqual([]);

    const text = recordingUi();
    await expect(runRestore(runtimeFor(sandbox, text), file, doc, { dryRun: false, yes: true, timeoutSeconds: 60, backupDir })).resolves.toBe(0);
    expect(text.stdout.join('\n')).toMatch(/The settings it changes back \(11, live → backup\):\n {2}configMap\.enable-network-policy-controller: "false" → "true"/);
    // Before the first change, a backup of the live objects as they were (the drifted settings), named on stderr.
    const [written] = readdirSync(backupDir);
    expect(written).toMatch(/^aws-node-demo-\d{8}T\d{6}Z\.yaml$/);
    expect(text.stderr).toContain(`Backup of the live objects: ${join(backupDir, written!)}`);
    const before = await readBackup(join(backupDir, written!));
    const beforeDs = before.daemonSet as Ds;
    expect(envOf(container(beforeDs, 'aws-node')).WARM_PREFIX_TARGET).toBe('4');
    expect(container(beforeDs, 'aws-node').image).toContain(`@${DIGEST}`);
    expect(beforeDs.spec.template.spec.containers.map((c) => c.name)).toContain('debug-shell');
    expect(before.configMap?.data).toMatchObject({ 'enable-network-policy-controller': 'false' });
    expect(before.eniConfigs.map((e) => (e.spec as { subnet: string }).subnet)).toEqual(['subnet-0ffffffffffffffff']);
    const ds = daemonSet(sandbox);
    expect(envOf(container(ds, 'aws-node')).WARM_PREFIX_TARGET).toBe('2');
    expect(container(ds, 'aws-node').image).not.toContain('@sha256:');
    expect(envOf(container(ds, 'aws-vpc-cni-init')).DISABLE_TCP_EARLY_DEMUX).toBe('true');
    expect(container(ds, 'aws-eks-nodeagent').args).toContain('--enable-network-policy=true');
    expect(ds.spec.template.spec.nodeSelector?.['example.com/pool']).toBeUndefined();
    expect(ds.spec.updateStrategy).toEqual((doc.daemonSet.spec as { updateStrategy: unknown }).updateStrategy);
    expect(ds.spec.template.metadata.annotations?.['example.com/edited-by']).toBeUndefined();
    expect(ds.spec.template.spec.containers.map((c) => c.name)).not.toContain('debug-shell');
    const cm = sandbox.store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system') as unknown as { data: Record<string, string> };
    expect(cm.data).toMatchObject({ 'enable-network-policy-controller': 'true', 'enable-windows-ipam': 'true' });
    expect((sandbox.store.get('crd.k8s.amazonaws.com/v1alpha1', 'ENIConfig', 'us-west-2a') as unknown as { spec: { subnet: string } }).spec.subnet).toBe('subnet-0a1b2c3d4e5f60718');
  });
});

describe('restore stopped part-way (exit 4)', () => {
  it('ends with the command that continues and the one that goes back; going back puts the drifted objects back', async () => {
    const sandbox = await sandboxOf('custom-settings-network-policy', (s) => {
      s.eniConfigs = [{ name: 'us-west-2a', subnet: 'subnet-0a1b2c3d4e5f60718', securityGroups: ['sg-0b1c2d3e4f5a60789'] }];
    });
    const file = join(mkdtempSync(join(tmpdir(), 'vpccni-restore-partway-')), 'backup.yaml');
    writeFileSync(file, toYaml(backupDocumentOf(await gatherFacts(runtimeFor(sandbox)))));
    drift(sandbox);
    const drifted = { daemonSet: daemonSet(sandbox), configMap: structuredClone(sandbox.store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system')) as KubeObject };
    const backupDir = mkdtempSync(join(tmpdir(), 'vpccni-restore-partway-before-'));

    // Someone changes the ConfigMap between restore's read and its replace: the API server refuses it (409).
    const runtime = runtimeFor(sandbox);
    const run = runtime.kube.run.bind(runtime.kube);
    runtime.kube.run = async (args, options) => {
      if (options?.input?.includes('"kind":"ConfigMap"')) {
        const cm = structuredClone(sandbox.store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system')) as KubeObject & { data: Record<string, string> };
        sandbox.store.put({ ...cm, data: { ...cm.data, 'enable-windows-ipam': 'true' } });
      }
      return run(args, options);
    };
    const error = await runRestore(runtime, file, await readBackup(file), { dryRun: false, yes: true, timeoutSeconds: 60, backupDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpgradeStoppedError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Restore stopped part-way at configmap\/amazon-vpc-cni: .* changed while restore was running/);
    const [written] = readdirSync(backupDir);
    const before = join(backupDir, written!);
    const where = `--context ${runtime.kubeContext!.name} --cluster demo --region us-west-2`;
    expect(message.endsWith(`continue: vpccni restore ${file} --yes ${where}; go back: vpccni restore ${before} --yes ${where}`)).toBe(true);
    expect(envOf(container(daemonSet(sandbox), 'aws-node')).WARM_PREFIX_TARGET).toBe('2');

    // The replaced DaemonSet's rollout over first: its status updates would make the next read stale.
    await expect(runtime.kube.rolloutStatus(60, () => undefined)).resolves.toBe(true);
    // Going back: restore of the backup taken before the change (its own backup goes elsewhere).
    const again = mkdtempSync(join(tmpdir(), 'vpccni-restore-partway-again-'));
    await expect(runRestore(runtimeFor(sandbox), before, await readBackup(before), { dryRun: false, yes: true, timeoutSeconds: 60, backupDir: again })).resolves.toBe(0);
    const ds = daemonSet(sandbox);
    expect(envOf(container(ds, 'aws-node')).WARM_PREFIX_TARGET).toBe('4');
    expect(ds.spec.template.spec).toEqual(drifted.daemonSet.spec.template.spec);
    expect((sandbox.store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system') as KubeObject).data).toEqual(drifted.configMap.data);
  });
});
