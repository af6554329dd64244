import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { upstreamDaemonSet, type KubeObject } from '../src/decide/manifests.js';
import { startKubeApi, type KubeApi } from '../src/sandbox/kube-api.js';
import { Gate } from '../src/sandbox/gates.js';
import { KubeStore } from '../src/sandbox/kube-store.js';
import { writeKubeconfig } from '../src/sandbox/kubeconfig.js';
import { RequestLog } from '../src/sandbox/request-log.js';

const VERSION = 'v1.12.6-eksbuild.2';

function node(name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: {} };
}

const LINUX_AMD64 = { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' };

/** Two EC2 nodes the upstream aws-node affinity admits, one Fargate node it does not. */
function seed(store: KubeStore): void {
  store.put(upstreamDaemonSet(VERSION));
  store.put(node('ip-10-0-1-10.ec2.internal', { ...LINUX_AMD64, 'eks.amazonaws.com/nodegroup': 'ng-1' }));
  store.put(node('ip-10-0-2-20.ec2.internal', { ...LINUX_AMD64, 'kubernetes.io/arch': 'arm64', 'eks.amazonaws.com/compute-type': 'hybrid' }));
  store.put(node('fargate-ip-10-0-3-30.ec2.internal', { ...LINUX_AMD64, 'eks.amazonaws.com/compute-type': 'fargate' }));
  store.put({
    apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
    kind: 'ENIConfig',
    metadata: { name: 'us-east-1a' },
    spec: { subnet: 'subnet-0a1b2c3d', securityGroups: ['sg-0123456789abcdef0'] },
  });
}

type Container = { name: string; image: string; env?: Array<{ name: string; value?: string }> };
function containers(ds: KubeObject | undefined): Container[] {
  return (ds?.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
}
function awsNode(ds: KubeObject | undefined): Container {
  const found = containers(ds).find((c) => c.name === 'aws-node');
  if (!found) throw new Error('no aws-node container');
  return found;
}

describe('KubeStore', () => {
  it('bumps resourceVersion on every write and generation on spec changes only', () => {
    const store = new KubeStore();
    expect(store.get('v1', 'Namespace', 'kube-system')).toBeDefined();
    const first = store.put(upstreamDaemonSet(VERSION));
    expect(first.metadata.generation).toBe(1);
    const labelled = structuredClone(first);
    labelled.metadata.labels = { ...(labelled.metadata.labels as object), team: 'net' };
    const second = store.put(labelled);
    expect(second.metadata.generation).toBe(1);
    expect(Number(second.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    expect(second.metadata.uid).toBe(first.metadata.uid);
    expect(second.metadata.creationTimestamp).toBe(first.metadata.creationTimestamp);
    const changed = structuredClone(second);
    awsNode(changed).image = 'example.com/amazon-k8s-cni:v9';
    const third = store.put(changed);
    expect(third.metadata.generation).toBe(2);
    // The store hands out copies: changing one changes nothing stored.
    third.metadata.name = 'mutated';
    expect(store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')?.metadata.generation).toBe(2);
    expect(() => store.put({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toThrow(/does not know/);
    expect(store.delete('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')).toBe(true);
    expect(store.delete('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')).toBe(false);
  });

  it('counts the nodes the DaemonSet affinity admits (In, NotIn, Exists, DoesNotExist) and re-counts on node changes', () => {
    const store = new KubeStore();
    seed(store);
    const desired = (): unknown => (store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')?.status as { desiredNumberScheduled: number }).desiredNumberScheduled;
    expect(desired()).toBe(2); // the Fargate node is excluded by NotIn
    store.put(node('windows', { 'kubernetes.io/os': 'windows', 'kubernetes.io/arch': 'amd64' }));
    expect(desired()).toBe(2);
    store.put(node('no-labels', {}));
    expect(desired()).toBe(2); // In needs the label
    store.put(node('ip-10-0-4-40.ec2.internal', LINUX_AMD64));
    expect(desired()).toBe(3); // NotIn admits nodes without the label
    store.delete('v1', 'Node', 'ip-10-0-4-40.ec2.internal');
    expect(desired()).toBe(2);

    const ds = store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;
    const podSpec = (ds.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    podSpec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'eks.amazonaws.com/compute-type', operator: 'Exists' }] },
            { matchExpressions: [{ key: 'eks.amazonaws.com/nodegroup', operator: 'Exists' }, { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] },
          ],
        },
      },
    };
    store.put(ds);
    expect(desired()).toBe(3); // hybrid, fargate (term 1) and the node-group node (term 2)
    podSpec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'eks.amazonaws.com/compute-type', operator: 'DoesNotExist' }] }],
        },
      },
    };
    store.put(ds);
    expect(desired()).toBe(3); // ip-10-0-1-10, windows, no-labels
    delete podSpec.affinity;
    store.put(ds);
    expect(desired()).toBe(5);
  });

  it('rolls a changed DaemonSet out pod by pod through the rollout gate, and not while rolloutNeverFinishes', async () => {
    const gate = new Gate('rollout', true);
    const store = new KubeStore({ rolloutDurationMs: 50, rolloutGate: gate });
    seed(store);
    const get = (): KubeObject => store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;
    expect(get().status).toMatchObject({ observedGeneration: 1, updatedNumberScheduled: 2, numberAvailable: 2 });
    const events: string[] = [];
    // The DaemonSet's own changes (its pods change too: test/sandbox-kube-pods.test.ts).
    const unsubscribe = store.subscribe((event) => event.object.kind === 'DaemonSet' && events.push(`${event.type} ${event.object.kind}`));

    const changed = get();
    awsNode(changed).env = [...(awsNode(changed).env ?? []), { name: 'FOO', value: 'bar' }];
    store.put(changed);
    // The controller observes the new generation at once; one pod (10% of 2, rounded up) goes down.
    expect(get().status).toMatchObject({ observedGeneration: 2, updatedNumberScheduled: 0, desiredNumberScheduled: 2, numberAvailable: 1, numberUnavailable: 1 });
    gate.step();
    expect(get().status).toMatchObject({ updatedNumberScheduled: 1, numberAvailable: 1, numberUnavailable: 1 });
    gate.release();
    await store.whenRolledOut('aws-node', 'kube-system');
    expect(get().status).toMatchObject({ observedGeneration: 2, updatedNumberScheduled: 2, numberReady: 2, numberAvailable: 2 });
    // The change; pod 1 ready, pod 2 down (two controller writes); pod 2 ready.
    expect(events).toEqual(['MODIFIED DaemonSet', 'MODIFIED DaemonSet', 'MODIFIED DaemonSet', 'MODIFIED DaemonSet']);

    store.rolloutNeverFinishes = true;
    const again = get();
    awsNode(again).image = 'example.com/amazon-k8s-cni:v2';
    store.put(again);
    let done = false;
    const waiting = store.whenRolledOut('aws-node', 'kube-system').then(() => (done = true));
    // The first step comes due and stalls: rolloutNeverFinishes holds it, not a timer.
    await gate.until((s) => s.passed >= 3);
    expect(done).toBe(false);
    expect(get().status).toMatchObject({ observedGeneration: 3, updatedNumberScheduled: 0 });
    store.rolloutNeverFinishes = false; // the stalled step goes on
    await waiting;
    expect(get().status).toMatchObject({ observedGeneration: 3, updatedNumberScheduled: 2 });
    unsubscribe();

    const replay = store.eventsAfter(Number(changed.metadata.resourceVersion));
    expect(replay?.every((e) => Number(e.resourceVersion) > Number(changed.metadata.resourceVersion))).toBe(true);
  });

  it('marks Deployments available at once', () => {
    const store = new KubeStore();
    const saved = store.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'cni-metrics-helper', namespace: 'kube-system' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'x' } }, template: { spec: { containers: [] } } },
    });
    expect(saved.status).toMatchObject({ availableReplicas: 2, readyReplicas: 2, observedGeneration: 1 });
  });
});

