/**
 * Settings over THREE steps (issue 10): a self-managed v1.11.4 install customised every way (env on both
 * containers, a digest-pinned image, nodeSelector, updateStrategy, pod annotations, a sidecar, a ConfigMap
 * key, ENIConfigs; scenario custom-settings-three-steps) adopted with CreateAddon v1.12.6 and upgraded to
 * v1.13.4 and v1.14.0 under OVERWRITE, PRESERVE (the updates; the create is NONE) and NONE, in process (the
 * real upgrade code, the real SDK and the in-process Kubernetes client against the sandbox), asserting the live objects afterwards.
 * And what each step loses is computed per step: a refusal names the step that loses each setting.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runUpgrade, type UpgradeRequest } from '../src/act/upgrade/run.js';
import type { KubeObject } from '../src/decide/manifests.js';
import { UsageError } from '../src/errors.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Scenario } from '../src/sandbox/scenario-types.js';
import { apiRuntimes } from './helpers/api-runtime.js';
import { schemaErrors } from './helpers/schemas.js';
import { recordingUi, sandboxesClosedAfterEach, type RecordingUi } from './helpers/in-process-runtime.js';

type Container = { name: string; image: string; env?: Array<{ name: string; value?: string }> };
type Pod = { containers: Container[]; initContainers?: Container[]; nodeSelector?: Record<string, string> };

const SCENARIO = 'custom-settings-three-steps';
const TARGET = 'v1.14.0-eksbuild.3';
const sandboxOf = sandboxesClosedAfterEach();
const runtimeFor = apiRuntimes();

async function upgrade(sandbox: RunningSandbox, request: Partial<UpgradeRequest>): Promise<{ ui: RecordingUi; error: unknown }> {
  const ui = recordingUi('json');
  const backupDir = mkdtempSync(join(tmpdir(), 'vpccni-three-'));
  const error = await runUpgrade(runtimeFor(sandbox, ui), { to: TARGET, values: null, timeoutMs: 120_000, backupDir, ...request }).then(
    () => null,
    (e: unknown) => e,
  );
  return { ui, error };
}

const daemonSet = (sandbox: RunningSandbox): KubeObject => sandbox.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;
const podOf = (ds: KubeObject): Pod => (ds.spec as { template: { spec: Pod } }).template.spec;
const container = (ds: KubeObject, name: string): Container | undefined => [...podOf(ds).containers, ...(podOf(ds).initContainers ?? [])].find((c) => c.name === name);
const envOf = (c: Container | undefined): Record<string, string | undefined> => Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
const configMap = (sandbox: RunningSandbox): Record<string, string> =>
  ((sandbox.store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system') as { data?: Record<string, string> } | undefined)?.data ?? {});
const mutating = (sandbox: RunningSandbox): string[] => sandbox.log.mutating().map((e) => e.operation);
const dropped = (ui: RecordingUi) => ((ui.documents.at(-1) as { droppedSettings?: Array<{ path: string; step?: number }> }).droppedSettings ?? []).map((d) => `${d.path} @${d.step}`).sort();

/** What EKS never owns (server-side apply as field manager eks): it stays through every step. */
function expectKeptThroughout(sandbox: RunningSandbox): void {
  const ds = daemonSet(sandbox);
  expect(container(ds, 'aws-node')?.image).toMatch(/amazon-k8s-cni:v1\.14\.0-eksbuild\.3$/);
  expect(container(ds, 'aws-eks-nodeagent')?.image).toMatch(/:v1\.0\.\d+/);
  expect(envOf(container(ds, 'aws-node'))).toMatchObject({
    AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true',
    ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
    WARM_IP_TARGET: '5',
    MINIMUM_IP_TARGET: '10',
  });
  expect(podOf(ds).nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  expect((ds.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations).toMatchObject({
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': '61678',
  });
  expect(container(ds, 'cni-log-shipper')?.image).toMatch(/aws-for-fluent-bit:2\.31\.12$/);
  expect(sandbox.store.list('crd.k8s.amazonaws.com/v1alpha1', 'ENIConfig').map((e) => e.metadata.name).sort()).toEqual(['us-west-2a', 'us-west-2b', 'us-west-2c']);
  expect(sandbox.addon()).toMatchObject({ status: 'ACTIVE', addonVersion: TARGET });
}

/** The install without the init env and the update strategy (fields EKS owns: NONE would conflict on them). */
const withoutCreateConflicts = (s: Scenario): void => {
  const ds = s.daemonSet as NonNullable<Scenario['daemonSet']>;
  const env = { ...(ds.env ?? {}) };
  delete env['aws-vpc-cni-init'];
  const custom = { ...(ds.custom ?? {}) };
  delete custom.updateStrategy;
  s.daemonSet = { ...ds, env, custom };
};

describe('what each step of a three-step walk loses, computed per step', () => {
  it('refuses without --accept-setting-loss, naming the step that loses each setting (Windows IPAM at the v1.14 step), and changes nothing', async () => {
    const sandbox = await sandboxOf(SCENARIO);
    const { error, ui } = await upgrade(sandbox, { resolveConflicts: 'OVERWRITE', yes: true });
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).toMatch(/containers\[aws-node\]\.image\.digest at step 1 of 3 \(→ v1\.12\.6-eksbuild\.2\)/);
    expect(message).toMatch(/updateStrategy at step 1 of 3 \(→ v1\.12\.6-eksbuild\.2\)/);
    // The v1.12 schema cannot carry the init container's env (v1.13's and v1.14's can): lost at the v1.12 step.
    expect(message).toMatch(/initContainers\[aws-vpc-cni-init\]\.env\.DISABLE_TCP_EARLY_DEMUX at step 1 of 3 \(→ v1\.12\.6-eksbuild\.2\)/);
    expect(ui.stderr.join('\n')).toMatch(/DISABLE_TCP_EARLY_DEMUX = true: the v1\.12\.6-eksbuild\.2 schema has no init\.env\.DISABLE_TCP_EARLY_DEMUX/);
    // Kept by the v1.12 and v1.13 steps (their EKS does not render the key), reset by the v1.14 one.
    expect(message).toMatch(/configMap\.enable-windows-ipam at step 3 of 3 \(→ v1\.14\.0-eksbuild\.3\)/);
    expect(ui.stderr.join('\n')).toMatch(/configMap\.enable-windows-ipam = true: .*EKS resets it to "false" \(lost at step 3 of 3/);
    expect(mutating(sandbox)).toEqual([]);
  });
});

describe('a self-managed install adopted and upgraded over three steps', () => {
  it('OVERWRITE with --accept-setting-loss: every step taken; carried and unowned settings stay, the named ones are reset', async () => {
    const sandbox = await sandboxOf(SCENARIO);
    const { error, ui } = await upgrade(sandbox, { resolveConflicts: 'OVERWRITE', yes: true, acceptSettingLoss: true });
    expect(error, ui.stderr.join('\n')).toBeNull();
    expect(mutating(sandbox)).toEqual(['CreateAddon', 'UpdateAddon', 'UpdateAddon']);
    expect(schemaErrors('upgrade', ui.documents.at(-1))).toEqual([]);
    expect(dropped(ui)).toEqual([
      'configMap.enable-windows-ipam @3',
      'containers[aws-node].image.digest @1',
      'initContainers[aws-vpc-cni-init].env.DISABLE_TCP_EARLY_DEMUX @1',
      'updateStrategy @1',
    ]);
    expectKeptThroughout(sandbox);
    const ds = daemonSet(sandbox);
    expect(container(ds, 'aws-node')?.image).not.toContain('@sha256:');
    expect(envOf(container(ds, 'aws-vpc-cni-init')).DISABLE_TCP_EARLY_DEMUX).toBe('false');
    expect((ds.spec as { updateStrategy: unknown }).updateStrategy).toMatchObject({ rollingUpdate: { maxUnavailable: '10%' } });
    expect(configMap(sandbox)['enable-windows-ipam']).toBe('false');
    expect(JSON.parse(String(sandbox.addon()?.configurationValues))).toEqual({ env: { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' } });
  });
});

const MANAGED = 'custom-settings-managed-three-steps';
const MANAGED_TARGET = 'v1.15.5-eksbuild.1';

/** The managed add-on's kubectl drift that EKS never owns (or PRESERVE keeps) is still there at v1.15.5. */
function expectDriftKept(sandbox: RunningSandbox, env: Record<string, string> = { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }): void {
  const ds = daemonSet(sandbox);
  expect(sandbox.addon()).toMatchObject({ status: 'ACTIVE', addonVersion: MANAGED_TARGET });
  expect(container(ds, 'aws-node')?.image).toMatch(/amazon-k8s-cni:v1\.15\.5-eksbuild\.1$/);
  expect(envOf(container(ds, 'aws-node'))).toMatchObject({
    AWS_VPC_K8S_CNI_EXTERNALSNAT: 'true',
    WARM_IP_TARGET: '5',
    ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
    ...env,
  });
  expect(podOf(ds).nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  expect((ds.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations).toMatchObject({ 'example.com/team': 'networking' });
  expect(container(ds, 'cni-log-shipper')?.image).toMatch(/aws-for-fluent-bit:2\.31\.12$/);
  expect(sandbox.store.list('crd.k8s.amazonaws.com/v1alpha1', 'ENIConfig').map((e) => e.metadata.name).sort()).toEqual(['us-west-2a', 'us-west-2b']);
  expect(JSON.parse(String(sandbox.addon()?.configurationValues))).toEqual({ env: { AWS_VPC_K8S_CNI_EXTERNALSNAT: 'true' } });
}

describe('a managed add-on with kubectl drift upgraded over three steps', () => {
  it('PRESERVE: every step PRESERVE, nothing lost; the drift EKS owns is kept too (env, init env, update strategy, the ConfigMap key)', async () => {
    const sandbox = await sandboxOf(MANAGED);
    const { error, ui } = await upgrade(sandbox, { to: MANAGED_TARGET, resolveConflicts: 'PRESERVE' });
    expect(error, ui.stderr.join('\n')).toBeNull();
    expect(mutating(sandbox)).toEqual(['UpdateAddon', 'UpdateAddon', 'UpdateAddon']);
    expect(dropped(ui)).toEqual([]);
    expectDriftKept(sandbox);
    const ds = daemonSet(sandbox);
    expect(envOf(container(ds, 'aws-node')).WARM_ENI_TARGET).toBe('3');
    expect(envOf(container(ds, 'aws-vpc-cni-init')).DISABLE_TCP_EARLY_DEMUX).toBe('true');
    expect((ds.spec as { updateStrategy: unknown }).updateStrategy).toMatchObject({ rollingUpdate: { maxUnavailable: '25%' } });
    expect(configMap(sandbox)['enable-windows-ipam']).toBe('true');
  });

  it('NONE: with drift only where EKS does not own the field (the model names any other as a conflict), every step NONE goes through and keeps it', async () => {
    const sandbox = await sandboxOf(MANAGED, (s) => {
      withoutCreateConflicts(s);
      const ds = s.daemonSet as NonNullable<Scenario['daemonSet']>;
      const { WARM_ENI_TARGET: _raised, AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: _rendered, ...env } = ds.env?.['aws-node'] ?? {};
      s.daemonSet = { ...ds, env: { 'aws-node': env } };
      delete s.configMapData;
    });
    const { error, ui } = await upgrade(sandbox, { to: MANAGED_TARGET, resolveConflicts: 'NONE' });
    expect(error, ui.stderr.join('\n')).toBeNull();
    expect(mutating(sandbox)).toEqual(['UpdateAddon', 'UpdateAddon', 'UpdateAddon']);
    expect(dropped(ui)).toEqual([]);
    expectDriftKept(sandbox, {});
    expect(envOf(container(daemonSet(sandbox), 'aws-node')).AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG).toBe('false');
  });
});
