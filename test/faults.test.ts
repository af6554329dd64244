/**
 * Faults end to end: the CLI (the real AWS SDK over HTTP, the Kubernetes API client) against an in-process
 * sandbox whose faults are switched on and off while it runs, so that the request log can prove what was and
 * was not called. The CLI runs in-process (main(argv), helpers/in-process.ts); one fault, a failed step with
 * exit 4 and its --resume, spawns the built CLI so that the real binary stays proven end to end.
 * Read-only commands ride out throttling, 5xx and a short Kubernetes outage; an upgrade that meets a failed
 * step, a timeout, a stuck rollout or a vanished Kubernetes API stops with exit 4, keeps its backup, says
 * what the cluster runs, and `--resume` finishes the walk once the fault is gone.
 * Nothing here is ordered by the wall clock: a change in flight, a rollout that has not finished and an
 * outage are states the test holds with the sandbox's gates (src/sandbox/gates.ts) and releases.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { EksApiError } from '../src/sandbox/addon-controller.js';
import { loadScenario, startSandbox, type GateName, type RunningSandbox } from '../src/sandbox/index.js';
import type { ScenarioFaults } from '../src/sandbox/scenario-types.js';
import { onSandbox, parseJson, type CliResult } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { startInProcess } from './helpers/in-process-watch.js';

useInProcessCli();

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(faults: ScenarioFaults = {}, hold: GateName[] = []): Promise<RunningSandbox> {
  const base = loadScenario('default');
  // Short interactive timings for whatever no gate holds; no assertion depends on them.
  const sb = await startSandbox({ ...base, sandbox: { ...base.sandbox, updateDurationMs: 50, rolloutDurationMs: 50 } }, { faults, hold });
  running.push(sb);
  return sb;
}

/** Runs the CLI (in-process) against the in-process sandbox the way a user's shell would against AWS. */
function cli(sb: RunningSandbox, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return onSandboxInProcess(sb, args, { env });
}

/** Starts an in-process run that the test can act on once its stderr says something. */
const startRun = (sb: RunningSandbox, args: string[]) => startInProcess(args, (a) => onSandboxInProcess(sb, a));

const ops = (sb: RunningSandbox, operation: string) => sb.log.entries.filter((e) => e.operation === operation);
const succeeded = (sb: RunningSandbox, operation: string) => ops(sb, operation).filter((e) => e.status < 300);