describe('Kubernetes API over HTTP', () => {
  let store: KubeStore;
  let api: KubeApi;
  const log = new RequestLog();
  beforeAll(async () => {
    store = new KubeStore({ rolloutDurationMs: 50 });
    seed(store);
    api = await startKubeApi(store, { kubernetesVersion: '1.30', log });
  });
  afterAll(() => api.close());

  const call = (path: string, init?: RequestInit): Promise<Response> => fetch(api.url + path, init);
  const patch = (path: string, type: string, body: unknown): Promise<Response> =>
    call(path, { method: 'PATCH', headers: { 'Content-Type': type }, body: JSON.stringify(body) });
  const dsPath = '/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node';

  it('serves version, both discovery forms and Status errors', async () => {
    expect(await (await call('/version')).json()).toMatchObject({ major: '1', minor: '30', gitVersion: expect.stringMatching(/^v1\.30\.\d+-eks-/) });
    const aggregated = await call('/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    expect(aggregated.headers.get('content-type')).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const body = (await aggregated.json()) as { items: Array<{ metadata: { name: string } }> };
    expect(body.items.map((i) => i.metadata.name)).toContain('crd.k8s.amazonaws.com');
    const core = (await (await call('/api', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } })).json()) as {
      items: Array<{ metadata: { name: string } }>;
    };
    expect(core.items[0]?.metadata.name).toBe('');
    expect(await (await call('/apis/apps/v1')).json()).toMatchObject({ kind: 'APIResourceList', resources: expect.arrayContaining([expect.objectContaining({ name: 'daemonsets', shortNames: ['ds'] })]) });
    expect((await call('/openapi/v2')).status).toBe(200);
    expect((await call('/openapi/v3/apis/apps/v1')).status).toBe(200);

    const missing = await call('/apis/apps/v1/namespaces/kube-system/deployments/cni-metrics-helper');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'deployments.apps "cni-metrics-helper" not found' });
    const duplicate = await call('/api/v1/namespaces/kube-system/configmaps', {
      method: 'POST',
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'amazon-vpc-cni' }, data: { a: '1' } }),
    });
    expect(duplicate.status).toBe(201);
    const again = await call('/api/v1/namespaces/kube-system/configmaps', {
      method: 'POST',
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'amazon-vpc-cni' } }),
    });
    expect(again.status).toBe(409);
    expect((await call('/api/v1/namespaces/kube-system/configmaps', { method: 'DELETE' })).status).toBe(405);
    expect(log.entries.find((e) => e.method === 'POST')).toMatchObject({ service: 'kube', operation: 'POST configmaps/amazon-vpc-cni', mutating: true, status: 201 });
  });

  it('filters lists by label and field selectors', async () => {
    const names = async (query: string): Promise<string[]> =>
      ((await (await call(`/api/v1/nodes?${query}`)).json()) as { items: KubeObject[] }).items.map((n) => n.metadata.name).sort();
    const selector = (s: string): string => `labelSelector=${encodeURIComponent(s)}`;
    expect(await names(selector('eks.amazonaws.com/compute-type=hybrid'))).toEqual(['ip-10-0-2-20.ec2.internal']);
    expect(await names(selector('eks.amazonaws.com/compute-type!=hybrid'))).toHaveLength(2);
    expect(await names(selector('eks.amazonaws.com/compute-type in (hybrid,fargate)'))).toHaveLength(2);
    expect(await names(selector('eks.amazonaws.com/compute-type notin (fargate),kubernetes.io/os'))).toHaveLength(2);
    expect(await names(selector('!eks.amazonaws.com/compute-type'))).toEqual(['ip-10-0-1-10.ec2.internal']);
    expect(await names(selector('eks.amazonaws.com/nodegroup'))).toEqual(['ip-10-0-1-10.ec2.internal']);
    expect(await names('fieldSelector=metadata.name%3Dfargate-ip-10-0-3-30.ec2.internal')).toEqual(['fargate-ip-10-0-3-30.ec2.internal']);
  });

  it('applies strategic-merge, merge and JSON patches', async () => {
    let res = await patch(dsPath, 'application/strategic-merge-patch+json', {
      spec: { template: { spec: { containers: [{ name: 'aws-node', env: [{ name: 'FOO', value: 'bar' }, { name: 'AWS_VPC_K8S_CNI_LOGLEVEL', $patch: 'delete' }] }] } } },
    });
    expect(res.status).toBe(200);
    const env = awsNode(store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')).env ?? [];
    expect(env.find((e) => e.name === 'FOO')?.value).toBe('bar');
    expect(env.some((e) => e.name === 'AWS_VPC_K8S_CNI_LOGLEVEL')).toBe(false);
    expect(env.some((e) => e.name === 'AWS_VPC_K8S_PLUGIN_LOG_FILE')).toBe(true); // other entries kept
    const podSpec = (store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')?.spec as { template: { spec: { initContainers: Container[] } } }).template.spec;
    expect(podSpec.initContainers.map((c) => c.name)).toEqual(['aws-vpc-cni-init']); // untouched lists stay

    res = await patch(dsPath, 'application/merge-patch+json', { metadata: { labels: { team: 'net' }, annotations: null } });
    expect(((await res.json()) as KubeObject).metadata.labels).toMatchObject({ team: 'net', 'k8s-app': 'aws-node' });
    res = await patch(dsPath, 'application/json-patch+json', [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'example.com/cni:v3' }]);
    expect(res.status).toBe(200);
    expect(containers(store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system'))[0]?.image).toBe('example.com/cni:v3');
    expect((await patch('/apis/apps/v1/namespaces/kube-system/daemonsets/nope', 'application/merge-patch+json', {})).status).toBe(404);
    expect(log.entries.at(-2)).toMatchObject({ operation: 'PATCH daemonsets/aws-node', mutating: true });
  });

  it('delays every response by latencyMs', async () => {
    api.latencyMs = 150;
    try {
      const started = Date.now();
      expect((await call('/version')).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      api.latencyMs = 0;
    }
  });

  it('streams watch events after a resourceVersion, with selectors and timeoutSeconds', async () => {
    const from = store.resourceVersion;
    store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'skipped', namespace: 'default' } });
    store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'wanted', namespace: 'kube-system' } });
    const res = await call(`/api/v1/namespaces/kube-system/configmaps?watch=true&resourceVersion=${from}&timeoutSeconds=1&fieldSelector=metadata.name%3Dwanted`);
    expect(res.status).toBe(200);
    // The watch is open (its headers arrived): a change now is streamed live, after the replayed one.
    store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'wanted', namespace: 'kube-system' }, data: { x: '1' } });
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: KubeObject });
    expect(lines.map((l) => `${l.type} ${l.object.metadata.name}`)).toEqual(['ADDED wanted', 'MODIFIED wanted']);
  });
});

