/**
 * Rendering the upstream manifests for a region (the regional variants upstream publishes are the proof),
 * for a mirror, and with the running install's custom settings carried over; and the manifest diff.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { manifestSettings, runningSettings, renderSelfManagedManifest, renderTargetFor, unifiedDiff } from '../src/decide/self-managed.js';
import { loadUpstreamManifest, type KubeObject } from '../src/decide/manifests.js';
import { eksImageRegistry, partitionOf } from '../src/decide/registries.js';
import { renderHelperManifest, helperPath, helperTargetFor } from '../src/decide/metrics-helper.js';
import { daemonSetInfo } from '../src/gather/facts.js';
import type { ClusterInfo } from '../src/domain.js';

const NONE: never[] = [];

function upstreamFile(path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(new URL(`../fixtures/manifests/${path}`, import.meta.url), 'utf8'))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object' && 'kind' in o);
}

const cluster = (region: string) => ({ name: 'demo', region, kubernetesVersion: '1.30' }) as ClusterInfo;

describe('regional registries', () => {
  it('names the registry of the region and its partition', () => {
    expect(eksImageRegistry('us-west-2')).toBe('602401143452.dkr.ecr.us-west-2.amazonaws.com');
    expect(eksImageRegistry('us-gov-west-1')).toBe('013241004608.dkr.ecr.us-gov-west-1.amazonaws.com');
    expect(eksImageRegistry('cn-north-1')).toBe('918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn');
    expect(eksImageRegistry('af-south-1')).toBe('877085696533.dkr.ecr.af-south-1.amazonaws.com');
    expect([partitionOf('cn-northwest-1'), partitionOf('us-gov-east-1'), partitionOf('eu-west-1')]).toEqual(['aws-cn', 'aws-us-gov', 'aws']);
  });

  it('renders v1.20.1 for us-gov-west-1 and cn-northwest-1 exactly as upstream publishes those variants', () => {
    const gov = renderSelfManagedManifest('v1.20.1', NONE, { imagePrefix: eksImageRegistry('us-gov-west-1') });
    expect(gov).toEqual(upstreamFile('regional/aws-k8s-cni-us-gov-west-1-v1.20.1.yaml'));
    const cn = renderSelfManagedManifest('v1.20.1', NONE, { imagePrefix: eksImageRegistry('cn-northwest-1') });
    expect(cn).toEqual(upstreamFile('regional/aws-k8s-cni-cn-v1.20.1.yaml'));
  });

  it('renders the cni-metrics-helper for GovCloud and China as upstream does', () => {
    expect(renderHelperManifest('v1.20.1', { imagePrefix: eksImageRegistry('us-gov-west-1'), roleArn: null, live: null })).toEqual(
      upstreamFile('regional/cni-metrics-helper-us-gov-west-1-v1.20.1.yaml'),
    );
    expect(renderHelperManifest('v1.20.1', { imagePrefix: eksImageRegistry('cn-northwest-1'), roleArn: null, live: null })).toEqual(
      upstreamFile('regional/cni-metrics-helper-cn-v1.20.1.yaml'),
    );
  });
});

describe('carrying the custom settings over', () => {
  /** The upstream v1.12.6 DaemonSet as a user customised it. */
  function customised(): KubeObject {
    const ds = loadUpstreamManifest('v1.12.6').find((o) => o.kind === 'DaemonSet')!;
    const pod = (ds.spec as { template: { spec: { containers: Array<{ name: string; env: Array<{ name: string; value?: string; valueFrom?: unknown }>; resources?: unknown; image: string }>; tolerations?: unknown } } }).template.spec;
    const node = pod.containers.find((c) => c.name === 'aws-node')!;
    node.env.push({ name: 'WARM_IP_TARGET', value: '5' });
    node.env.push({ name: 'CLUSTER_NAME', valueFrom: { configMapKeyRef: { name: 'cluster-info', key: 'name' } } });
    node.env = node.env.filter((e) => e.name !== 'AWS_VPC_K8S_CNI_LOGLEVEL');
    node.env.find((e) => e.name === 'AWS_VPC_ENI_MTU')!.value = '1500';
    node.resources = { requests: { cpu: '50m', memory: '80Mi' } };
    pod.tolerations = [{ operator: 'Exists' }];
    return ds;
  }

  it('keeps every env change, removal, valueFrom, resources and tolerations on the next release', () => {
    const live = customised();
    const facts = { daemonSet: daemonSetInfo(live), cluster: cluster('us-west-2') };
    const custom = runningSettings(facts);
    const objects = renderSelfManagedManifest('v1.13.4', custom, renderTargetFor(facts));
    const ds = objects.find((o) => o.kind === 'DaemonSet')!;
    const info = daemonSetInfo(ds);
    expect(info.version).toBe('v1.13.4');
    const env = new Map(info.containers.find((c) => c.name === 'aws-node')!.env.map((e) => [e.name, e]));
    expect(env.get('WARM_IP_TARGET')?.value).toBe('5');
    expect(env.get('AWS_VPC_ENI_MTU')?.value).toBe('1500');
    expect(env.get('CLUSTER_NAME')?.valueFrom).toEqual({ configMapKeyRef: { name: 'cluster-info', key: 'name' } });
    expect(env.has('AWS_VPC_K8S_CNI_LOGLEVEL')).toBe(false);
    expect(info.containers.find((c) => c.name === 'aws-node')!.resources).toEqual({ requests: { cpu: '50m', memory: '80Mi' } });
    expect(info.tolerations).toEqual([{ operator: 'Exists' }]);
    // And the settings are the same ones on the rendered release: a resumed walk finds what it started with.
    expect(runningSettings({ daemonSet: info }).map((x) => [x.path, x.current])).toEqual(custom.map((x) => [x.path, x.current]));
  });

  it('carries what the settings model sees beyond env: args, nodeSelector, update strategy, annotations, sidecars, ConfigMap; not a digest', () => {
    const live = loadUpstreamManifest('v1.19.6').find((o) => o.kind === 'DaemonSet')!;
    const spec = live.spec as { updateStrategy: unknown; template: { metadata: { annotations?: Record<string, string> }; spec: { nodeSelector?: Record<string, string>; containers: Array<{ name: string; image: string; args?: string[] }> } } };
    const agent = spec.template.spec.containers.find((c) => c.name === 'aws-eks-nodeagent')!;
    agent.args = agent.args!.map((a) => (a.startsWith('--enable-policy-event-logs=') ? '--enable-policy-event-logs=true' : a));
    const cni = spec.template.spec.containers.find((c) => c.name === 'aws-node')!;
    cni.image = `${cni.image}@sha256:${'a'.repeat(64)}`;
    spec.template.spec.nodeSelector = { 'kubernetes.io/os': 'linux', team: 'net' };
    spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } };
    spec.template.metadata.annotations = { 'example.com/owner': 'platform' };
    spec.template.spec.containers.push({ name: 'log-shipper', image: 'registry.example.com/log-shipper:2.1' });
    const configMap = loadUpstreamManifest('v1.19.6').find((o) => o.kind === 'ConfigMap')!;
    (configMap.data as Record<string, string>)['enable-network-policy-controller'] = 'true';
    const settings = manifestSettings({ daemonSet: live, configMap }, 'v1.19.6');
    expect(settings.filter((x) => !x.carried).map((x) => x.path)).toEqual(['containers[aws-node].image.digest']);
    const objects = renderSelfManagedManifest('v1.20.1', settings, { imagePrefix: eksImageRegistry('us-west-2') });
    const ds = objects.find((o) => o.kind === 'DaemonSet')!;
    const out = ds.spec as typeof spec;
    expect(out.template.spec.containers.find((c) => c.name === 'aws-eks-nodeagent')!.args).toContain('--enable-policy-event-logs=true');
    expect(out.template.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', team: 'net' });
    expect(out.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } });
    expect(out.template.metadata.annotations).toEqual({ 'example.com/owner': 'platform' });
    expect(out.template.spec.containers.map((c) => c.name)).toContain('log-shipper');
    expect(out.template.spec.containers.find((c) => c.name === 'aws-node')!.image).toBe('602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.20.1');
    expect((objects.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>)['enable-network-policy-controller']).toBe('true');
  });

  it('keeps the mirror the install pulls from, for every image of the manifest', () => {
    const live = loadUpstreamManifest('v1.12.6').find((o) => o.kind === 'DaemonSet')!;
    const pod = (live.spec as { template: { spec: { containers: Array<{ image: string }>; initContainers: Array<{ image: string }> } } }).template.spec;
    for (const c of [...pod.containers, ...pod.initContainers]) c.image = c.image.replace('602401143452.dkr.ecr.us-west-2.amazonaws.com', 'registry.example.com/eks');
    const facts = { daemonSet: daemonSetInfo(live), cluster: cluster('eu-west-1') };
    const target = renderTargetFor(facts);
    expect(target.imagePrefix).toBe('registry.example.com/eks');
    const ds = renderSelfManagedManifest('v1.14.1', runningSettings(facts), target).find((o) => o.kind === 'DaemonSet')!;
    expect(Object.values(daemonSetInfo(ds).images)).toEqual([
      'registry.example.com/eks/amazon-k8s-cni-init:v1.14.1',
      'registry.example.com/eks/amazon-k8s-cni:v1.14.1',
      expect.stringMatching(/^registry\.example\.com\/eks\/amazon\/aws-network-policy-agent:v1\./),
    ]);
  });

  it('renders for the cluster region when the install pulls from another EKS registry', () => {
    const live = loadUpstreamManifest('v1.12.6').find((o) => o.kind === 'DaemonSet')!;
    expect(renderTargetFor({ daemonSet: daemonSetInfo(live), cluster: cluster('cn-north-1') }).imagePrefix).toBe('918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn');
  });
});

