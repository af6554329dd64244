/**
 * `upgrade --atomic`: a step that fails, or a rollout that does not become ready within --timeout, walks the
 * add-on back to the version the run started from with the settings of the run's backup, then stops with exit
 * 4 naming the failure and where it returned; `--output json` carries the `rollback` object. The CLI runs
 * in-process (one run spawns the built CLI) against an in-process sandbox; the live objects are read back with kubectl, the add-on with the
 * SDK. Faults are the sandbox's (`failUpdateNumber`, `updateNeverFinishes`, `imagePullFails`) and a held rollout gate; nothing is
 * ordered by the clock but the --timeout a held gate makes run out.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeAddonCommand, UpdateAddonCommand } from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario, startSandbox, type GateName, type RunningSandbox } from '../src/sandbox/index.js';
import type { ScenarioFaults } from '../src/sandbox/scenario-types.js';
import { onSandbox, parseJson, type CliResult } from './helpers/cli.js';
import { eksSdk } from './helpers/aws-sdk.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { startInProcess } from './helpers/in-process-watch.js';
import { kubectlFor } from './helpers/kubectl.js';
import { schemaErrors } from './helpers/schemas.js';

useInProcessCli();

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(name: string, faults: ScenarioFaults = {}, hold: GateName[] = []): Promise<RunningSandbox> {
  const base = loadScenario(name);
  const sb = await startSandbox({ ...base, sandbox: { ...base.sandbox, updateDurationMs: 20, rolloutDurationMs: 20 } }, { faults, hold });
  running.push(sb);
  return sb;
}

interface Rollback {
  from: string;
  to: string;
  outcome: 'returned' | 'failed';
  steps: Array<{ from: string; to: string; action: string; result: string }>;
}

/** aws-node as kubectl reads it: the image tag of each container and the env of aws-node. */
async function liveAwsNode(sb: RunningSandbox): Promise<{ tag: string; env: Record<string, string | undefined>; ready: boolean }> {
  const kubectl = kubectlFor('1.33', sb.kubeconfig);
  const got = await kubectl('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json');
  expect(got.exitCode, got.stderr).toBe(0);
  const ds = JSON.parse(got.stdout) as {
    spec: { template: { spec: { containers: Array<{ name: string; image: string; env?: Array<{ name: string; value?: string }> }> } } };
    status: { desiredNumberScheduled: number; updatedNumberScheduled: number; numberAvailable: number };
  };
  const node = ds.spec.template.spec.containers.find((c) => c.name === 'aws-node')!;
  const s = ds.status;
  return {
    tag: node.image.split(':').at(-1)!,
    env: Object.fromEntries((node.env ?? []).map((e) => [e.name, e.value])),
    ready: s.updatedNumberScheduled === s.desiredNumberScheduled && s.numberAvailable === s.desiredNumberScheduled,
  };
}

const addon = async (sb: RunningSandbox) =>
  (await eksSdk(sb).send(new DescribeAddonCommand({ clusterName: 'demo', addonName: 'vpc-cni' }))).addon!;

const tmp = () => mkdtempSync(join(tmpdir(), 'vpccni-atomic-'));

/** An in-process run that stopped after its walk back: exit 4, and one JSON document that fits the schema. */
async function stoppedWithRollback(run: { result: Promise<CliResult> }): Promise<{ result: CliResult; report: { rollback: Rollback } }> {
  const result = await run.result;
  expect(result.exitCode, result.stderr).toBe(4);
  const report = parseJson<{ rollback: Rollback }>(result);
  expect(schemaErrors('upgrade', report)).toEqual([]);
  return { result, report };
}