/** `it` in the describe of one server minor only (kubectl reads the answer the same in both); nothing in the other. */
function onlyWith(version: string, wanted: string): (name: string, test: () => Promise<void>) => void {
  return (name, test) => {
    if (version === wanted) it(name, test);
  };
}

for (const kubernetesVersion of ['1.27', '1.32']) {
  describe(`the real kubectl against a ${kubernetesVersion} server`, () => {
    let store: KubeStore;
    let api: KubeApi;
    let dir: string;
    let kubeconfig: string;
    const log = new RequestLog();
    const outage = new Gate('kube-outage', true);
    const rollouts = new Gate('rollout');

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vpccni-kube-'));
      kubeconfig = join(dir, 'kubeconfig');
      store = new KubeStore({ rolloutDurationMs: 300, rolloutGate: rollouts });
      seed(store);
      // Outages last until the test lifts them.
      api = await startKubeApi(store, { kubernetesVersion, log, outageGate: outage });
      writeKubeconfig(kubeconfig, { server: api.url, contextName: 'sandbox' });
    });
    afterAll(async () => {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const kubectl = (...args: string[]) =>
      execa('kubectl', ['--kubeconfig', kubeconfig, ...args], {
        env: { KUBECACHEDIR: join(dir, 'cache') },
        reject: false,
        timeout: 30_000,
      });
    const json = async <T = KubeObject>(...args: string[]): Promise<T> => {
      const result = await kubectl(...args, '-o', 'json');
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      return JSON.parse(result.stdout) as T;
    };
    const daemonSet = (): KubeObject => store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;

    it('is driven by the kubectl build of the server minor', async () => {
      const version = await json<{ clientVersion: { gitVersion: string }; serverVersion: { minor: string } }>('version');
      const minor = kubernetesVersion.split('.')[1];
      expect(version.serverVersion.minor).toBe(minor);
      // The dispatcher's own build (1.32) reports itself as v1.32.4-dispatcher.
      expect(version.clientVersion.gitVersion).toMatch(new RegExp(`^v1\\.${minor}\\.`));
    });

    it('gets the DaemonSet, selected nodes and ENIConfigs; a missing Deployment is NotFound', async () => {
      const ds = await json('get', 'daemonset', 'aws-node', '-n', 'kube-system');
      expect(awsNode(ds).image).toMatch(/amazon-k8s-cni:v1\.12\.6-eksbuild\.2$/);
      expect(ds.status).toMatchObject({ desiredNumberScheduled: 2, numberAvailable: 2 });

      const nodes = await json<{ items: KubeObject[] }>('get', 'nodes', '-l', 'eks.amazonaws.com/compute-type in (hybrid,fargate)');
      expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(['fargate-ip-10-0-3-30.ec2.internal', 'ip-10-0-2-20.ec2.internal']);

      const eniConfigs = await json<{ items: KubeObject[] }>('get', 'eniconfigs.v1alpha1.crd.k8s.amazonaws.com');
      expect(eniConfigs.items.map((e) => [e.metadata.name, (e.spec as { subnet: string }).subnet])).toEqual([['us-east-1a', 'subnet-0a1b2c3d']]);

      const missing = await kubectl('get', 'deployment', 'cni-metrics-helper', '-n', 'kube-system');
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toContain('Error from server (NotFound): deployments.apps "cni-metrics-helper" not found');
    });

    it('sets an env var on one container, and rollout status waits for the rollout', async () => {
      rollouts.hold(); // the rollout waits for this test, not for 300 ms
      const set = await kubectl('set', 'env', 'daemonset/aws-node', '-n', 'kube-system', '-c', 'aws-node', 'FOO=bar');
      expect(set.stderr).toBe('');
      expect(set.exitCode).toBe(0);
      expect(daemonSet().status).toMatchObject({ updatedNumberScheduled: 0 });
      const watchesBefore = log.entries.filter((e) => e.operation === 'WATCH daemonsets').length;
      const rolling = kubectl('rollout', 'status', 'daemonset', 'aws-node', '-n', 'kube-system', '--timeout=60s');
      // Once kubectl watches the DaemonSet, let the rollout finish.
      await expect.poll(() => log.entries.filter((e) => e.operation === 'WATCH daemonsets').length, { timeout: 30_000, interval: 10 }).toBeGreaterThan(watchesBefore);
      expect(rollouts.state().pending).toHaveLength(1);
      rollouts.release();
      const rollout = await rolling;
      expect(rollout.exitCode).toBe(0);
      expect(rollout.stdout).toContain('daemon set "aws-node" successfully rolled out');
      const ds = await json('get', 'daemonset', 'aws-node', '-n', 'kube-system');
      expect(awsNode(ds).env).toContainEqual({ name: 'FOO', value: 'bar' });
      expect(awsNode(ds).env?.length).toBe((awsNode(upstreamDaemonSet(VERSION)).env?.length ?? 0) + 1);
      expect(ds.metadata.generation).toBe(2);
      expect(log.entries.some((e) => e.operation === 'PATCH daemonsets/aws-node' && e.mutating)).toBe(true);
      expect(log.entries.some((e) => e.operation === 'WATCH daemonsets')).toBe(true);
    });

    onlyWith(kubernetesVersion, '1.32')('rollout status times out while the rollout never finishes', async () => {
      store.rolloutNeverFinishes = true;
      try {
        const ds = daemonSet();
        awsNode(ds).image = 'example.com/amazon-k8s-cni:v1.12.6-stuck';
        store.put(ds);
        const rollout = await kubectl('rollout', 'status', 'daemonset', 'aws-node', '-n', 'kube-system', '--timeout=2s');
        expect(rollout.exitCode).toBe(1);
        expect(rollout.stderr).toContain('error: timed out waiting for the condition');
      } finally {
        store.rolloutNeverFinishes = false;
      }
      await store.whenRolledOut('aws-node', 'kube-system');
    });

    it('applies a DaemonSet client-side and server-side, creating what is missing', async () => {
      const ds = upstreamDaemonSet(VERSION);
      awsNode(ds).env = [...(awsNode(ds).env ?? []), { name: 'APPLIED', value: 'client' }];
      const file = join(dir, 'ds.yaml');
      const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' }, data: { 'enable-network-policy-controller': 'false' } };
      const existingEniConfig = { apiVersion: 'crd.k8s.amazonaws.com/v1alpha1', kind: 'ENIConfig', metadata: { name: 'us-east-1a' }, spec: { subnet: 'subnet-0e0e0e0e' } };
      writeFileSync(file, [ds, configMap, existingEniConfig].map((o) => stringify(o)).join('---\n'));
      const client = await kubectl('apply', '-f', file);
      // The seeded objects were not created by apply, so kubectl warns and adds the annotation.
      for (const line of client.stderr.split('\n').filter(Boolean)) {
        expect(line).toMatch(/^Warning: resource (daemonsets\/aws-node|eniconfigs\/us-east-1a) is missing the kubectl.kubernetes.io\/last-applied-configuration annotation/);
      }
      expect(client.exitCode).toBe(0);
      expect(awsNode(daemonSet()).env).toContainEqual({ name: 'APPLIED', value: 'client' });
      expect(awsNode(daemonSet()).image).toMatch(/v1\.12\.6-eksbuild\.2$/);
      expect(daemonSet().metadata.annotations).toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
      expect(store.get('v1', 'ConfigMap', 'amazon-vpc-cni', 'kube-system')?.data).toEqual(configMap.data);
      // A custom resource gets a JSON merge patch; fields never applied before (securityGroups) stay.
      expect(store.get('crd.k8s.amazonaws.com/v1alpha1', 'ENIConfig', 'us-east-1a')?.spec).toEqual({ subnet: 'subnet-0e0e0e0e', securityGroups: ['sg-0123456789abcdef0'] });
      expect(log.entries.some((e) => e.operation === 'POST configmaps/amazon-vpc-cni' && e.status === 201)).toBe(true);

      awsNode(ds).env = awsNode(ds).env?.map((e) => (e.name === 'APPLIED' ? { name: 'APPLIED', value: 'server' } : e));
      const eniConfig = { apiVersion: 'crd.k8s.amazonaws.com/v1alpha1', kind: 'ENIConfig', metadata: { name: 'us-east-1b' }, spec: { subnet: 'subnet-0b' } };
      writeFileSync(file, `${stringify(ds)}---\n${stringify(eniConfig)}`);
      const server = await kubectl('apply', '--server-side', '-f', file);
      expect(server.stderr).toBe('');
      expect(server.exitCode).toBe(0);
      expect(awsNode(daemonSet()).env).toContainEqual({ name: 'APPLIED', value: 'server' });
      expect(store.get('crd.k8s.amazonaws.com/v1alpha1', 'ENIConfig', 'us-east-1b')?.spec).toEqual({ subnet: 'subnet-0b' });
      expect(log.entries.some((e) => e.operation === 'PATCH eniconfigs/us-east-1b' && e.status === 201)).toBe(true);
    });

    onlyWith(kubernetesVersion, '1.27')('refuses connections for a while, then serves again', async () => {
      api.refuseConnectionsFor(1500);
      const refused = await kubectl('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'name');
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/connection refused|was refused/);
      expect(outage.state().pending).toHaveLength(1);
      outage.release();
      await expect.poll(() => fetch(`${api.url}/version`).then((r) => r.status, () => 0), { timeout: 10_000, interval: 10 }).toBe(200);
      const back = await kubectl('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'name');
      expect(back.stdout.trim()).toBe('daemonset.apps/aws-node');
    });
  });
}
