/**
 * Issue 19 end to end: the CLI in-process (main(argv)), the real SDK and the in-process Kubernetes client against
 * an in-process sandbox that applies the add-on as EKS does (server-side apply as `eks`, conflicts from
 * managedFields). Custom settings are set with an independent kubectl before each run, and the live DaemonSet is
 * read with kubectl afterwards.
 * - A self-managed install with custom env, resources, tolerations, nodeSelector and a sidecar is adopted with no
 *   conflict flag, first time: vpccni predicts NONE's ConfigurationConflict and adopts with OVERWRITE and the
 *   carried values; `--resolve-conflicts NONE` is refused with exit 2 before any change, naming the fields.
 * - A managed add-on whose image kubectl pointed at a mirror: OVERWRITE names the registry as reset.
 * - A managed add-on whose node agent kubectl started with --enable-policy-event-logs=true: OVERWRITE carries it
 *   into nodeAgent.enablePolicyEventLogs rather than refuse it as lost.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario, startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import type { Scenario } from '../src/sandbox/scenario-types.js';
import { parseJson } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { kubectlFor } from './helpers/kubectl.js';
import { schemaErrors } from './helpers/schemas.js';

useInProcessCli();

interface Step { from: string; to: string; action: string; resolveConflicts: string | null; resolveConflictsReason?: string; result: string }
interface Report {
  steps: Step[];
  carriedSettings?: Array<{ path: string; value: unknown }>;
  keptSettings?: Array<{ path: string; reason: string }>;
  droppedSettings?: Array<{ path: string; value: unknown; reason: string }>;
}
interface Container { name: string; image: string; args?: string[]; env?: Array<{ name: string; value?: string }>; resources?: unknown }
interface PodSpec { containers: Container[]; tolerations?: unknown; nodeSelector?: Record<string, string> }

const open: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sandboxFor(name: string): Promise<RunningSandbox> {
  const s: Scenario = loadScenario(name);
  s.sandbox = { ...s.sandbox, updateDurationMs: 50, rolloutDurationMs: 50 };
  const sandbox = await startSandbox(s);
  open.push(sandbox);
  return sandbox;
}

const backupDir = () => mkdtempSync(join(tmpdir(), 'vpccni-adopt-'));
const eksCalls = (sandbox: RunningSandbox) => sandbox.log.mutating().filter((e) => e.service === 'eks').map((e) => `${e.method} ${e.path.split('?')[0]}`);

/** kubectl 1.33 against the sandbox, failing the test when it fails. */
function kubectl(sandbox: RunningSandbox) {
  const run = kubectlFor('1.33', sandbox.kubeconfig);
  return async (...args: string[]): Promise<string> => {
    const result = await run('--context', sandbox.contextName, ...args);
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout;
  };
}

