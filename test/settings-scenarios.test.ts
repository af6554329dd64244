/**
 * Installs with many kinds of custom settings (env on both containers, node agent args, a digest-pinned
 * image, nodeSelector, updateStrategy, pod annotations, a sidecar, ConfigMap keys, ENIConfigs) adopted and
 * upgraded over one and two steps under NONE, OVERWRITE and PRESERVE, in process (the real upgrade code,
 * the real SDK and the Kubernetes API client against the sandbox; one walk with kubectl, so that both clients
 * stay covered), asserting the live objects afterwards.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runUpgrade, type UpgradeRequest } from '../src/act/upgrade/run.js';
import type { KubeObject } from '../src/decide/manifests.js';
import { UsageError } from '../src/errors.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { recordingUi, runtimeFor, sandboxesClosedAfterEach, type RecordingUi, type RuntimeOptions } from './helpers/in-process-runtime.js';

type Env = { name: string; value?: string };
type Container = { name: string; image: string; env?: Env[]; args?: string[] };
type Pod = { containers: Container[]; initContainers?: Container[]; nodeSelector?: Record<string, string> };

const sandboxOf = sandboxesClosedAfterEach();

async function upgrade(
  sandbox: RunningSandbox,
  request: Partial<UpgradeRequest>,
  options: RuntimeOptions = {},
): Promise<{ ui: RecordingUi; error: unknown; backupDir: string }> {
  const ui = recordingUi('json');
  const backupDir = mkdtempSync(join(tmpdir(), 'vpccni-settings-'));
  let error: unknown = null;
  const runtime = runtimeFor(sandbox, ui, options);
  try {
    await runUpgrade(runtime, { values: null, timeoutMs: 60_000, backupDir, ...request });
  } catch (e) {
    error = e;
  } finally {
    await runtime.close();
  }
  return { ui, error, backupDir };
}

function daemonSet(sandbox: RunningSandbox): KubeObject {
  return sandbox.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;
}
const podOf = (ds: KubeObject): Pod => (ds.spec as { template: { spec: Pod } }).template.spec;
const container = (ds: KubeObject, name: string): Container | undefined => {
  const pod = podOf(ds);
  return [...pod.containers, ...(pod.initContainers ?? [])].find((c) => c.name === name);
};
const envOf = (c: Container | undefined): Record<string, string | undefined> =>
  Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
const mutating = (sandbox: RunningSandbox): string[] => sandbox.log.mutating().map((e) => `${e.service} ${e.operation}`);
const report = (ui: RecordingUi) => ui.documents.at(-1) as Record<string, unknown> & { droppedSettings?: Array<{ path: string }> };

describe('adopting an install with network policy and Windows IPAM on (one step)', () => {
  it('OVERWRITE (through kubectl): carries enforcement into enableNetworkPolicy and Windows IPAM into enableWindowsIpam, and the cluster keeps them', async () => {
    const sandbox = await sandboxOf('custom-settings-network-policy');
    const { error, ui } = await upgrade(sandbox, { to: 'v1.14.0-eksbuild.3', resolveConflicts: 'OVERWRITE', yes: true }, { kubeClient: 'kubectl' });
    expect(error, ui.stderr.join('\n')).toBeNull();
    expect(mutating(sandbox)).toEqual(['eks CreateAddon']);
    const values = JSON.parse(sandbox.addon()?.configurationValues ?? '{}') as Record<string, unknown>;
    expect(values).toMatchObject({
      enableNetworkPolicy: 'true',
      enableWindowsIpam: 'true',
      env: { WARM_PREFIX_TARGET: '2', ENABLE_PREFIX_DELEGATION: 'true' },
      init: { env: { DISABLE_TCP_EARLY_DEMUX: 'true' } },
    });
    const ds = daemonSet(sandbox);
    expect(container(ds, 'aws-eks-nodeagent')?.args).toContain('--enable-network-policy=true');
    expect(envOf(container(ds, 'aws-node'))).toMatchObject({ WARM_PREFIX_TARGET: '2', ENABLE_PREFIX_DELEGATION: 'true' });
    expect(envOf(container(ds, 'aws-vpc-cni-init')).DISABLE_TCP_EARLY_DEMUX).toBe('true');
    const cm = sandbox.store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system');
    expect(cm?.data).toMatchObject({ 'enable-network-policy-controller': 'true', 'enable-windows-ipam': 'true' });
    expect(report(ui).droppedSettings).toEqual([]);
  });

  it('names network policy as lost when --configuration-values switch it off, and refuses without --accept-setting-loss', async () => {
    const sandbox = await sandboxOf('custom-settings-network-policy');
    const text = '{"enableNetworkPolicy":"false"}';
    const { error, ui } = await upgrade(sandbox, {
      to: 'v1.14.0-eksbuild.3',
      resolveConflicts: 'OVERWRITE',
      yes: true,
      values: { value: JSON.parse(text) as Record<string, unknown>, text },
    });
    expect(error).toBeInstanceOf(UsageError);
    expect(String((error as Error).message)).toMatch(/--accept-setting-loss/);
    expect(ui.stderr.join('\n')).toMatch(/containers\[aws-eks-nodeagent\]\.args\.--enable-network-policy = true/);
    expect(ui.stderr.join('\n')).toMatch(/configMap\.enable-network-policy-controller = true/);
    expect(mutating(sandbox)).toEqual([]);
  });
});

describe('adopting an install customised every way (OVERWRITE, one step)', () => {
  it('refuses without --accept-setting-loss, naming the digest pin and the update strategy, and changes nothing', async () => {
    const sandbox = await sandboxOf('custom-settings-self-managed');
    const { error, ui, backupDir } = await upgrade(sandbox, { to: 'v1.14.0-eksbuild.3', resolveConflicts: 'OVERWRITE', yes: true });
    expect(error).toBeInstanceOf(UsageError);
    const text = ui.stderr.join('\n');
    expect(text).toMatch(/containers\[aws-node\]\.image\.digest = sha256:9a1e/);
    expect(text).toMatch(/updateStrategy = .*25%.*10%/s);
    expect(mutating(sandbox)).toEqual([]);
    expect(readdirSync(backupDir)).toEqual([]);
  });

  it('with --accept-setting-loss: carries env of both containers, keeps what EKS does not own, and says what was lost', async () => {
    const sandbox = await sandboxOf('custom-settings-self-managed');
    const { error, ui } = await upgrade(sandbox, { to: 'v1.14.0-eksbuild.3', resolveConflicts: 'OVERWRITE', yes: true, acceptSettingLoss: true });
    expect(error, ui.stderr.join('\n')).toBeNull();
    expect(report(ui).droppedSettings?.map((d) => d.path).sort()).toEqual(['containers[aws-node].image.digest', 'updateStrategy']);
    const ds = daemonSet(sandbox);
    expect(envOf(container(ds, 'aws-node'))).toMatchObject({
      AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true',
      ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
      WARM_IP_TARGET: '5',
      MINIMUM_IP_TARGET: '10',
    });
    expect(envOf(container(ds, 'aws-vpc-cni-init')).DISABLE_TCP_EARLY_DEMUX).toBe('true');
    expect(container(ds, 'aws-node')?.image).toMatch(/amazon-k8s-cni:v1\.14\.0-eksbuild\.3$/);
    expect((ds.spec as { updateStrategy: unknown }).updateStrategy).toMatchObject({ rollingUpdate: { maxUnavailable: '10%' } });
    // EKS does not own these (server-side apply as field manager eks): they stay.
    expect(podOf(ds).nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect((ds.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '61678',
    });
    expect(container(ds, 'cni-log-shipper')?.image).toMatch(/aws-for-fluent-bit:2\.31\.12$/);
    expect(sandbox.store.list('crd.k8s.amazonaws.com/v1alpha1', 'ENIConfig').map((e) => e.metadata.name).sort()).toEqual([
      'us-west-2a',
      'us-west-2b',
      'us-west-2c',
    ]);
  });
});

describe('upgrading a managed add-on with kubectl drift (two steps)', () => {
  it('PRESERVE: names the removed env var EKS puts back and refuses without --accept-setting-loss', async () => {
    const sandbox = await sandboxOf('custom-settings-managed-drift');
    const { error, ui } = await upgrade(sandbox, { to: 'v1.14.0-eksbuild.3', resolveConflicts: 'PRESERVE' });
    expect(error).toBeInstanceOf(UsageError);
    expect(ui.stderr.join('\n')).toMatch(/containers\[aws-node\]\.env\.AWS_VPC_K8S_CNI_LOGLEVEL = \(removed\): it was removed on the cluster; EKS sets it again to "DEBUG"/);
    expect(mutating(sandbox)).toEqual([]);
  });

  it('PRESERVE with --accept-setting-loss: walks both steps and keeps the drift and the stored values', async () => {
    const sandbox = await sandboxOf('custom-settings-managed-drift');
    const { error, ui } = await upgrade(sandbox, { to: 'v1.14.0-eksbuild.3', resolveConflicts: 'PRESERVE', acceptSettingLoss: true });
    expect(error, ui.stderr.join('\n')).toBeNull();
    expect(mutating(sandbox)).toEqual(['eks UpdateAddon', 'eks UpdateAddon']);
    const ds = daemonSet(sandbox);
    expect(envOf(container(ds, 'aws-node'))).toMatchObject({ WARM_ENI_TARGET: '3', AWS_VPC_K8S_CNI_EXTERNALSNAT: 'true', AWS_VPC_K8S_CNI_LOGLEVEL: 'DEBUG' });
    expect(container(ds, 'aws-node')?.image).toMatch(/:v1\.14\.0-eksbuild\.3$/);
    expect(podOf(ds).nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect((ds.spec as { updateStrategy: unknown }).updateStrategy).toMatchObject({ rollingUpdate: { maxUnavailable: '25%' } });
    expect(container(ds, 'cni-log-shipper')).toBeTruthy();
  });
});
