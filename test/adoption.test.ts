import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { customSettings, isEksImageRegistry, toConfigurationValues } from '../src/decide/config/adoption.js';
import { settingsResetByOverwrite } from '../src/decide/config/overwrite-diff.js';
import { validateConfigurationValues } from '../src/decide/config/validate.js';
import { upstreamDaemonSet, type KubeObject } from '../src/decide/manifests.js';

const SCHEMA_12 = readFileSync(new URL('../fixtures/addon-configuration/vpc-cni-v1.12.0-eksbuild.1.schema.json', import.meta.url), 'utf8');
const SCHEMA_15 = readFileSync(new URL('../fixtures/addon-configuration/vpc-cni-v1.15.1-eksbuild.1.schema.json', import.meta.url), 'utf8');

type Env = { name: string; value?: string; valueFrom?: unknown };
type Container = { name: string; image: string; env?: Env[]; resources?: unknown };

function pod(ds: KubeObject): { containers: Container[]; initContainers?: Container[]; affinity?: unknown; tolerations?: unknown } {
  return (ds.spec as { template: { spec: ReturnType<typeof pod> } }).template.spec;
}

function container(ds: KubeObject, name: string): Container {
  const found = [...pod(ds).containers, ...(pod(ds).initContainers ?? [])].find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

function setEnv(c: Container, name: string, value: string): void {
  c.env ??= [];
  const existing = c.env.find((e) => e.name === name);
  if (existing) existing.value = value;
  else c.env.push({ name, value });
}

/** The self-managed install of the `self-managed-custom-networking` scenario: upstream v1.12.6 plus custom networking. */
function selfManagedCustomNetworking(): KubeObject {
  const live = upstreamDaemonSet('v1.12.6');
  const node = container(live, 'aws-node');
  setEnv(node, 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', 'true');
  setEnv(node, 'ENI_CONFIG_LABEL_DEF', 'topology.kubernetes.io/zone');
  setEnv(node, 'WARM_IP_TARGET', '10');
  return live;
}

describe('customSettings', () => {
  it('finds nothing on an unchanged upstream DaemonSet', () => {
    const custom = customSettings(upstreamDaemonSet('v1.12.6'), upstreamDaemonSet('v1.12.6'));
    expect(custom).toEqual({ env: [], removedEnv: [], resources: [], affinity: null, tolerations: null, images: [] });
    expect(customSettings(upstreamDaemonSet('v1.19.5'), upstreamDaemonSet('v1.19.5')).env).toEqual([]);
  });

  it('finds changed and added env vars of aws-node', () => {
    const custom = customSettings(selfManagedCustomNetworking(), upstreamDaemonSet('v1.12.6'));
    expect(custom.env).toEqual([
      { container: 'aws-node', kind: 'container', name: 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', value: 'true', defaultValue: 'false' },
      { container: 'aws-node', kind: 'container', name: 'ENI_CONFIG_LABEL_DEF', value: 'topology.kubernetes.io/zone', defaultValue: null },
      { container: 'aws-node', kind: 'container', name: 'WARM_IP_TARGET', value: '10', defaultValue: null },
    ]);
  });

  it('finds init env, valueFrom env, removed env, resources, affinity, tolerations and mirrored images', () => {
    const live = upstreamDaemonSet('v1.15.5');
    setEnv(container(live, 'aws-vpc-cni-init'), 'DISABLE_TCP_EARLY_DEMUX', 'true');
    const node = container(live, 'aws-node');
    node.env = (node.env ?? []).filter((e) => e.name !== 'AWS_VPC_K8S_CNI_VETHPREFIX');
    node.env.push({ name: 'CLUSTER_NAME', valueFrom: { configMapKeyRef: { name: 'cluster-info', key: 'name' } } });
    node.resources = { requests: { cpu: '50m', memory: '64Mi' } };
    pod(live).tolerations = [{ operator: 'Exists', effect: 'NoSchedule' }];
    pod(live).affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } };
    container(live, 'aws-eks-nodeagent').image = 'registry.example.com/amazon/aws-network-policy-agent:v1.0.7';
    const custom = customSettings(live, upstreamDaemonSet('v1.15.5'));
    expect(custom.env.map((e) => `${e.container}:${e.name}`)).toEqual(['aws-vpc-cni-init:DISABLE_TCP_EARLY_DEMUX', 'aws-node:CLUSTER_NAME']);
    expect(custom.env[1]?.valueFrom).toEqual({ configMapKeyRef: { name: 'cluster-info', key: 'name' } });
    expect(custom.removedEnv).toEqual([{ container: 'aws-node', kind: 'container', name: 'AWS_VPC_K8S_CNI_VETHPREFIX', defaultValue: 'eni' }]);
    expect(custom.resources.map((r) => r.container)).toEqual(['aws-node']);
    expect(custom.tolerations?.value).toEqual([{ operator: 'Exists', effect: 'NoSchedule' }]);
    expect(custom.affinity).not.toBeNull();
    expect(custom.images).toEqual([
      {
        container: 'aws-eks-nodeagent',
        kind: 'container',
        image: 'registry.example.com/amazon/aws-network-policy-agent:v1.0.7',
        registry: 'registry.example.com',
        defaultImage: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.0.7',
      },
    ]);
  });

  it('does not take the regional EKS registry for a mirror', () => {
    const live = upstreamDaemonSet('v1.12.6', '602401143452.dkr.ecr.eu-west-1.amazonaws.com');
    expect(customSettings(live, upstreamDaemonSet('v1.12.6')).images).toEqual([]);
    expect(isEksImageRegistry('961992271922.dkr.ecr.cn-northwest-1.amazonaws.com.cn')).toBe(true);
    expect(isEksImageRegistry('123456789012.dkr.ecr.us-east-1.amazonaws.com')).toBe(false);
    const mirrored = upstreamDaemonSet('v1.12.6', '123456789012.dkr.ecr.us-east-1.amazonaws.com');
    expect(customSettings(mirrored, upstreamDaemonSet('v1.12.6')).images.map((i) => i.container)).toEqual(['aws-vpc-cni-init', 'aws-node']);
  });
});

describe('toConfigurationValues', () => {
  it('carries custom networking and WARM_IP_TARGET over to the v1.15.1 schema (serves 1.13 and later)', () => {
    const custom = customSettings(selfManagedCustomNetworking(), upstreamDaemonSet('v1.12.6'));
    const result = toConfigurationValues(custom, SCHEMA_15, { addonVersion: 'v1.15.1-eksbuild.1' });
    expect(result.values).toEqual({
      env: { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone', WARM_IP_TARGET: '10' },
    });
    expect(result.carried.map((c) => c.path)).toEqual(['env.AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', 'env.ENI_CONFIG_LABEL_DEF', 'env.WARM_IP_TARGET']);
    expect(result.unsupported).toEqual([]);
    expect(validateConfigurationValues(result.values, SCHEMA_15)).toEqual([]);
  });

  it('reports WARM_IP_TARGET and ENI_CONFIG_LABEL_DEF as unsupported on the v1.12.0 schema', () => {
    const custom = customSettings(selfManagedCustomNetworking(), upstreamDaemonSet('v1.12.6'));
    const result = toConfigurationValues(custom, SCHEMA_12, { addonVersion: 'v1.12.0-eksbuild.1' });
    expect(result.values).toEqual({ env: { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' } });
    expect(result.unsupported).toEqual([
      { path: 'env.ENI_CONFIG_LABEL_DEF', value: 'topology.kubernetes.io/zone', reason: 'the v1.12.0-eksbuild.1 schema has no env.ENI_CONFIG_LABEL_DEF' },
      { path: 'env.WARM_IP_TARGET', value: '10', reason: 'the v1.12.0-eksbuild.1 schema has no env.WARM_IP_TARGET' },
    ]);
    expect(validateConfigurationValues(result.values, SCHEMA_12)).toEqual([]);
  });

  it('carries resources, affinity, tolerations and init env where the schema has them', () => {
    const live = upstreamDaemonSet('v1.12.6');
    container(live, 'aws-node').resources = { requests: { cpu: '50m' }, limits: { memory: 256 } };
    setEnv(container(live, 'aws-vpc-cni-init'), 'DISABLE_TCP_EARLY_DEMUX', 'true');
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate', 'hybrid'] }] }],
        },
      },
    };
    pod(live).affinity = affinity;
    pod(live).tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'cni', effect: 'NoSchedule' }];
    const custom = customSettings(live, upstreamDaemonSet('v1.12.6'));

    const on15 = toConfigurationValues(custom, SCHEMA_15, { addonVersion: 'v1.15.1-eksbuild.1' });
    expect(on15.values).toEqual({
      init: { env: { DISABLE_TCP_EARLY_DEMUX: 'true' } },
      resources: { requests: { cpu: '50m' }, limits: { memory: '256' } },
      affinity,
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cni', effect: 'NoSchedule' }],
    });
    expect(on15.unsupported).toEqual([]);

    const on12 = toConfigurationValues(custom, SCHEMA_12, { addonVersion: 'v1.12.0-eksbuild.1' });
    expect(on12.values).toEqual({ resources: { requests: { cpu: '50m' }, limits: { memory: '256' } } });
    expect(on12.unsupported.map((u) => u.reason)).toEqual([
      'the v1.12.0-eksbuild.1 schema has no affinity',
      'the v1.12.0-eksbuild.1 schema has no init.env.DISABLE_TCP_EARLY_DEMUX',
      'the v1.12.0-eksbuild.1 schema has no tolerations',
    ]);
  });

  it('moves what the schema rejects, node-agent env, valueFrom env, removed env and mirrors to unsupported with reasons', () => {
    const live = upstreamDaemonSet('v1.15.5', 'mirror.example.com');
    const node = container(live, 'aws-node');
    setEnv(node, 'ENABLE_POD_ENI', 'yes');
    setEnv(node, 'AWS_VPC_K8S_CNI_EXTERNALSNAT', 'true');
    node.env = (node.env ?? []).filter((e) => e.name !== 'WARM_PREFIX_TARGET');
    node.env.push({ name: 'CLUSTER_NAME', valueFrom: { configMapKeyRef: { name: 'cluster-info', key: 'name' } } });
    setEnv(container(live, 'aws-eks-nodeagent'), 'ENABLE_POLICY_DEBUG', 'true');
    const result = toConfigurationValues(customSettings(live, upstreamDaemonSet('v1.15.5')), SCHEMA_15);
    expect(result.values).toEqual({ env: { AWS_VPC_K8S_CNI_EXTERNALSNAT: 'true' } });
    const reasons = Object.fromEntries(result.unsupported.map((u) => [u.path, u.reason]));
    expect(reasons['env.ENABLE_POD_ENI']).toBe('env.ENABLE_POD_ENI must be "true" or "false" (a string), not "yes"');
    expect(reasons['env.CLUSTER_NAME']).toMatch(/valueFrom .*configMapKeyRef.*only set plain strings/);
    expect(reasons['containers[aws-eks-nodeagent].env.ENABLE_POLICY_DEBUG']).toContain('cannot set env vars of the aws-eks-nodeagent container');
    expect(reasons['containers[aws-node].env.WARM_PREFIX_TARGET']).toBe(
      'it was removed from the DaemonSet, and configuration values cannot remove a variable; the add-on will set it to "1" again',
    );
    expect(reasons['containers[aws-node].image']).toContain('registry mirror mirror.example.com');
    expect(reasons['initContainers[aws-vpc-cni-init].image']).toContain('registry mirror');
    expect(validateConfigurationValues(result.values, SCHEMA_15)).toEqual([]);
  });
});