async function podSpec(sandbox: RunningSandbox): Promise<PodSpec> {
  const out = await kubectl(sandbox)('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json');
  return (JSON.parse(out) as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

const RESOURCES = { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } };
const TOLERATIONS = [{ key: 'dedicated', operator: 'Equal', value: 'network', effect: 'NoSchedule' }];
const SIDECAR = { name: 'cni-log-shipper', image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-for-fluent-bit:2.31.12' };

/** Customises the self-managed aws-node with kubectl as a user would: resources, tolerations, nodeSelector, a sidecar. */
async function customise(sandbox: RunningSandbox): Promise<void> {
  const patch = {
    spec: {
      template: {
        spec: {
          nodeSelector: { 'example.com/cni': 'vpc' },
          tolerations: TOLERATIONS,
          containers: [{ name: 'aws-node', resources: RESOURCES }, SIDECAR],
        },
      },
    },
  };
  await kubectl(sandbox)('patch', 'daemonset', 'aws-node', '-n', 'kube-system', '--type', 'strategic', '-p', JSON.stringify(patch));
}

describe('adopting a self-managed install with custom settings (issue 19)', () => {
  it('with no conflict flag adopts it first time with OVERWRITE and the carried values, every setting carried or named', async () => {
    const sandbox = await sandboxFor('self-managed-custom-networking');
    await customise(sandbox);
    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--backup-dir', backupDir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<Report>(run);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    const [create] = report.steps;
    expect(create).toMatchObject({ action: 'create', resolveConflicts: 'OVERWRITE', result: 'succeeded' });
    expect(create!.resolveConflictsReason).toContain('NONE would stop with ConfigurationConflict');
    expect(create!.resolveConflictsReason).toMatch(/on 7 fields another manager set \(ClusterRole.rbac.authorization.k8s.io aws-node - .metadata.labels.app.kubernetes.io\/version \(owned by kubectl-client-side-apply\)/);
    // One CreateAddon, and the add-on ACTIVE: no CREATE_FAILED on the way.
    expect(eksCalls(sandbox).filter((c) => c === 'POST /clusters/demo/addons')).toHaveLength(1);
    expect(sandbox.addon()).toMatchObject({ status: 'ACTIVE', addonVersion: 'v1.13.4-eksbuild.1' });
    const stored = JSON.parse(sandbox.addon()!.configurationValues!) as Record<string, unknown>;
    expect(stored).toMatchObject({ env: { WARM_IP_TARGET: '10', AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }, resources: RESOURCES, tolerations: TOLERATIONS });
    // Carried or named: resources and tolerations carried; nodeSelector and the sidecar kept (EKS does not render them).
    expect(report.carriedSettings?.map((c) => c.path)).toEqual(expect.arrayContaining(['env.WARM_IP_TARGET', 'resources', 'tolerations']));
    expect(report.keptSettings?.map((k) => k.path)).toEqual(expect.arrayContaining(['nodeSelector.example.com/cni', 'containers[cni-log-shipper]']));
    expect(report.droppedSettings ?? []).toEqual([]);

    const spec = await podSpec(sandbox);
    const node = spec.containers.find((c) => c.name === 'aws-node')!;
    expect(node.image).toBe('602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.13.4-eksbuild.1');
    expect(new Map((node.env ?? []).map((e) => [e.name, e.value])).get('WARM_IP_TARGET')).toBe('10');
    expect(node.resources).toEqual(RESOURCES);
    expect(spec.tolerations).toEqual(TOLERATIONS);
    expect(spec.nodeSelector).toMatchObject({ 'example.com/cni': 'vpc' });
    expect(spec.containers.map((c) => c.name)).toContain('cni-log-shipper');
  }, 300_000);

  it('--resolve-conflicts NONE is refused with exit 2 before any change, naming the conflicting fields and the command that works', async () => {
    const sandbox = await sandboxFor('self-managed-custom-networking');
    await customise(sandbox);
    const dir = backupDir();
    const before = sandbox.log.mutating().length;
    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--resolve-conflicts', 'NONE', '--backup-dir', dir]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--resolve-conflicts NONE would fail');
    expect(run.stderr).toContain('DaemonSet.apps aws-node - .spec.template.spec.containers[name="aws-node"].image');
    expect(run.stderr).toContain('DaemonSet.apps aws-node - .spec.template.spec.initContainers[name="aws-vpc-cni-init"].image (owned by kubectl-client-side-apply)');
    // The custom resources are no conflict: the carried values make EKS render the same.
    expect(run.stderr).not.toContain('.resources');
    expect(run.stderr).toContain('without --resolve-conflicts');
    expect(sandbox.log.mutating().slice(before)).toEqual([]);
    expect(sandbox.addon()).toBeNull();
  }, 300_000);
  it('reads the field owners through the kubectl fallback too (--show-managed-fields)', async () => {
    const sandbox = await sandboxFor('self-managed-custom-networking');
    const run = await onSandboxInProcess(sandbox, ['--kube-client', 'kubectl', 'upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--resolve-conflicts', 'NONE', '--backup-dir', backupDir()]);
    expect(run.exitCode).toBe(2);
    // Without managedFields every owner would read as before-first-apply.
    expect(run.stderr).toContain('DaemonSet.apps aws-node - .spec.template.spec.containers[name="aws-node"].image (owned by kubectl-client-side-apply)');
    expect(eksCalls(sandbox)).toEqual([]);
  }, 300_000);
});

describe('managed add-on drift under OVERWRITE (issue 19)', () => {
  it('names a mirror registry set with kubectl as reset, and the image comes back from EKS only with --accept-setting-loss', async () => {
    const sandbox = await sandboxFor('default');
    const mirror = '111122223333.dkr.ecr.us-west-2.amazonaws.com/mirror/amazon-k8s-cni:v1.12.6-eksbuild.2';
    await kubectl(sandbox)('set', 'image', 'daemonset/aws-node', '-n', 'kube-system', `aws-node=${mirror}`);
    // PRESERVE (the default) would keep the mirror's old image: the update could not finish, so it is refused first.
    const kept = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--accept-setting-loss', '--backup-dir', backupDir()]);
    expect(kept.exitCode).toBe(2);
    expect(kept.stderr).toContain('PRESERVE (the default for an update) would keep DaemonSet.apps aws-node - .spec.template.spec.containers[name="aws-node"].image (owned by kubectl-set)');
    expect(kept.stderr).toContain('--resolve-conflicts OVERWRITE');
    expect(eksCalls(sandbox)).toEqual([]);
    const refused = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--resolve-conflicts', 'OVERWRITE', '--yes', '--backup-dir', backupDir()]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('containers[aws-node].image.registry');
    expect(refused.stderr).toContain('111122223333.dkr.ecr.us-west-2.amazonaws.com');
    expect(eksCalls(sandbox)).toEqual([]);

    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--resolve-conflicts', 'OVERWRITE', '--yes', '--accept-setting-loss', '--backup-dir', backupDir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<Report>(run);
    expect(report.droppedSettings?.find((d) => d.path === 'containers[aws-node].image.registry')).toMatchObject({ value: '111122223333.dkr.ecr.us-west-2.amazonaws.com' });
    expect(report.steps[0]!.resolveConflictsReason).toContain('.spec.template.spec.containers[name="aws-node"].image');
    const node = (await podSpec(sandbox)).containers.find((c) => c.name === 'aws-node')!;
    expect(node.image).toBe('602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.13.4-eksbuild.1');
  }, 300_000);

  it('carries a node agent flag set with kubectl (--enable-policy-event-logs=true) into nodeAgent.enablePolicyEventLogs', async () => {
    const sandbox = await sandboxFor('v1.19.3-custom-networking-sgp');
    const k = kubectl(sandbox);
    const ds = JSON.parse(await k('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json')) as { spec: { template: { spec: PodSpec } } };
    const containers = ds.spec.template.spec.containers;
    const index = containers.findIndex((c) => c.name === 'aws-eks-nodeagent');
    const args = containers[index]!.args!.map((a) => (a.startsWith('--enable-policy-event-logs=') ? '--enable-policy-event-logs=true' : a));
    expect(args).toContain('--enable-policy-event-logs=true');
    await k('patch', 'daemonset', 'aws-node', '-n', 'kube-system', '--type', 'json', '-p', JSON.stringify([{ op: 'replace', path: `/spec/template/spec/containers/${index}/args`, value: args }]));

    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.19.5-eksbuild.1', '--resolve-conflicts', 'OVERWRITE', '--yes', '--backup-dir', backupDir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<Report>(run);
    expect(report.carriedSettings).toEqual(expect.arrayContaining([{ path: 'nodeAgent.enablePolicyEventLogs', value: 'true' }]));
    expect(report.droppedSettings ?? []).toEqual([]);
    const stored = JSON.parse(sandbox.addon()!.configurationValues!) as { nodeAgent?: Record<string, string>; env?: Record<string, string> };
    expect(stored.nodeAgent).toEqual({ enablePolicyEventLogs: 'true' });
    // The values EKS stored before are kept beside the carried setting.
    expect(stored.env).toMatchObject({ ENABLE_POD_ENI: 'true', AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' });
    const agent = (await podSpec(sandbox)).containers.find((c) => c.name === 'aws-eks-nodeagent')!;
    expect(agent.args).toContain('--enable-policy-event-logs=true');
  }, 300_000);
});

describe('every setting the target schema can hold is carried (issue 19 part 2)', () => {
  it('node agent arguments, init env and amazon-vpc-cni ConfigMap keys set with kubectl travel as configuration values; the rest is named', async () => {
    // A self-managed v1.20.1 from the upstream manifest on Kubernetes 1.31, adopted at v1.20.1-eksbuild.1.
    const s: Scenario = loadScenario('v1.19.3-custom-networking-sgp');
    s.addon = null;
    s.daemonSet = { manifest: 'v1.20.1', imageTag: 'v1.20.1' };
    s.sandbox = { ...s.sandbox, updateDurationMs: 50, rolloutDurationMs: 50 };
    const sandbox = await startSandbox(s);
    open.push(sandbox);
    const k = kubectl(sandbox);
    const ds = JSON.parse(await k('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json')) as { spec: { template: { spec: PodSpec & { initContainers: Container[] } } } };
    const containers = ds.spec.template.spec.containers;
    const agent = containers.findIndex((c) => c.name === 'aws-eks-nodeagent');
    const custom: Record<string, string> = {
      '--enable-network-policy': 'true',
      '--enable-policy-event-logs': 'true',
      '--conntrack-cache-cleanup-period': '600',
      '--log-level': 'info',
    };
    const args = containers[agent]!.args!.map((a) => {
      const flag = a.split('=')[0]!;
      return flag in custom ? `${flag}=${custom[flag]}` : a;
    });
    // v1.20's schema has no conntrackCacheTableSize (it arrives with v1.21): named, not carried.
    args.push('--conntrack-cache-table-size=1048576');
    await k('patch', 'daemonset', 'aws-node', '-n', 'kube-system', '--type', 'json', '-p', JSON.stringify([
      { op: 'replace', path: `/spec/template/spec/containers/${agent}/args`, value: args },
      { op: 'add', path: '/spec/template/spec/initContainers/0/env/-', value: { name: 'DISABLE_TCP_EARLY_DEMUX', value: 'true' } },
    ]));
    await k('patch', 'configmap', 'amazon-vpc-cni', '-n', 'kube-system', '--type', 'merge', '-p', JSON.stringify({ data: { 'enable-network-policy-controller': 'true', 'enable-windows-prefix-delegation': 'true' } }));

    const refused = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.20.1-eksbuild.1', '--yes', '--backup-dir', backupDir()]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('containers[aws-eks-nodeagent].args.--conntrack-cache-table-size = 1048576: the v1.20.1-eksbuild.1 schema has no nodeAgent.conntrackCacheTableSize');
    expect(refused.stderr).toContain('--accept-setting-loss');
    expect(eksCalls(sandbox)).toEqual([]);

    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.20.1-eksbuild.1', '--yes', '--accept-setting-loss', '--backup-dir', backupDir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<Report>(run);
    expect(report.steps[0]).toMatchObject({ action: 'create', resolveConflicts: 'OVERWRITE', result: 'succeeded' });
    expect(report.droppedSettings?.map((d) => d.path)).toEqual(['containers[aws-eks-nodeagent].args.--conntrack-cache-table-size']);
    const stored = JSON.parse(sandbox.addon()!.configurationValues!) as Record<string, unknown>;
    expect(stored).toEqual({
      enableNetworkPolicy: 'true',
      enableWindowsPrefixDelegation: 'true',
      init: { env: { DISABLE_TCP_EARLY_DEMUX: 'true' } },
      nodeAgent: { enablePolicyEventLogs: 'true', conntrackCacheCleanupPeriod: '600', logLevel: 'info' },
    });

    const after = JSON.parse(await k('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json')) as { spec: { template: { spec: PodSpec & { initContainers: Container[] } } } };
    const agentArgs = after.spec.template.spec.containers.find((c) => c.name === 'aws-eks-nodeagent')!.args!;
    expect(agentArgs).toEqual(expect.arrayContaining(['--enable-network-policy=true', '--enable-policy-event-logs=true', '--conntrack-cache-cleanup-period=600', '--log-level=info']));
    expect(new Map((after.spec.template.spec.initContainers[0]!.env ?? []).map((e) => [e.name, e.value])).get('DISABLE_TCP_EARLY_DEMUX')).toBe('true');
    const configMap = JSON.parse(await k('get', 'configmap', 'amazon-vpc-cni', '-n', 'kube-system', '-o', 'json')) as { data: Record<string, string> };
    expect(configMap.data).toMatchObject({ 'enable-network-policy-controller': 'true', 'enable-windows-prefix-delegation': 'true' });
  }, 300_000);
});

describe('advisories that foresee an adoption conflict are cases of the prediction (issue 19)', () => {
  it('policyendpoints-crd-conflict-on-create names the CRD field another manager changed, and the adoption overwrites it', async () => {
    const sandbox = await sandboxFor('custom-settings-network-policy');
    const k = kubectl(sandbox);
    const crd = JSON.parse(await k('get', 'customresourcedefinition', 'policyendpoints.networking.k8s.aws', '-o', 'json')) as { spec: { versions: Array<Record<string, unknown>> } };
    // As the network policy controller of the control plane does (aws/amazon-network-policy-controller-k8s#200): its own .spec.versions.
    const versions = crd.spec.versions.map((v) => ({ ...v, deprecated: false }));
    await k('patch', 'customresourcedefinition', 'policyendpoints.networking.k8s.aws', '--type', 'merge', '-p', JSON.stringify({ spec: { versions } }));

    const plan = await onSandboxInProcess(sandbox, ['plan', '--to', 'v1.14.0-eksbuild.3', '--output', 'json']);
    expect(parseJson<{ findings: Array<{ id: string; severity: string }> }>(plan).findings).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'policyendpoints-crd-conflict-on-create', severity: 'warning' })]));

    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.14.0-eksbuild.3', '--yes', '--backup-dir', backupDir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<Report & { findings: Array<{ id: string; severity: string; message: string }> }>(run);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report.steps[0]).toMatchObject({ action: 'create', resolveConflicts: 'OVERWRITE', result: 'succeeded' });
    const advisory = report.findings.find((f) => f.id === 'policyendpoints-crd-conflict-on-create');
    expect(advisory).toMatchObject({ severity: 'info' });
    expect(advisory!.message).toContain('CustomResourceDefinition.apiextensions.k8s.io policyendpoints.networking.k8s.aws - .spec.versions (owned by kubectl-patch)');
    expect(advisory!.message).toContain('the CreateAddon uses OVERWRITE');
    expect(sandbox.addon()).toMatchObject({ status: 'ACTIVE' });
  }, 300_000);
});