describe('the cni-metrics-helper release', () => {
  it('matches the CNI release, and moves one minor at a time', () => {
    expect(helperTargetFor('v1.19.5-eksbuild.1')).toBe('v1.19.5');
    expect(helperTargetFor('v1.20.1-eksbuild.1')).toBe('v1.20.1');
    expect(helperTargetFor('v1.16.0-eksbuild.1')).toBeNull();
    expect(helperPath('v1.16.4', 'v1.19.5')).toEqual(['v1.17.1', 'v1.18.6', 'v1.19.5']);
    expect(helperPath(null, 'v1.19.5')).toEqual(['v1.19.5']);
    expect(helperPath('v1.19.5', 'v1.19.5')).toEqual([]);
  });

  it('annotates the service account with the role and keeps the running env values', () => {
    const live = renderHelperManifest('v1.18.6', { imagePrefix: eksImageRegistry('us-west-2'), roleArn: null, live: null }).find((o) => o.kind === 'Deployment')!;
    const c = (live.spec as { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } } }).template.spec.containers[0]!;
    c.env.find((e) => e.name === 'AWS_CLUSTER_ID')!.value = 'demo';
    const objects = renderHelperManifest('v1.19.5', { imagePrefix: eksImageRegistry('us-west-2'), roleArn: 'arn:aws:iam::111122223333:role/r', live });
    expect(objects.find((o) => o.kind === 'ServiceAccount')!.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/r' });
    const env = (objects.find((o) => o.kind === 'Deployment')!.spec as { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }>; image: string }> } } }).template.spec.containers[0]!;
    expect(env.env.find((e) => e.name === 'AWS_CLUSTER_ID')!.value).toBe('demo');
    expect(env.image).toBe('602401143452.dkr.ecr.us-west-2.amazonaws.com/cni-metrics-helper:v1.19.5');
  });
});

describe('unifiedDiff', () => {
  it('shows removed then added lines with context, and nothing for equal texts', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n');
    const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i', 'j'].join('\n');
    expect(unifiedDiff(before, after, ['x', 'y'])).toBe('--- x\n+++ y\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n');
    expect(unifiedDiff(before, before, ['x', 'y'])).toBe('');
  });
});
