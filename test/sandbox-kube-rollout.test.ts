/**
 * DaemonSet rollouts as the real DaemonSet controller runs them: observedGeneration at once, pods replaced
 * maxUnavailable at a time (percentages over the admitted nodes, rounded up), availability dipping, and
 * `kubectl rollout status` printing each step, with each step released through the rollout gate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KUBECTL_MINORS, kubectlFor } from './helpers/kubectl.js';
import { upstreamDaemonSet, type KubeObject } from '../src/decide/manifests.js';
import { Gate } from '../src/sandbox/gates.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { KubeStore, maxUnavailableOf, TEMPLATE_GENERATION } from '../src/sandbox/kube-store.js';

/** Where the machine keeps kubectl.1.27 … kubectl.1.33. */

function nodes(store: KubeStore, count: number): void {
  for (let i = 0; i < count; i++) {
    store.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: `ip-10-0-0-${i}.ec2.internal`, labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } } });
  }
}

const DS = ['apps/v1', 'DaemonSet', 'aws-node', 'kube-system'] as const;
type Status = Record<string, number | undefined>;
const status = (store: KubeStore): Status => store.get(...DS)?.status as Status;

function withMaxUnavailable(value: string | number): KubeObject {
  const ds = upstreamDaemonSet('v1.12.6-eksbuild.2');
  (ds.spec as { updateStrategy: { rollingUpdate: { maxUnavailable: string | number } } }).updateStrategy.rollingUpdate.maxUnavailable = value;
  return ds;
}

function bumpImage(store: KubeStore, tag: string): void {
  const ds = store.get(...DS) as KubeObject;
  const containers = (ds.spec as { template: { spec: { containers: Array<{ name: string; image: string }> } } }).template.spec.containers;
  const node = containers.find((c) => c.name === 'aws-node');
  if (node) node.image = `example.com/amazon-k8s-cni:${tag}`;
  store.put(ds, { manager: 'kubectl-set' });
}

describe('the DaemonSet controller', () => {
  it('scales maxUnavailable over the admitted nodes, rounding percentages up, at least 1', () => {
    expect(maxUnavailableOf(withMaxUnavailable('10%'), 3)).toBe(1);
    expect(maxUnavailableOf(withMaxUnavailable('10%'), 11)).toBe(2);
    expect(maxUnavailableOf(withMaxUnavailable('25%'), 10)).toBe(3);
    expect(maxUnavailableOf(withMaxUnavailable(2), 10)).toBe(2);
    expect(maxUnavailableOf(withMaxUnavailable('0%'), 10)).toBe(1);
  });

  it('observes the generation at once and replaces pods maxUnavailable at a time, one pod per gate step', () => {
    const gate = new Gate('rollout', true);
    const store = new KubeStore({ rolloutGate: gate });
    nodes(store, 10);
    store.put(withMaxUnavailable('25%'));
    expect(status(store)).toMatchObject({ desiredNumberScheduled: 10, updatedNumberScheduled: 10, numberAvailable: 10, observedGeneration: 1 });
    expect(store.get(...DS)?.metadata.annotations).toMatchObject({ [TEMPLATE_GENERATION]: '1' });

    bumpImage(store, 'v2');
    const ds = store.get(...DS) as KubeObject;
    expect(ds.metadata.generation).toBe(2);
    expect(ds.metadata.annotations).toMatchObject({ [TEMPLATE_GENERATION]: '2' });
    // 25% of 10 rounds up to 3 pods down at once; availability dips.
    expect(status(store)).toMatchObject({ observedGeneration: 2, updatedNumberScheduled: 0, numberAvailable: 7, numberReady: 7, numberUnavailable: 3 });
    const seen: Array<[number | undefined, number | undefined]> = [];
    while (gate.step()) seen.push([status(store).updatedNumberScheduled, status(store).numberAvailable]);
    expect(seen).toEqual([
      [1, 7], [2, 7], [3, 7], [4, 7], [5, 7], [6, 7], [7, 7], [8, 8], [9, 9], [10, 10],
    ]);
    expect(status(store)).not.toHaveProperty('numberUnavailable');

    // A spec change outside the template (minReadySeconds) bumps generation but rolls nothing.
    const other = store.get(...DS) as KubeObject;
    (other.spec as Record<string, unknown>).minReadySeconds = 5;
    store.put(other);
    expect(store.get(...DS)?.metadata).toMatchObject({ generation: 3, annotations: { [TEMPLATE_GENERATION]: '2' } });
    expect(status(store)).toMatchObject({ observedGeneration: 3, updatedNumberScheduled: 10, numberAvailable: 10 });
    expect(gate.state().pending).toEqual([]);
  });

  it('holds a rollout while rolloutNeverFinishes, and goes on when it is switched off', async () => {
    const store = new KubeStore({ rolloutDurationMs: 0 });
    nodes(store, 3);
    store.put(withMaxUnavailable('10%'));
    store.rolloutNeverFinishes = true;
    bumpImage(store, 'v3');
    // Each step comes due (after 0 ms) and stalls; the status stays partial.
    await store.rolloutGate.until((s) => s.passed >= 1);
    expect(status(store)).toMatchObject({ updatedNumberScheduled: 0, numberAvailable: 2, numberUnavailable: 1 });
    store.rolloutNeverFinishes = false;
    await store.whenRolledOut('aws-node', 'kube-system');
    expect(status(store)).toMatchObject({ updatedNumberScheduled: 3, numberAvailable: 3 });
  });
});

for (const minor of KUBECTL_MINORS) {
  describe(`kubectl ${minor} rollout status on a pod-by-pod rollout`, () => {
    let sb: RunningSandbox | undefined;
    afterEach(async () => {
      await sb?.close();
      sb = undefined;
    });

    it('prints each step the controller reports, then success', async () => {
      sb = await startSandbox('default', { hold: ['rollout'] });
      const kubectl = kubectlFor(minor, sb.kubeconfig);
      const set = await kubectl('set', 'image', 'daemonset/aws-node', '-n', 'kube-system', 'aws-node=example.com/amazon-k8s-cni:v9');
      expect(set.exitCode, set.stderr).toBe(0);
      const table = await kubectl('get', 'daemonset', 'aws-node', '-n', 'kube-system');
      expect(table.stdout).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\n/);
      // 3 nodes, maxUnavailable 10% → one pod down at a time: 2 ready, 0 up to date.
      expect(table.stdout).toMatch(/\naws-node\s+3\s+3\s+2\s+0\s+2\s+<none>\s+\d+s\n?$/);

      const rollout = kubectl('rollout', 'status', 'daemonset/aws-node', '-n', 'kube-system', '--timeout=50s');
      const log = sb.log;
      const watching = (): boolean => log.entries.some((e) => e.operation === 'WATCH daemonsets');
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (watching()) {
            clearInterval(check);
            resolve();
          }
        }, 20);
      });
      const store = sb.store;
      for (let step = 1; step <= 3; step++) {
        await sb.gates.rollout.waitForPending(1);
        sb.gates.rollout.step();
        expect(status(store).updatedNumberScheduled).toBe(step);
      }
      const result = await rollout;
      expect(result.exitCode, result.stderr).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).toBe('Waiting for daemon set "aws-node" rollout to finish: 0 out of 3 new pods have been updated...');
      expect(lines).toContain('Waiting for daemon set "aws-node" rollout to finish: 2 out of 3 new pods have been updated...');
      expect(lines.at(-1)).toBe('daemon set "aws-node" successfully rolled out');
    });
  });
}
