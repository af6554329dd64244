/**
 * The aws-node DaemonSet's Pods (issue 9): one per admitted node, with the DaemonSet's labels,
 * `controller-revision-hash` / `pod-template-generation`, an ownerReference, node affinity, status, and the
 * images of the revision they run, moving pod by pod with the rollout (each step released through the
 * rollout gate, never a clock); listed by kubectl 1.27 and 1.33 with label and field selectors, `-o wide`,
 * and `kubectl rollout status`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KUBECTL_MINORS, kubectlFor } from './helpers/kubectl.js';
import { upstreamDaemonSet, type KubeObject } from '../src/decide/manifests.js';
import { Gate } from '../src/sandbox/gates.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { nodeInternalIp, REVISION_HASH } from '../src/sandbox/kube-pods.js';
import { KubeStore } from '../src/sandbox/kube-store.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DS = ['apps/v1', 'DaemonSet', 'aws-node', 'kube-system'] as const;

function storeWithNodes(count: number, gate: Gate): KubeStore {
  const store = new KubeStore({ rolloutGate: gate });
  for (let i = 0; i < count; i++) {
    store.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: `ip-10-0-0-${i}.ec2.internal`, labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } } });
  }
  return store;
}

function bumpImage(store: KubeStore, tag: string): void {
  const ds = store.get(...DS) as Json;
  const node = (ds.spec.template.spec.containers as Json[]).find((c) => c.name === 'aws-node')!;
  node.image = `example.com/amazon-k8s-cni:${tag}`;
  store.put(ds as KubeObject, { manager: 'kubectl-set' });
}

const pods = (store: KubeStore): Json[] => store.list('v1', 'Pod', 'kube-system') as Json[];
const imageOf = (pod: Json): string => (pod.spec.containers as Json[]).find((c) => c.name === 'aws-node')!.image;
const summary = (store: KubeStore): string[] =>
  pods(store)
    .map((p) => `${p.spec.nodeName} ${imageOf(p).split(':').pop()} ${p.status.phase}`)
    .sort();

describe('the DaemonSet controller keeps pods', () => {
  it('one ready pod per node, labelled, owned and pinned to its node, with the template images', () => {
    const store = storeWithNodes(3, new Gate('rollout', true));
    store.put(upstreamDaemonSet('v1.12.6-eksbuild.2'));
    const ds = store.get(...DS) as Json;
    const list = pods(store);
    expect(list.map((p) => p.spec.nodeName).sort()).toEqual(['ip-10-0-0-0.ec2.internal', 'ip-10-0-0-1.ec2.internal', 'ip-10-0-0-2.ec2.internal']);
    for (const pod of list) {
      expect(pod.metadata.name).toMatch(/^aws-node-[a-z0-9]{5}$/);
      expect(pod.metadata.labels).toMatchObject({ 'k8s-app': 'aws-node', 'pod-template-generation': '1' });
      expect(pod.metadata.labels[REVISION_HASH]).toMatch(/^[a-z0-9]{10}$/);
      expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'aws-node', uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: [pod.spec.nodeName] }] },
      ]);
      expect(imageOf(pod)).toMatch(/amazon-k8s-cni:v1\.12\.6-eksbuild\.2$/);
      expect(pod.status).toMatchObject({ phase: 'Running', hostIP: pod.status.podIP });
      expect(pod.status.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
      expect(pod.status.containerStatuses[0]).toMatchObject({ name: 'aws-node', ready: true, image: imageOf(pod) });
    }
    expect(list.find((p) => p.spec.nodeName === 'ip-10-0-0-0.ec2.internal')!.status.podIP).toBe('10.0.0.0');
  });

  it('replaces pods maxUnavailable at a time, each step one pod, old pods keeping their old images', () => {
    const gate = new Gate('rollout', true);
    const store = storeWithNodes(3, gate);
    store.put(upstreamDaemonSet('v1.12.6-eksbuild.2'));
    const oldHash = pods(store)[0]!.metadata.labels[REVISION_HASH];
    bumpImage(store, 'v2');
    // maxUnavailable 10% of 3 → 1: the first node's old pod is gone, its new pod is starting.
    expect(summary(store)).toEqual([
      'ip-10-0-0-0.ec2.internal v2 Pending',
      'ip-10-0-0-1.ec2.internal v1.12.6-eksbuild.2 Running',
      'ip-10-0-0-2.ec2.internal v1.12.6-eksbuild.2 Running',
    ]);
    const starting = pods(store).find((p) => p.status.phase === 'Pending')!;
    expect(starting.status.containerStatuses[0].state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(starting.metadata.labels).toMatchObject({ 'pod-template-generation': '2' });
    expect(starting.metadata.labels[REVISION_HASH]).not.toBe(oldHash);

    gate.step();
    expect(summary(store)).toEqual([
      'ip-10-0-0-0.ec2.internal v2 Running',
      'ip-10-0-0-1.ec2.internal v2 Pending',
      'ip-10-0-0-2.ec2.internal v1.12.6-eksbuild.2 Running',
    ]);
    while (gate.step());
    expect(summary(store)).toEqual([
      'ip-10-0-0-0.ec2.internal v2 Running',
      'ip-10-0-0-1.ec2.internal v2 Running',
      'ip-10-0-0-2.ec2.internal v2 Running',
    ]);
    expect(new Set(pods(store).map((p) => p.metadata.labels['pod-template-generation']))).toEqual(new Set(['2']));
  });

  it('follows nodes, replaces a deleted pod, and goes with its DaemonSet', () => {
    const store = storeWithNodes(2, new Gate('rollout', true));
    store.put(upstreamDaemonSet('v1.12.6-eksbuild.2'));
    const victim = pods(store)[0]!;
    store.delete('v1', 'Pod', victim.metadata.name, 'kube-system');
    const after = pods(store);
    expect(after).toHaveLength(2);
    expect(after.map((p) => p.metadata.name)).not.toContain(victim.metadata.name);
    expect(after.map((p) => p.spec.nodeName)).toContain(victim.spec.nodeName);

    store.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'ip-10-0-0-9.ec2.internal', labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' } } });
    expect(pods(store)).toHaveLength(3);
    store.delete('v1', 'Node', 'ip-10-0-0-0.ec2.internal');
    expect(pods(store).map((p) => p.spec.nodeName).sort()).toEqual(['ip-10-0-0-1.ec2.internal', 'ip-10-0-0-9.ec2.internal']);

    store.delete(...DS);
    expect(pods(store)).toEqual([]);
  });

  it('takes the InternalIP from the node status, else from its EC2 name', () => {
    expect(nodeInternalIp({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'ip-192-168-12-34.us-west-2.compute.internal' } })).toBe('192.168.12.34');
    expect(nodeInternalIp({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'x' }, status: { addresses: [{ type: 'InternalIP', address: '10.1.2.3' }] } })).toBe('10.1.2.3');
  });
});

for (const minor of KUBECTL_MINORS) {
  describe(`kubectl ${minor} sees the pods move with the rollout`, () => {
    let sb: RunningSandbox | undefined;
    afterEach(async () => {
      await sb?.close();
      sb = undefined;
    });

    it('get pods -l k8s-app=aws-node -o wide, a spec.nodeName field selector, and rollout status', async () => {
      sb = await startSandbox('default', { hold: ['rollout'] });
      const inKubeSystem = kubectlFor(minor, sb.kubeconfig);
      const kubectl = (...args: string[]) => inKubeSystem('-n', 'kube-system', ...args);
      const set = await kubectl('set', 'image', 'daemonset/aws-node', 'aws-node=example.com/amazon-k8s-cni:v9');
      expect(set.exitCode, set.stderr).toBe(0);

      const wide = await kubectl('get', 'pods', '-l', 'k8s-app=aws-node', '-o', 'wide');
      expect(wide.exitCode, wide.stderr).toBe(0);
      const [header, ...rows] = wide.stdout.trim().split('\n');
      expect(header).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
      expect(rows).toHaveLength(3);
      expect(rows.filter((r) => /\s0\/1\s+ContainerCreating\s/.test(r))).toHaveLength(1);
      expect(rows.filter((r) => /\s1\/1\s+Running\s/.test(r))).toHaveLength(2);
      expect(rows.join('\n')).toMatch(/aws-node-\w{5}\s+1\/1\s+Running\s+0\s+\d+s\s+192\.168\.\d+\.\d+\s+ip-192-168-\d+-\d+\.us-west-2\.compute\.internal/);

      // The pod on one node, by field selector; the images of the revision each pod runs.
      const node = 'ip-192-168-78-90.us-west-2.compute.internal';
      const one = await kubectl('get', 'pods', '-l', 'k8s-app=aws-node', '--field-selector', `spec.nodeName=${node}`, '-o', 'json');
      expect(one.exitCode, one.stderr).toBe(0);
      const items = (JSON.parse(one.stdout) as Json).items as Json[];
      expect(items.map((p) => p.spec.nodeName)).toEqual([node]);
      const images = await kubectl('get', 'pods', '-l', 'k8s-app=aws-node', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}');
      expect(images.stdout.trim().split('\n').map((i) => i.split(':').pop()).sort()).toEqual(['v1.12.6-eksbuild.2', 'v1.12.6-eksbuild.2', 'v9']);

      const waiting = await kubectl('rollout', 'status', 'daemonset/aws-node', '--watch=false');
      expect(waiting.stdout.trim()).toBe('Waiting for daemon set "aws-node" rollout to finish: 0 out of 3 new pods have been updated...');

      for (let step = 1; step <= 3; step++) {
        await sb.gates.rollout.waitForPending(1);
        sb.gates.rollout.step();
      }
      await sb.store.whenRolledOut('aws-node', 'kube-system');
      const done = await kubectl('rollout', 'status', 'daemonset/aws-node', '--watch=false');
      expect(done.stdout.trim()).toBe('daemon set "aws-node" successfully rolled out');
      const after = await kubectl('get', 'pods', '-l', 'k8s-app=aws-node', '-o', 'jsonpath={.items[*].spec.containers[0].image}');
      expect(after.stdout.split(' ').map((i) => i.split(':').pop())).toEqual(['v9', 'v9', 'v9']);
    }, 120_000);
  });
}
