/**
 * `faults.imagePullFails`: the kubelets cannot pull an image, so a rollout to a template that uses it never
 * finishes. Its new pod (maxUnavailable at a time) waits in ErrImagePull, then, one rollout-gate passage later,
 * in ImagePullBackOff for good, with the kubelet's messages; the DaemonSet counts it updated, never available.
 * Read by kubectl 1.27 and 1.33 (`get pods` STATUS, `-o json`); the change is the add-on's, made by the SDK.
 * Each step is a gate passage, never a clock.
 */
import { UpdateAddonCommand } from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { eksSdk } from './helpers/aws-sdk.js';
import { KUBECTL_MINORS, kubectlFor } from './helpers/kubectl.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const INIT = '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init:v1.13.4-eksbuild.1';

for (const minor of KUBECTL_MINORS) {
  describe(`pods that cannot pull their image (kubectl ${minor})`, () => {
    it('wait in ErrImagePull, then ImagePullBackOff, and the rollout never completes', async () => {
      const sb = await startSandbox('default', { faults: { imagePullFails: ['amazon-k8s-cni-init:v1.13.4'] }, hold: ['rollout'] });
      running.push(sb);
      const kubectl = kubectlFor(minor, sb.kubeconfig);
      const awsNodePods = async (): Promise<Json[]> => {
        const got = await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=aws-node', '-o', 'json');
        expect(got.exitCode, got.stderr).toBe(0);
        return (JSON.parse(got.stdout) as { items: Json[] }).items;
      };
      const desired = (await awsNodePods()).length;
      expect(desired).toBeGreaterThan(1);

      await eksSdk(sb).send(new UpdateAddonCommand({ clusterName: 'demo', addonName: 'vpc-cni', addonVersion: 'v1.13.4-eksbuild.1', resolveConflicts: 'OVERWRITE' }));
      await sb.gates.eksChange.until((g) => g.passed >= 1);
      // The first pod step waits in the held rollout gate: the new pod's pull has just failed.
      await sb.gates.rollout.waitForPending(1);
      const pulling = (await awsNodePods()).filter((p) => p.status.phase === 'Pending');
      expect(pulling).toHaveLength(1);
      expect(pulling[0]!.status.initContainerStatuses).toEqual([
        expect.objectContaining({
          name: 'aws-vpc-cni-init',
          image: INIT,
          ready: false,
          state: { waiting: { reason: 'ErrImagePull', message: expect.stringMatching(/^Failed to pull image "[^"]+amazon-k8s-cni-init:v1\.13\.4-eksbuild\.1": rpc error: code = NotFound /) } },
        }),
      ]);

      // The next passage is the kubelet backing off; after it nothing more of the rollout waits in the gate.
      sb.gates.rollout.step();
      await sb.gates.rollout.until((g) => g.passed >= 1);
      expect(sb.gates.rollout.state().pending).toEqual([]);

      const table = await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=aws-node');
      expect(table.exitCode, table.stderr).toBe(0);
      const rows = table.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/));
      expect(rows.map((r) => r[2]).sort()).toEqual([...Array(desired - 1).fill('Running'), 'Init:ImagePullBackOff'].sort());
      const stuckRow = rows.find((r) => r[2] === 'Init:ImagePullBackOff')!;
      const stuck = (await awsNodePods()).find((p) => p.metadata.name === stuckRow[0])!;
      expect(stuckRow[1]).toBe(`0/${stuck.spec.containers.length}`);
      expect(stuck.status.phase).toBe('Pending');
      expect(stuck.status.initContainerStatuses[0].state).toEqual({ waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${INIT}"` } });
      expect(stuck.status.containerStatuses.map((c: Json) => [c.name, c.ready, c.state])).toEqual(
        stuck.spec.containers.map((c: Json) => [c.name, false, { waiting: { reason: 'PodInitializing' } }]),
      );
      expect(stuck.status.containerStatuses.map((c: Json) => c.name)).toContain('aws-node');
      expect(stuck.status.conditions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [aws-vpc-cni-init]' }),
          expect.objectContaining({ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }),
        ]),
      );

      // The DaemonSet counts the stuck pod updated, not available; releasing the gate changes nothing.
      sb.gates.rollout.release();
      const ds = await kubectl('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json');
      expect((JSON.parse(ds.stdout) as Json).status).toMatchObject({ desiredNumberScheduled: desired, updatedNumberScheduled: 1, numberAvailable: desired - 1, numberUnavailable: 1 });
      const status = await kubectl('rollout', 'status', 'daemonset/aws-node', '-n', 'kube-system', '--watch=false');
      expect(status.stdout).toMatch(/1 out of \d+ new pods have been updated|Waiting for daemon set "aws-node" rollout to finish: \d+ of \d+ updated pods are available/);
    });
  });
}