/** The one-sentence error: one line on stderr after the progress lines, no stack frames. */
function errorLine(result: CliResult): string {
  expect(result.stderr).not.toMatch(/^\s+at /m);
  const lines = result.stderr.trim().split('\n').filter((l) => l.startsWith('vpccni: '));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

function backupFile(stderr: string): string {
  const match = /Backup: (\S+\.yaml)/.exec(stderr);
  expect(match, stderr).not.toBeNull();
  return match![1]!.replace(/\.$/, '');
}

/** The backup is still there and still holds the DaemonSet as it ran before the upgrade. */
function expectBackupIntact(path: string): void {
  expect(existsSync(path)).toBe(true);
  const doc = parseYaml(readFileSync(path, 'utf8')) as {
    kind: string;
    cluster: { name: string };
    daemonSet: { spec: { template: { spec: { containers: Array<{ name: string; image: string }> } } } };
  };
  expect(doc.kind).toBe('VpccniBackup');
  expect(doc.cluster.name).toBe('demo');
  const node = doc.daemonSet.spec.template.spec.containers.find((c) => c.name === 'aws-node');
  expect(node?.image).toMatch(/amazon-k8s-cni:v1\.12\.6-eksbuild\.2$/);
}

const runningImage = (sb: RunningSandbox): string => {
  const ds = sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as unknown as {
    spec: { template: { spec: { containers: Array<{ name: string; image: string }> } } };
  };
  return ds.spec.template.spec.containers.find((c) => c.name === 'aws-node')!.image;
};

describe('read-only commands through flaky AWS APIs', () => {
  // The injector is deterministic (every 1/rate-th call): a third makes sure the few calls of one status
  // (three to EKS, three to IAM) meet at least one fault each, and never twice in a row.
  it('status succeeds while EKS and IAM throttle a third of the calls', async () => {
    const sb = await start({ throttleRate: 0.34 });
    const result = await cli(sb, ['status', '--output', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJson<{ addon: { version: string } }>(result).addon.version).toBe('v1.12.6-eksbuild.2');
    // The SDK's standard retries did the work: some calls were throttled, every operation then succeeded.
    expect(sb.log.entries.filter((e) => e.status === 429 || e.status === 400).length).toBeGreaterThan(0);
    for (const op of ['DescribeCluster', 'DescribeAddon', 'DescribeAddonVersions']) expect(succeeded(sb, op).length).toBeGreaterThan(0);
    expect(sb.log.mutating()).toEqual([]);
  });

  it('check succeeds while EKS and IAM answer a third of the calls with 500/503', async () => {
    const sb = await start({ serverErrorRate: 0.34 });
    const result = await cli(sb, ['check', '--kubernetes-version', '1.27', '--output', 'json']);
    expect([0, 1], result.stderr).toContain(result.exitCode);
    expect(parseJson<{ kubernetesVersion: string }>(result).kubernetesVersion).toBe('1.27');
    expect(sb.log.entries.filter((e) => e.status >= 500).length).toBeGreaterThan(0);
    expect(result.stderr).not.toMatch(/unexpected error|could not/i);
    expect(sb.log.mutating()).toEqual([]);
  });

  it('status gives up with exit 3 and one sentence when EKS fails every call', async () => {
    const sb = await start({ serverErrorRate: 1 });
    const result = await cli(sb, ['status'], { AWS_MAX_ATTEMPTS: '2' });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('');
    expect(errorLine(result)).toMatch(/DescribeCluster|describe cluster|EKS/i);
  });

  it('status survives a Kubernetes API that refuses connections for a short while', async () => {
    // The API is down before the CLI starts (the kube-outage gate is held, so it lasts until this test lifts
    // it), and comes back once the CLI says (--verbose) that a read failed to connect and will be retried.
    // Starting it after the first request would race the CLI's other reads.
    const sb = await start({}, ['kube-outage']);
    sb.startKubeOutage();
    const outageAt = sb.log.entries.length;
    const child = startRun(sb, ['status', '--output', 'json', '--verbose']);
    let retried = false;
    void child.stderrMatches(/could not connect \(attempt 1 of \d+\); retrying/).then(() => {
      retried = true;
      sb.gates.kubeOutage.release();
    }, () => undefined);
    const result = await child.result;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(retried).toBe(true);
    expect(parseJson<{ daemonSet: { version: string } }>(result).daemonSet.version).toBe('v1.12.6-eksbuild.2');
    // The Kubernetes API was answered again after the outage ended: the reads were retried, not given up.
    expect(sb.gates.kubeOutage.state().passed).toBe(1);
    const kubeAfter = sb.log.entries.slice(outageAt).filter((e) => e.service === 'kube');
    expect(kubeAfter.length).toBeGreaterThan(0);
  });
});

describe('an upgrade that meets a fault stops with exit 4 and resumes once it is gone', () => {
  const upgrade = (sb: RunningSandbox, dir: string, ...extra: string[]) =>
    cli(sb, ['upgrade', '--to', 'v1.14.0-eksbuild.3', '--yes', '--backup-dir', dir, ...extra]);
  const resume = (sb: RunningSandbox, dir: string, ...extra: string[]) =>
    cli(sb, ['upgrade', '--resume', '--yes', '--backup-dir', dir, ...extra]);
  const tmp = () => mkdtempSync(join(tmpdir(), 'vpccni-faults-'));

  it('a step that EKS fails: exit 4, backup intact, real state reported, resume finishes (the built CLI)', async () => {
    const sb = await start({ failUpdateNumber: 1 });
    const dir = tmp();
    const first = await onSandbox(sb, ['upgrade', '--to', 'v1.14.0-eksbuild.3', '--yes', '--backup-dir', dir]);
    expect(first.exitCode, first.stderr).toBe(4);
    expect(first.stdout).toBe('');
    const line = errorLine(first);
    expect(line).toMatch(/step 1 of 2/);
    expect(line).toMatch(/AdmissionRequestDenied/);
    expect(line).toMatch(/EKS add-on v1\.12\.6-eksbuild\.2 UPDATE_FAILED/);
    expect(line).toMatch(/aws-node runs v1\.12\.6-eksbuild\.2/);
    expect(line).toMatch(/--resume/);
    expectBackupIntact(backupFile(first.stderr));
    expect(runningImage(sb)).toMatch(/:v1\.12\.6-eksbuild\.2$/);

    delete sb.scenario.sandbox.faults!.failUpdateNumber;
    const second = await onSandbox(sb, ['upgrade', '--resume', '--yes', '--backup-dir', dir]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/v1\.13\.4-eksbuild\.1 → v1\.14\.0-eksbuild\.3/);
    expect(sb.addon()).toMatchObject({ addonVersion: 'v1.14.0-eksbuild.3', status: 'ACTIVE' });
    expect(runningImage(sb)).toMatch(/:v1\.14\.0-eksbuild\.3$/);
    // One failed UpdateAddon, then one per step: nothing called twice for the same step after success.
    expect(succeeded(sb, 'UpdateAddon')).toHaveLength(3);
  });

  it('an update slower than --timeout: exit 4, and resume waits for the change in flight instead of calling again', async () => {
    // The eks-change gate holds step 1's update InProgress: past the first run's timeout, and into the resume.
    const sb = await start({}, ['eks-change']);
    const dir = tmp();
    const first = await upgrade(sb, dir, '--timeout', '1s');
    expect(first.exitCode, first.stderr).toBe(4);
    const line = errorLine(first);
    expect(line).toMatch(/still InProgress when the timeout ran out/);
    expect(line).toMatch(/EKS add-on v1\.12\.6-eksbuild\.2 UPDATING/);
    expectBackupIntact(backupFile(first.stderr));
    expect(succeeded(sb, 'UpdateAddon')).toHaveLength(1);
    expect(sb.gates.eksChange.state().pending).toHaveLength(1);

    // The resume starts while the change is still in flight; once it is polling that update, let it finish.
    const resumed = startRun(sb, ['upgrade', '--resume', '--yes', '--backup-dir', dir, '--timeout', '60s']);
    await resumed.stderrMatches(/waiting for the change already in flight/);
    expect(sb.addon()?.status).toBe('UPDATING');
    sb.gates.eksChange.release();
    const second = await resumed.result;
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/waiting for the change already in flight/);
    expect(sb.addon()?.addonVersion).toBe('v1.14.0-eksbuild.3');
    // Step 1's UpdateAddon was not sent again: two in all, one per step.
    expect(succeeded(sb, 'UpdateAddon')).toHaveLength(2);
  });

  it('an update that never finishes: exit 4, and resume does not call UpdateAddon while it is in flight', async () => {
    const sb = await start({ updateNeverFinishes: true });
    const dir = tmp();
    const first = await upgrade(sb, dir, '--timeout', '1s');
    expect(first.exitCode, first.stderr).toBe(4);
    expect(errorLine(first)).toMatch(/UPDATING/);
    expectBackupIntact(backupFile(first.stderr));
    // The sandbox cannot finish an update it was told never to finish; lifting the fault helps only new ones.
    sb.scenario.sandbox.faults!.updateNeverFinishes = false;
    const second = await resume(sb, dir, '--timeout', '1s');
    expect(second.exitCode).toBe(4);
    expect(errorLine(second)).toMatch(/still UPDATING/);
    expect(ops(sb, 'UpdateAddon')).toHaveLength(1);
  });

  it('a rollout that never finishes: exit 4 with the step named, resume finishes once it completes', async () => {
    // Step 1's change finishes as soon as EKS takes it; its rollout waits in the held rollout gate.
    const sb = await start({}, ['eks-change', 'rollout']);
    void sb.gates.eksChange.waitForPending(1).then(() => sb.gates.eksChange.release());
    const dir = tmp();
    const first = await upgrade(sb, dir, '--timeout', '2s');
    expect(first.exitCode, first.stderr).toBe(4);
    const line = errorLine(first);
    expect(line).toMatch(/not rolled out/);
    expect(line).toMatch(/EKS add-on v1\.13\.4-eksbuild\.1 ACTIVE/);
    expectBackupIntact(backupFile(first.stderr));

    expect(sb.gates.rollout.state().pending).toHaveLength(1);
    sb.gates.rollout.release();
    const second = await resume(sb, dir);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(runningImage(sb)).toMatch(/:v1\.14\.0-eksbuild\.3$/);
    expect(succeeded(sb, 'UpdateAddon')).toHaveLength(2);
  });

  it('a Kubernetes API that vanishes mid-step: exit 4, then resume finishes once it is back', async () => {
    // The outage begins after step 1's UpdateAddon and lasts (gate held) until this test lifts it.
    const sb = await start({ kubeOutage: { afterMutatingCall: 1, durationMs: 60_000 } }, ['kube-outage']);
    const dir = tmp();
    const first = await upgrade(sb, dir, '--timeout', '20s');
    expect(first.exitCode, first.stderr).toBe(4);
    const line = errorLine(first);
    expect(line).toMatch(/Kubernetes API server could not be reached|aws-node unreadable/);
    expect(line).toMatch(/EKS add-on v1\.13\.4-eksbuild\.1/);
    expectBackupIntact(backupFile(first.stderr));

    expect(sb.gates.kubeOutage.state().pending).toHaveLength(1);
    sb.gates.kubeOutage.release();
    const second = await resume(sb, dir);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(sb.addon()?.addonVersion).toBe('v1.14.0-eksbuild.3');
    expect(succeeded(sb, 'UpdateAddon')).toHaveLength(2);
  });
});

describe('an UpdateAddon whose answer is lost after EKS applied it', () => {
  /**
   * The FaultInjector answers its 500s before EKS does anything, so the "applied, then 500" case is made
   * here by wrapping the controller: the first call applies and then fails; later calls fail unapplied.
   */
  function loseAnswers(sb: RunningSandbox, options: { honourToken: boolean }) {
    const tokens: Array<string | undefined> = [];
    const applied = new Map<string, ReturnType<RunningSandbox['controller']['updateAddon']>>();
    const original = sb.controller.updateAddon.bind(sb.controller);
    let calls = 0;
    sb.controller.updateAddon = (input) => {
      const token = (input as { clientRequestToken?: string }).clientRequestToken;
      tokens.push(token);
      calls++;
      // Real EKS answers a repeated clientRequestToken with the same update; the sandbox does not.
      if (options.honourToken && token && applied.has(token)) return applied.get(token)!;
      if (calls === 1) {
        const update = original(input);
        if (token) applied.set(token, update);
        throw new EksApiError(500, 'ServerException', 'An internal error occurred after the change was applied.');
      }
      if (!options.honourToken) throw new EksApiError(500, 'ServerException', 'An internal error occurred.');
      return original(input);
    };
    return { tokens, calls: () => calls, restore: () => (sb.controller.updateAddon = original) };
  }

  it('the SDK repeats it only with the same idempotency token, and the walk finishes', async () => {
    const sb = await start();
    const lost = loseAnswers(sb, { honourToken: true });
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-faults-'));
    const result = await cli(sb, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--backup-dir', dir]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(lost.tokens.length).toBe(2);
    expect(lost.tokens[0]).toBeTruthy();
    expect(new Set(lost.tokens).size).toBe(1);
    expect(sb.addon()?.addonVersion).toBe('v1.13.4-eksbuild.1');
  });

  it('when every attempt fails, the walk reads the add-on instead of calling again, and waits for the change', async () => {
    const sb = await start();
    const lost = loseAnswers(sb, { honourToken: false });
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-faults-'));
    const result = await cli(sb, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--backup-dir', dir], { AWS_MAX_ATTEMPTS: '2' });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/answer was lost .* EKS has taken the change/);
    // The SDK's own attempts (same token), then no further UpdateAddon from vpccni.
    expect(lost.calls()).toBe(2);
    expect(new Set(lost.tokens).size).toBe(1);
    // After the lost answer vpccni read the add-on before anything else.
    const afterLost = sb.log.entries.slice(sb.log.entries.findLastIndex((e) => e.operation === 'UpdateAddon') + 1);
    expect(afterLost[0]?.operation).toBe('DescribeAddon');
    expect(sb.addon()?.addonVersion).toBe('v1.13.4-eksbuild.1');
  });
});
