/**
 * The sandbox's gates (src/sandbox/gates.ts): the states a test holds instead of racing a timer. Driven
 * in-process (sandbox.gates) and over the control endpoint of the EKS emulator, with the real AWS SDK
 * making the EKS calls.
 */
import { DescribeAddonCommand, DescribeUpdateCommand, EKSClient, UpdateAddonCommand } from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { Gate } from '../src/sandbox/gates.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { kubeVersionStatus } from './helpers/kube-https.js';

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(hold: Array<'eks-change' | 'rollout' | 'kube-outage'> = []): Promise<RunningSandbox> {
  const sb = await startSandbox('default', { hold });
  running.push(sb);
  return sb;
}

function eks(sb: RunningSandbox): EKSClient {
  return new EKSClient({ endpoint: sb.eksEndpoint, region: sb.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

async function control(sb: RunningSandbox, method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sb.eksEndpoint}${path}`, { method });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Gate', () => {
  it('runs a passage after its time while open, and holds it (even once due) until stepped or released', async () => {
    const gate = new Gate('eks-change');
    const done: string[] = [];
    gate.after(0, () => done.push('now'));
    expect(done).toEqual(['now']);
    gate.hold();
    gate.after(0, () => done.push('a'), 'a');
    gate.after(5, () => done.push('b'), 'b');
    gate.after(5, () => done.push('c'), 'c');
    expect(gate.state()).toEqual({ held: true, pending: ['a', 'b', 'c'], passed: 1 });
    expect(gate.step()).toBe(true);
    expect(done).toEqual(['now', 'a']);
    gate.release();
    expect(done).toEqual(['now', 'a', 'b', 'c']);
    expect(gate.state()).toEqual({ held: false, pending: [], passed: 4 });
    expect(gate.step()).toBe(false);
  });

  it('queues a timer that fires while held, and resolves waiters on the state they wait for', async () => {
    const gate = new Gate('rollout');
    const done: string[] = [];
    gate.after(1, () => done.push('x'), 'x');
    gate.hold();
    const waiting = gate.until((s) => s.passed === 1);
    await gate.waitForPending(1);
    expect(done).toEqual([]);
    gate.step();
    await waiting;
    expect(done).toEqual(['x']);
  });
});

describe('sandbox gates', () => {
  it('keeps an UpdateAddon InProgress until the eks-change gate passes it, in-process', async () => {
    const sb = await start(['eks-change']);
    const client = eks(sb);
    const { update } = await client.send(new UpdateAddonCommand({ clusterName: sb.cluster, addonName: 'vpc-cni', addonVersion: 'v1.13.4-eksbuild.1' }));
    await sb.gates.eksChange.waitForPending(1);
    expect((await client.send(new DescribeUpdateCommand({ name: sb.cluster, addonName: 'vpc-cni', updateId: update!.id! }))).update?.status).toBe('InProgress');
    expect((await client.send(new DescribeAddonCommand({ clusterName: sb.cluster, addonName: 'vpc-cni' }))).addon?.status).toBe('UPDATING');
    sb.gates.eksChange.step();
    expect((await client.send(new DescribeUpdateCommand({ name: sb.cluster, addonName: 'vpc-cni', updateId: update!.id! }))).update?.status).toBe('Successful');
    expect(sb.addon()?.addonVersion).toBe('v1.13.4-eksbuild.1');
  });

  it('holds, steps and releases over the control endpoint, which the request log does not see', async () => {
    const sb = await start();
    expect((await control(sb, 'POST', '/_sandbox/gates/eks-change/hold')).body).toMatchObject({ gate: 'eks-change', held: true, pending: [] });
    const client = eks(sb);
    const { update } = await client.send(new UpdateAddonCommand({ clusterName: sb.cluster, addonName: 'vpc-cni', addonVersion: 'v1.13.4-eksbuild.1' }));
    const state = await control(sb, 'GET', '/_sandbox/gates');
    expect(state.status).toBe(200);
    expect((state.body.gates as Record<string, { pending: string[] }>)['eks-change']!.pending).toEqual([`UpdateAddon ${update!.id!}`]);
    expect((await control(sb, 'POST', '/_sandbox/gates/eks-change/release')).body).toMatchObject({ held: false, pending: [], passed: 1 });
    expect(sb.addon()?.status).toBe('ACTIVE');
    expect((await control(sb, 'POST', '/_sandbox/gates/nope/hold')).status).toBe(404);
    expect((await control(sb, 'POST', '/_sandbox/gates/rollout/jump')).status).toBe(404);
    expect((await control(sb, 'POST', '/_sandbox/gates/rollout/start')).status).toBe(400);
    expect(sb.log.entries.some((e) => e.path.startsWith('/_sandbox'))).toBe(false);
  });

  it('keeps a DaemonSet rollout partial until the rollout gate steps it', async () => {
    const sb = await start(['rollout']);
    const ds = () => sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as unknown as { status: { updatedNumberScheduled: number; desiredNumberScheduled: number } };
    const changed = structuredClone(sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')!);
    (changed.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations = { touched: '1' };
    sb.store.put(changed);
    const desired = ds().status.desiredNumberScheduled;
    expect(desired).toBeGreaterThan(1);
    // One passage of the rollout gate is one pod (maxUnavailable 10% of three nodes rounds up to one): the rollout stays partial until
    // it has been stepped once per pod, and only then is every pod updated.
    for (let pod = 1; pod <= desired; pod++) {
      await sb.gates.rollout.waitForPending(1);
      expect(ds().status.updatedNumberScheduled).toBe(pod - 1);
      sb.gates.rollout.step();
      expect(ds().status.updatedNumberScheduled).toBe(pod);
    }
    expect(ds().status.updatedNumberScheduled).toBe(desired);
    expect(sb.gates.rollout.state()).toMatchObject({ held: true, pending: [], passed: desired });
  });

  it('keeps the Kubernetes API down until the kube-outage gate is released', async () => {
    const sb = await start(['kube-outage']);
    // The API serves HTTPS with the sandbox's own CA; /version is public, so no token is needed. 'refused' is only a
    // refused connection: any other failure (a TLS error, say) shows up as its own code and fails the test.
    const version = () => kubeVersionStatus(sb.kubeEndpoint, Buffer.from(sb.caData, 'base64'));
    expect(await version()).toBe(200);
    expect((await control(sb, 'POST', '/_sandbox/gates/kube-outage/start')).body).toMatchObject({ held: true, pending: [expect.stringMatching(/^kube outage/)] });
    expect(await version()).toBe('refused');
    sb.gates.kubeOutage.release();
    // Listening again is asynchronous: wait for the condition, not for a time.
    await expect.poll(version, { timeout: 10_000, interval: 20 }).toBe(200);
  });
});