function errorLine(result: CliResult): string {
  const lines = result.stderr.trim().split('\n').filter((l) => l.startsWith('vpccni: '));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

/** The default scenario with the add-on's own configuration values set first (change 1 of the sandbox). */
async function startWithValues(faults: ScenarioFaults, hold: GateName[] = []): Promise<RunningSandbox> {
  const sb = await start('default');
  await eksSdk(sb).send(
    new UpdateAddonCommand({ clusterName: 'demo', addonName: 'vpc-cni', addonVersion: 'v1.12.6-eksbuild.2', resolveConflicts: 'OVERWRITE', configurationValues: '{"env":{"WARM_ENI_TARGET":"2"}}' }),
  );
  await sb.gates.eksChange.until((s) => s.passed >= 1);
  const rolled = await kubectlFor('1.33', sb.kubeconfig)('rollout', 'status', 'daemonset/aws-node', '-n', 'kube-system', '--timeout=60s');
  expect(rolled.exitCode, rolled.stderr).toBe(0);
  Object.assign(sb.scenario.sandbox.faults!, faults);
  // The gates are held only once the set-up change has rolled out.
  if (hold.includes('eks-change')) sb.gates.eksChange.hold();
  if (hold.includes('rollout')) sb.gates.rollout.hold();
  expect((await liveAwsNode(sb)).env.WARM_ENI_TARGET).toBe('2');
  return sb;
}

describe('upgrade --atomic walks back to where the run started', () => {
  it('a step EKS fails: walks back one minor at a time to the starting version and values, exit 4, JSON rollback', async () => {
    // Change 1 set the values; step 1 (change 2) goes through; step 2 (change 3) ends UPDATE_FAILED.
    const sb = await startWithValues({ failUpdateNumber: 3 });
    const dir = tmp();
    // The built CLI, spawned: the bundle carries the walk back.
    const result = await onSandbox(sb, [
      'upgrade', '--to', 'v1.14.0-eksbuild.3', '--configuration-values', '{"env":{"WARM_ENI_TARGET":"3"}}', '--atomic', '--yes', '--backup-dir', dir, '--output', 'json',
    ]);
    expect(result.exitCode, result.stderr).toBe(4);
    const report = parseJson<{ rollback: Rollback; steps: Array<{ result: string }> }>(result);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report.steps.map((s) => s.result)).toEqual(['succeeded', 'failed']);
    expect(report.rollback).toEqual({
      from: 'v1.13.4-eksbuild.1',
      to: 'v1.12.6-eksbuild.2',
      outcome: 'returned',
      steps: [{ from: 'v1.13.4-eksbuild.1', to: 'v1.12.6-eksbuild.2', action: 'update', result: 'succeeded' }],
    });
    const line = errorLine(result);
    expect(line).toMatch(/step 2 of 2 .*AdmissionRequestDenied/);
    expect(line).toMatch(/returned to v1\.12\.6-eksbuild\.2: EKS add-on v1\.12\.6-eksbuild\.2 ACTIVE, aws-node runs v1\.12\.6-eksbuild\.2/);
    // The journal is closed: "continue" starts the run again with its flags.
    expect(line).toMatch(/continue: vpccni upgrade --to v1\.14\.0-eksbuild\.3 --configuration-values '\{"env":\{"WARM_ENI_TARGET":"3"\}\}' --atomic .*; go back: vpccni restore \S+\.yaml/);
    // The starting version and the starting settings, live.
    const live = await liveAwsNode(sb);
    expect(live).toMatchObject({ tag: 'v1.12.6-eksbuild.2', ready: true });
    expect(live.env.WARM_ENI_TARGET).toBe('2');
    const now = await addon(sb);
    expect(now).toMatchObject({ addonVersion: 'v1.12.6-eksbuild.2', status: 'ACTIVE' });
    expect(JSON.parse(now.configurationValues!)).toEqual({ env: { WARM_ENI_TARGET: '2' } });
    // The walk back closed the journal: there is nothing to resume.
    const resumed = await onSandboxInProcess(sb, ['upgrade', '--resume', '--yes', '--backup-dir', dir]);
    expect(resumed.exitCode).toBe(2);
    expect(resumed.stderr).toMatch(/no stopped upgrade/);
  });

  it('a rollout that never becomes ready within --timeout: walks back and waits for the old rollout', async () => {
    const sb = await startWithValues({}, ['eks-change', 'rollout']);
    // Step 1's change goes through EKS; its rollout waits in the held rollout gate past --timeout.
    void sb.gates.eksChange.waitForPending(1).then(() => sb.gates.eksChange.step());
    const run = startInProcess(
      ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--atomic', '--yes', '--timeout', '2s', '--backup-dir', tmp(), '--output', 'json'],
      (a) => onSandboxInProcess(sb, a),
    );
    await run.stderrMatches(/--atomic: walking back to v1\.12\.6-eksbuild\.2/);
    // The walk back's UpdateAddon is in flight: let it and both rollouts finish.
    await sb.gates.eksChange.waitForPending(1);
    sb.gates.rollout.release();
    sb.gates.eksChange.release();
    const { result, report } = await stoppedWithRollback(run);
    expect(report.rollback).toMatchObject({ from: 'v1.13.4-eksbuild.1', to: 'v1.12.6-eksbuild.2', outcome: 'returned' });
    expect(errorLine(result)).toMatch(/had not rolled out when the timeout ran out.*returned to v1\.12\.6-eksbuild\.2/);
    const live = await liveAwsNode(sb);
    expect(live).toMatchObject({ tag: 'v1.12.6-eksbuild.2', ready: true });
    expect(live.env.WARM_ENI_TARGET).toBe('2');
    expect(await addon(sb)).toMatchObject({ addonVersion: 'v1.12.6-eksbuild.2', status: 'ACTIVE' });
  });

  it('pods that cannot pull the new image: the stop names them in ImagePullBackOff, and the walk back returns', async () => {
    // The v1.13.4 init image cannot be pulled; the v1.12.6 images of the walk back can. The rollout gate is held
    // until the new pod's failed pull waits in it, then released: the kubelet backs off and the pod stays in
    // ImagePullBackOff, so --timeout runs out on a rollout that cannot finish.
    const sb = await start('default', { imagePullFails: ['amazon-k8s-cni-init:v1.13.4'] }, ['rollout']);
    const run = startInProcess(
      ['upgrade', '--atomic', '--to', 'v1.13.4-eksbuild.1', '--timeout', '2s', '--yes', '--backup-dir', tmp(), '--output', 'json'],
      (a) => onSandboxInProcess(sb, a),
    );
    await sb.gates.rollout.waitForPending(1);
    sb.gates.rollout.release();
    const { result, report } = await stoppedWithRollback(run);
    expect(report.rollback).toMatchObject({ from: 'v1.13.4-eksbuild.1', to: 'v1.12.6-eksbuild.2', outcome: 'returned' });
    const line = errorLine(result);
    expect(line).toMatch(/had not rolled out when the timeout ran out; not ready: aws-node-[a-z0-9]{5} on [^:]+: init aws-vpc-cni-init ImagePullBackOff, aws-node PodInitializing/);
    expect(line).toMatch(/returned to v1\.12\.6-eksbuild\.2/);
    expect(await addon(sb)).toMatchObject({ addonVersion: 'v1.12.6-eksbuild.2', status: 'ACTIVE' });
    // Every image of the live DaemonSet is v1.12.6 again, and its pods all run them.
    const kubectl = kubectlFor('1.33', sb.kubeconfig);
    const ds = JSON.parse((await kubectl('get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json')).stdout) as {
      spec: { template: { spec: { containers: Array<{ image: string }>; initContainers: Array<{ image: string }> } } };
    };
    const images = [...ds.spec.template.spec.initContainers, ...ds.spec.template.spec.containers].map((c) => c.image);
    expect(images.length).toBeGreaterThan(1);
    for (const image of images) expect(image).toMatch(/:v1\.12\.6-eksbuild\.2$/);
    expect(await liveAwsNode(sb)).toMatchObject({ tag: 'v1.12.6-eksbuild.2', ready: true });
    const table = await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=aws-node', '--no-headers');
    const statuses = table.stdout.trim().split('\n').map((l) => l.split(/\s+/)[2]);
    expect(statuses.length).toBeGreaterThan(1);
    expect(new Set(statuses)).toEqual(new Set(['Running']));
  });

  it('an add-on EKS leaves DEGRADED past the grace: walks back from the applied version', async () => {
    // Change 2 (step 1) is applied, but EKS reports it Failed and the add-on DEGRADED; --grace 0s gives up at once.
    const sb = await startWithValues({ failedButApplied: { changeNumber: 2 } });
    const result = await onSandboxInProcess(sb, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--atomic', '--grace', '0s', '--yes', '--backup-dir', tmp(), '--output', 'json']);
    expect(result.exitCode, result.stderr).toBe(4);
    expect(parseJson<{ rollback: Rollback }>(result).rollback).toMatchObject({ from: 'v1.13.4-eksbuild.1', to: 'v1.12.6-eksbuild.2', outcome: 'returned' });
    expect(errorLine(result)).toMatch(/DEGRADED.*returned to v1\.12\.6-eksbuild\.2/);
    expect(await liveAwsNode(sb)).toMatchObject({ tag: 'v1.12.6-eksbuild.2', ready: true, env: expect.objectContaining({ WARM_ENI_TARGET: '2' }) });
    expect(await addon(sb)).toMatchObject({ addonVersion: 'v1.12.6-eksbuild.2', status: 'ACTIVE' });
  });

  it('an adoption whose create fails: DeleteAddon --preserve and the backup put back leave it self-managed as it was', async () => {
    const sb = await start('self-managed-custom-networking', { failUpdateNumber: 1 });
    const before = await liveAwsNode(sb);
    const result = await onSandboxInProcess(sb, [
      'upgrade', '--to', 'v1.13.4-eksbuild.1', '--resolve-conflicts', 'OVERWRITE', '--atomic', '--yes', '--backup-dir', tmp(), '--output', 'json',
    ]);
    expect(result.exitCode, result.stderr).toBe(4);
    const report = parseJson<{ rollback: Rollback }>(result);
    expect(report.rollback.outcome).toBe('returned');
    expect(report.rollback.steps.map((s) => s.action)).toEqual(['forget', 'restore']);
    expect(sb.log.entries.find((e) => e.operation === 'DeleteAddon')?.path).toMatch(/preserve=true/);
    expect(sb.addon()).toBeNull();
    expect(await liveAwsNode(sb)).toEqual(before);
    expect(errorLine(result)).toMatch(/returned to v1\.12\.6: no EKS add-on, aws-node runs v1\.12\.6/);
  });

  it('an adoption whose rollout never becomes ready: forgets the add-on and puts the backup back, live', async () => {
    const sb = await start('self-managed-custom-networking', {}, ['eks-change', 'rollout']);
    const before = await liveAwsNode(sb);
    void sb.gates.eksChange.waitForPending(1).then(() => sb.gates.eksChange.step());
    const run = startInProcess(
      ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--resolve-conflicts', 'OVERWRITE', '--atomic', '--yes', '--timeout', '2s', '--backup-dir', tmp(), '--output', 'json'],
      (a) => onSandboxInProcess(sb, a),
    );
    await run.stderrMatches(/--atomic: walking back to v1\.12\.6 /);
    // DeleteAddon's DELETING waits in the held eks-change gate: let it and every rollout through.
    await sb.gates.eksChange.waitForPending(1);
    sb.gates.rollout.release();
    sb.gates.eksChange.release();
    const { report } = await stoppedWithRollback(run);
    expect(report.rollback).toMatchObject({ from: 'v1.13.4-eksbuild.1', to: 'v1.12.6', outcome: 'returned' });
    expect(report.rollback.steps.map((s) => `${s.action} ${s.result}`)).toEqual(['forget succeeded', 'restore succeeded']);
    expect(sb.addon()).toBeNull();
    const after = await liveAwsNode(sb);
    expect(after).toEqual({ ...before, ready: true });
    expect(after.env).toMatchObject({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', WARM_IP_TARGET: '10' });
  });

  it('a --self-managed run whose manifest step never rolls out goes back by putting the backup back', async () => {
    const sb = await start('self-managed-v1.12-k8s-1.30', {}, ['rollout']);
    const before = await liveAwsNode(sb);
    const run = startInProcess(
      ['upgrade', '--to', 'v1.13.4', '--self-managed', '--atomic', '--yes', '--timeout', '2s', '--backup-dir', tmp(), '--output', 'json'],
      (a) => onSandboxInProcess(sb, a),
    );
    await run.stderrMatches(/--atomic: walking back to v1\.12\.6 /);
    sb.gates.rollout.release();
    const { report } = await stoppedWithRollback(run);
    expect(report.rollback).toMatchObject({ from: 'v1.13.4', to: 'v1.12.6', outcome: 'returned', steps: [{ action: 'restore', result: 'succeeded' }] });
    expect(await liveAwsNode(sb)).toEqual({ ...before, ready: true });
    expect(sb.addon()).toBeNull();
  });

  it('a walk back that cannot finish stops, keeps the journal and says so', async () => {
    const sb = await start('default', { updateNeverFinishes: true });
    const dir = tmp();
    const result = await onSandboxInProcess(sb, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--atomic', '--yes', '--timeout', '1s', '--backup-dir', dir, '--output', 'json']);
    expect(result.exitCode, result.stderr).toBe(4);
    expect(parseJson<{ rollback: Rollback }>(result).rollback).toMatchObject({ outcome: 'failed', steps: [] });
    const line = errorLine(result);
    expect(line).toMatch(/--atomic could not walk back to v1\.12\.6-eksbuild\.2: the add-on was still UPDATING .*; the journal is kept/);
    expect(line).toMatch(/continue: vpccni upgrade --resume .*; go back: vpccni restore \S+\.yaml/);
    const journal = readdirSync(dir).find((f) => f.startsWith('upgrade-journal-'));
    expect(journal && existsSync(join(dir, journal))).toBeTruthy();
    const kept = JSON.parse(readFileSync(join(dir, journal!), 'utf8')) as { finished: boolean; atomic: boolean; rollback: { outcome: string } };
    expect(kept).toMatchObject({ finished: false, atomic: true, rollback: { outcome: 'failed' } });
  });

  it('the journal keeps --atomic: a resume without the flag still walks back when its step fails', async () => {
    // Step 1's update is held in flight past --timeout; the walk back cannot send anything over it, so it fails
    // and keeps the journal (with atomic).
    const sb = await start('default', {}, ['eks-change']);
    const dir = tmp();
    const first = await onSandboxInProcess(sb, ['upgrade', '--to', 'v1.14.0-eksbuild.3', '--atomic', '--yes', '--timeout', '1s', '--backup-dir', dir]);
    expect(first.exitCode, first.stderr).toBe(4);
    expect(errorLine(first)).toMatch(/could not walk back .*still UPDATING.*continue: vpccni upgrade --resume /);
    // Step 1 finishes; step 2 (the sandbox's change 2) will fail.
    sb.scenario.sandbox.faults!.failUpdateNumber = 2;
    sb.gates.eksChange.release();
    await sb.gates.eksChange.until((g) => g.passed >= 1);
    const second = await onSandboxInProcess(sb, ['upgrade', '--resume', '--yes', '--backup-dir', dir, '--output', 'json']);
    expect(second.exitCode, second.stderr).toBe(4);
    expect(parseJson<{ rollback: Rollback }>(second).rollback).toMatchObject({ from: 'v1.13.4-eksbuild.1', to: 'v1.12.6-eksbuild.2', outcome: 'returned' });
    expect(await liveAwsNode(sb)).toMatchObject({ tag: 'v1.12.6-eksbuild.2', ready: true });
    expect(await addon(sb)).toMatchObject({ addonVersion: 'v1.12.6-eksbuild.2', status: 'ACTIVE' });
  });

  it('a resume that finds the rollout of the stopped run stuck walks back under the journal\'s --atomic', async () => {
    // The first run's update is held past --timeout and its walk back cannot send anything: the journal stays open.
    const sb = await start('default', {}, ['eks-change']);
    const dir = tmp();
    const first = await onSandboxInProcess(sb, ['upgrade', '--to', 'v1.14.0-eksbuild.3', '--atomic', '--yes', '--timeout', '1s', '--backup-dir', dir]);
    expect(first.exitCode, first.stderr).toBe(4);
    // The update finishes, but its rollout stays held: the resume finds it stuck and sends nothing over it.
    sb.gates.rollout.hold();
    sb.gates.eksChange.release();
    await sb.gates.eksChange.until((g) => g.passed >= 1);
    const run = startInProcess(['upgrade', '--resume', '--yes', '--timeout', '3s', '--backup-dir', dir, '--output', 'json'], (a) => onSandboxInProcess(sb, a));
    await run.stderrMatches(/is stuck .*--atomic: walking back to v1\.12\.6-eksbuild\.2/);
    sb.gates.rollout.release();
    const { result, report } = await stoppedWithRollback(run);
    expect(report.rollback).toMatchObject({ from: 'v1.13.4-eksbuild.1', to: 'v1.12.6-eksbuild.2', outcome: 'returned' });
    expect(errorLine(result)).toMatch(/UpdateAddon v1\.13\.4-eksbuild\.1 → v1\.14\.0-eksbuild\.3 was not sent.*returned to v1\.12\.6-eksbuild\.2/);
    expect(await liveAwsNode(sb)).toMatchObject({ tag: 'v1.12.6-eksbuild.2', ready: true });
    expect(sb.log.entries.filter((e) => e.operation === 'UpdateAddon' && e.status < 300)).toHaveLength(2);
  });
});