describe('settingsResetByOverwrite', () => {
  it('lists exactly the changed settings', () => {
    const live = selfManagedCustomNetworking();
    container(live, 'aws-node').resources = { requests: { cpu: '50m' } };
    pod(live).tolerations = [{ operator: 'Exists', effect: 'NoSchedule' }];
    expect(settingsResetByOverwrite(live, upstreamDaemonSet('v1.12.6'))).toEqual([
      { field: 'containers[aws-node].env.AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', current: 'true', after: 'false' },
      { field: 'containers[aws-node].env.ENI_CONFIG_LABEL_DEF', current: 'topology.kubernetes.io/zone', after: null },
      { field: 'containers[aws-node].env.WARM_IP_TARGET', current: '10', after: null },
      { field: 'containers[aws-node].resources', current: '{"requests":{"cpu":"50m"}}', after: '{"requests":{"cpu":"25m"}}' },
      { field: 'tolerations', current: '[{"operator":"Exists","effect":"NoSchedule"}]', after: '[{"operator":"Exists"}]' },
    ]);
  });

  it('lists nothing when the add-on applies the same settings', () => {
    expect(settingsResetByOverwrite(upstreamDaemonSet('v1.12.6'), upstreamDaemonSet('v1.12.6'))).toEqual([]);
  });

  it('lists init env, affinity and a mirrored registry', () => {
    const live = upstreamDaemonSet('v1.19.5', 'mirror.example.com');
    setEnv(container(live, 'aws-vpc-cni-init'), 'DISABLE_TCP_EARLY_DEMUX', 'true');
    pod(live).affinity = { nodeAffinity: {} };
    const fields = settingsResetByOverwrite(live, upstreamDaemonSet('v1.19.5')).map((f) => f.field);
    expect(fields).toEqual([
      'initContainers[aws-vpc-cni-init].env.DISABLE_TCP_EARLY_DEMUX',
      'initContainers[aws-vpc-cni-init].image',
      'containers[aws-node].image',
      'containers[aws-eks-nodeagent].image',
      'affinity',
    ]);
  });
});
