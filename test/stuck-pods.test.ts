/**
 * A rollout that stops names the aws-node pods that are not ready and why (src/decide/pods.ts,
 * src/gather/pods.ts): an upgrade step, a resume that finds the rollout stuck, read through both
 * Kubernetes clients; and the kubelet's reasons as a real cluster reports them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runUpgrade } from '../src/act/upgrade/run.js';
import { describePods, notReadyPods } from '../src/decide/pods.js';
import type { KubeObject } from '../src/decide/manifests.js';
import { UpgradeStoppedError } from '../src/errors.js';
import { runtimeFor, sandboxesClosedAfterEach } from './helpers/in-process-runtime.js';

const sandboxOf = sandboxesClosedAfterEach();
const tmp = () => mkdtempSync(join(tmpdir(), 'vpccni-stuck-pods-'));

/**
 * Container statuses as the kubelet writes them. The CrashLoopBackOff status is the one quoted in
 * open-telemetry/semantic-conventions#996 (a pod in that state, `kubectl get pod -o yaml`), renamed to
 * aws-node's container; the init container's ImagePullBackOff and the running-but-not-ready container are
 * the same PodStatus fields with the reasons `kubectl describe pod` showed in aws/amazon-vpc-cni-k8s#1422
 * and #3224.
 */
const pod = (name: string, node: string, status: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'kube-system', labels: { 'k8s-app': 'aws-node' } },
  spec: { nodeName: node },
  status,
});
const notReady = [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }];
const realPods: KubeObject = {
  apiVersion: 'v1',
  kind: 'PodList',
  metadata: { name: '' },
  items: [
    pod('aws-node-shhgn', 'ip-10-3-99-93.ca-central-1.compute.internal', {
      phase: 'Running',
      conditions: notReady,
      containerStatuses: [
        {
          name: 'aws-node',
          ready: false,
          restartCount: 2,
          started: false,
          lastState: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2024-05-02T12:30:41Z', finishedAt: '2024-05-02T12:30:53Z' } },
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=aws-node pod=aws-node-shhgn_kube-system(dbd4171d-fcef-45d5-8caf-be07213e1bf6)' } },
        },
        { name: 'aws-eks-nodeagent', ready: true, restartCount: 1, state: { running: { startedAt: '2025-03-01T13:57:08Z' } } },
      ],
    }),
    pod('aws-node-4xq2z', 'ip-10-3-12-7.ca-central-1.compute.internal', {
      phase: 'Pending',
      conditions: notReady,
      initContainerStatuses: [{ name: 'aws-vpc-cni-init', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }],
      containerStatuses: [{ name: 'aws-node', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    }),
    pod('aws-node-7tpkd', 'ip-10-3-40-2.ca-central-1.compute.internal', {
      phase: 'Running',
      conditions: notReady,
      initContainerStatuses: [{ name: 'aws-vpc-cni-init', ready: true, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
      containerStatuses: [{ name: 'aws-node', ready: false, restartCount: 0, state: { running: { startedAt: '2025-03-01T13:55:07Z' } } }],
    }),
    pod('aws-node-ready', 'ip-10-3-1-1.ca-central-1.compute.internal', {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'aws-node', ready: true, restartCount: 0, state: { running: {} } }],
    }),
  ],
};

describe('the pods a stopped rollout names', () => {
  it('are the ones not ready, each with its node and what its containers wait on, init containers first', () => {
    const pods = notReadyPods(realPods);
    expect(pods.map((p) => p.name)).toEqual(['aws-node-4xq2z', 'aws-node-7tpkd', 'aws-node-shhgn']);
    expect(describePods(pods)).toBe(
      'aws-node-4xq2z on ip-10-3-12-7.ca-central-1.compute.internal: init aws-vpc-cni-init ImagePullBackOff, aws-node PodInitializing; ' +
        'aws-node-7tpkd on ip-10-3-40-2.ca-central-1.compute.internal: aws-node running, not ready; ' +
        'aws-node-shhgn on ip-10-3-99-93.ca-central-1.compute.internal: aws-node CrashLoopBackOff after 2 restarts',
    );
    expect(describePods(pods, 1)).toMatch(/; and 2 more$/);
    expect(notReadyPods(null)).toEqual([]);
  });

  it.each(['api', 'kubectl'] as const)('are named when an upgrade step stops on its rollout, and when a resume finds it still stuck (%s client)', async (kubeClient) => {
    const sandbox = await sandboxOf('default');
    sandbox.gates.rollout.hold();
    const backupDir = tmp();
    // The step's rollout is held in the gate; its wait ends as a timeout would (the gate, not the clock,
    // decides that the rollout never finishes). The held pod is the one the DaemonSet controller replaces
    // first: created, its containers not started.
    const runtime = runtimeFor(sandbox, undefined, { kubeClient });
    runtime.kube.rolloutStatus = async () => {
      await sandbox.gates.rollout.waitForPending(1);
      return false;
    };
    const first = await runUpgrade(runtime, { to: 'v1.13.4-eksbuild.1', values: null, timeoutMs: 60_000, backupDir, yes: true }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UpgradeStoppedError);
    expect((first as Error).message).toMatch(/had not rolled out when the timeout ran out; not ready: aws-node-[a-z0-9]{5} on [^:]+: aws-node ContainerCreating[;.]/);

    const stuck = await runUpgrade(runtimeFor(sandbox, undefined, { kubeClient }), { resume: true, values: null, timeoutMs: 1000, backupDir }).catch((e: unknown) => e);
    expect(stuck).toBeInstanceOf(UpgradeStoppedError);
    expect((stuck as Error).message).toMatch(/is stuck \(0\/\d+ pods updated, \d+\/\d+ available\) after the 1s timeout; not ready: aws-node-[a-z0-9]{5} on [^:]+: aws-node ContainerCreating; check it with vpccni status/);
    sandbox.gates.rollout.release();
  });
});
