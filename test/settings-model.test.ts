/**
 * The settings model (src/decide/settings/): every custom setting of a live install is carried into
 * configuration values, kept, or named as lost, over the real upstream manifests and schema.
 */
import { describe, expect, it } from 'vitest';
import { compareSettings, upstreamBaseline, managedBaseline, type InstallObjects } from '../src/decide/settings/index.js';
import { configurationSchemaFor } from '../src/sandbox/addon-controller.js';
import type { KubeObject } from '../src/decide/manifests.js';

const REGISTRY = '602401143452.dkr.ecr.us-west-2.amazonaws.com';

type C = { name: string; image: string; env?: Array<{ name: string; value?: string }>; args?: string[] };
function pod(ds: KubeObject): { containers: C[]; initContainers: C[]; nodeSelector?: Record<string, string> } {
  return (ds.spec as { template: { spec: never } }).template.spec;
}

/** A self-managed v1.14.0 install with many kinds of custom settings. */
function customised(): InstallObjects {
  const base = upstreamBaseline('v1.14.0', REGISTRY);
  const ds = structuredClone(base.daemonSet);
  const spec = ds.spec as Record<string, unknown> & { template: { metadata: Record<string, unknown> } };
  spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } };
  spec.template.metadata.annotations = { 'prometheus.io/scrape': 'true' };
  const p = pod(ds);
  p.nodeSelector = { 'kubernetes.io/os': 'linux' };
  const node = p.containers.find((c) => c.name === 'aws-node')!;
  node.image = `${REGISTRY}/amazon-k8s-cni:v1.14.0@sha256:${'a'.repeat(64)}`;
  node.env!.push({ name: 'WARM_IP_TARGET', value: '5' });
  const agent = p.containers.find((c) => c.name === 'aws-eks-nodeagent')!;
  agent.args = agent.args!.map((a) => (a === '--enable-network-policy=false' ? '--enable-network-policy=true' : a));
  p.initContainers[0]!.env!.push({ name: 'DISABLE_TCP_EARLY_DEMUX', value: 'true' });
  p.initContainers[0]!.env = p.initContainers[0]!.env!.filter((e) => e.name !== 'DISABLE_TCP_EARLY_DEMUX' || e.value === 'true');
  p.containers.push({ name: 'log-shipper', image: `${REGISTRY}/eks/fluent-bit:v2.1.0` });
  return {
    daemonSet: ds,
    configMap: { 'enable-network-policy-controller': 'true', 'enable-windows-ipam': 'true' },
    eniConfigs: [],
  };
}

describe('compareSettings on adoption', () => {
  const target = { version: 'v1.14.0-eksbuild.3', schemaText: configurationSchemaFor('v1.14.0-eksbuild.3'), registry: REGISTRY };

  it('carries network policy, Windows IPAM and env of both containers into configuration values', () => {
    const result = compareSettings({ live: customised(), baseline: upstreamBaseline('v1.14.0', REGISTRY), target, mode: 'OVERWRITE' });
    expect(result.values).toMatchObject({
      enableNetworkPolicy: 'true',
      enableWindowsIpam: 'true',
      env: { WARM_IP_TARGET: '5' },
      init: { env: { DISABLE_TCP_EARLY_DEMUX: 'true' } },
    });
    const fate = Object.fromEntries(result.differences.map((d) => [d.path, d.fate]));
    expect(fate['containers[aws-eks-nodeagent].args.--enable-network-policy']).toBe('carried');
    expect(fate['configMap.enable-network-policy-controller']).toBe('carried');
    expect(fate['configMap.enable-windows-ipam']).toBe('carried');
    expect(fate['containers[aws-node].env.WARM_IP_TARGET']).toBe('carried');
    expect(fate['initContainers[aws-vpc-cni-init].env.DISABLE_TCP_EARLY_DEMUX']).toBe('carried');
  });

  it('names the digest pin and the update strategy as lost, keeps what EKS does not render', () => {
    const result = compareSettings({ live: customised(), baseline: upstreamBaseline('v1.14.0', REGISTRY), target, mode: 'OVERWRITE' });
    const fate = Object.fromEntries(result.differences.map((d) => [d.path, d.fate]));
    expect(fate['containers[aws-node].image.digest']).toBe('lost');
    expect(fate.updateStrategy).toBe('lost');
    expect(fate['nodeSelector.kubernetes.io/os']).toBe('kept');
    expect(fate['template.annotations.prometheus.io/scrape']).toBe('kept');
    expect(fate['containers[log-shipper]']).toBe('kept');
    expect(result.lost.map((d) => d.path).sort()).toEqual(['containers[aws-node].image.digest', 'updateStrategy']);
    expect(result.lost.find((d) => d.path === 'updateStrategy')?.reason).toMatch(/10%/);
  });

  it('the user values win over a carried setting, and the carried one is then named lost', () => {
    const result = compareSettings({
      live: customised(),
      baseline: upstreamBaseline('v1.14.0', REGISTRY),
      target,
      mode: 'OVERWRITE',
      values: { enableNetworkPolicy: 'false' },
    });
    expect(result.values.enableNetworkPolicy).toBe('false');
    const np = result.differences.find((d) => d.path === 'containers[aws-eks-nodeagent].args.--enable-network-policy');
    expect(np?.fate).toBe('lost');
    expect(np?.reason).toMatch(/--configuration-values/);
  });

  it('a v1.12 schema has no WARM_IP_TARGET: the env var is kept (EKS does not own it), never silently dropped', () => {
    const base = upstreamBaseline('v1.12.6', REGISTRY);
    const live = structuredClone(base);
    pod(live.daemonSet).containers[0]!.env!.push({ name: 'WARM_IP_TARGET', value: '5' });
    const result = compareSettings({
      live,
      baseline: base,
      target: { version: 'v1.12.6-eksbuild.2', schemaText: configurationSchemaFor('v1.12.6-eksbuild.2'), registry: REGISTRY },
      mode: 'NONE',
    });
    expect(result.differences).toHaveLength(1);
    expect(result.differences[0]).toMatchObject({ path: 'containers[aws-node].env.WARM_IP_TARGET', fate: 'kept' });
  });
});

describe('compareSettings on a managed add-on with kubectl drift', () => {
  const stored = { env: { WARM_IP_TARGET: '2' } };
  it('names the drift EKS resets under PRESERVE (a removed env var) and keeps the conflicting values', () => {
    const base = managedBaseline('v1.13.4-eksbuild.1', stored, { registry: REGISTRY });
    const live = structuredClone(base);
    const node = pod(live.daemonSet).containers[0]!;
    node.env = node.env!.filter((e) => e.name !== 'AWS_VPC_K8S_CNI_LOGLEVEL').map((e) => (e.name === 'WARM_ENI_TARGET' ? { name: e.name, value: '3' } : e));
    const result = compareSettings({
      live,
      baseline: base,
      target: { version: 'v1.14.0-eksbuild.3', schemaText: configurationSchemaFor('v1.14.0-eksbuild.3'), registry: REGISTRY },
      mode: 'PRESERVE',
      values: stored,
      carry: false,
    });
    const fate = Object.fromEntries(result.differences.map((d) => [d.path, d.fate]));
    expect(fate['containers[aws-node].env.WARM_ENI_TARGET']).toBe('kept');
    expect(fate['containers[aws-node].env.AWS_VPC_K8S_CNI_LOGLEVEL']).toBe('lost');
  });
});
