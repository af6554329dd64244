/**
 * EKS-aware waiting (issue 10): a Failed update that EKS applied anyway leaves the add-on DEGRADED, and a
 * DEGRADED add-on often recovers; vpccni gives it a grace (--grace) with what EKS reports shown, before it
 * calls the state final. And a resume never sends the next step over a rollout the stopped run left stuck.
 * Every state is held by a sandbox gate (eks-change, rollout) and released by the test, never by the clock:
 * a grace the test never reaches (10 minutes) when the recovery is stepped, `--grace 0s` when it is not.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runUpgrade } from '../src/act/upgrade/run.js';
import { UpgradeStoppedError } from '../src/errors.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Scenario } from '../src/sandbox/scenario-types.js';
import { spawnOnSandbox } from './helpers/cli.js';
import { apiRuntimes } from './helpers/api-runtime.js';
import { recordingUi, sandboxesClosedAfterEach, type RecordingUi } from './helpers/in-process-runtime.js';

const sandboxOf = sandboxesClosedAfterEach();
const runtimeFor = apiRuntimes();
const tmp = (): string => mkdtempSync(join(tmpdir(), 'vpccni-grace-'));
const TEN_MINUTES = 600_000;

/** The default cluster whose first change EKS applies but reports Failed, the add-on DEGRADED until the gate lets it recover. */
const failedButApplied = (s: Scenario): void => {
  s.sandbox = { ...s.sandbox, faults: { ...s.sandbox?.faults, failedButApplied: { changeNumber: 1 }, degradedRecovers: true } };
};

const imageOf = (sandbox: RunningSandbox): string =>
  ((sandbox.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }).spec.template.spec
    .containers[0]!.image);

/** Resolves once the run has said that it waits in the grace (what EKS reports shown). */
const graceAnnounced = (ui: RecordingUi): Promise<void> =>
  vi.waitFor(() => expect(ui.stderr.join('\n')).toMatch(/giving it up to .* to recover \(--grace\)/), { timeout: 60_000, interval: 20 });

describe('a Failed update that EKS applied, the add-on DEGRADED', () => {
  it('recovers within the grace: exit 0, with what EKS reported shown while waiting', async () => {
    const sandbox = await sandboxOf('default', failedButApplied);
    sandbox.gates.eksChange.hold();
    const ui = recordingUi();
    const run = runUpgrade(runtimeFor(sandbox, ui), { to: 'v1.13.4-eksbuild.1', values: null, timeoutMs: 60_000, graceMs: TEN_MINUTES, backupDir: tmp(), yes: true });
    await sandbox.gates.eksChange.waitForPending(1);
    sandbox.gates.eksChange.step(); // the update ends Failed, the add-on DEGRADED at v1.13.4
    await graceAnnounced(ui);
    expect(sandbox.gates.eksChange.state().pending).toEqual(['Recover vpc-cni from DEGRADED']);
    sandbox.gates.eksChange.step(); // EKS's health check now passes
    await expect(run).resolves.toBe(0);
    const said = ui.stderr.join('\n');
    expect(said).toMatch(/EKS reports update \S+ Failed \(InsufficientNumberOfReplicas: The add-on is unhealthy[^)]*\); add-on DEGRADED at v1\.13\.4-eksbuild\.1 \(InsufficientNumberOfReplicas/);
    expect(said).toMatch(/recovered within the grace/);
    expect(ui.stdout.join('\n')).toMatch(/Upgraded vpc-cni on demo: v1\.12\.6-eksbuild\.2 → v1\.13\.4-eksbuild\.1/);
    expect(sandbox.addon()).toMatchObject({ status: 'ACTIVE', addonVersion: 'v1.13.4-eksbuild.1' });
    expect(imageOf(sandbox)).toMatch(/:v1\.13\.4-eksbuild\.1$/);
  });

  it('does not recover within --grace 0s: exit 4 naming EKS report; a resume waits its grace and finishes once it recovers', async () => {
    const sandbox = await sandboxOf('default', failedButApplied);
    sandbox.gates.eksChange.hold();
    const backupDir = tmp();
    // The one spawn of the real CLI: the flag, the exit code and the message as a user sees them.
    const cli = spawnOnSandbox(sandbox, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--grace', '0s', '--backup-dir', backupDir]);
    // The CLI ending before its update reaches the gate is a failure to show, not a hang to wait out.
    await Promise.race([
      sandbox.gates.eksChange.waitForPending(1),
      cli.result.then((r) => {
        throw new Error(`vpccni ended (exit ${r.exitCode}) before its update reached the gate:\n${r.stderr}`);
      }),
    ]);
    sandbox.gates.eksChange.step();
    const first = await cli.result;
    expect(first.exitCode, first.stderr).toBe(4);
    expect(first.stderr).toMatch(/stopped at step 1 of 1 \(v1\.12\.6-eksbuild\.2 → v1\.13\.4-eksbuild\.1, UpdateAddon\): EKS still reported update \S+ Failed \(InsufficientNumberOfReplicas: [^)]*\); add-on DEGRADED at v1\.13\.4-eksbuild\.1 \(InsufficientNumberOfReplicas[^)]*\) when the grace ran out/);
    expect(first.stderr).toMatch(/vpccni upgrade --resume/);
    expect(sandbox.addon()).toMatchObject({ status: 'DEGRADED' });

    // The resume honours the grace: it waits for the DEGRADED add-on, showing EKS's report, and sends nothing.
    const ui = recordingUi();
    const resumed = runUpgrade(runtimeFor(sandbox, ui), { resume: true, values: null, timeoutMs: 60_000, graceMs: TEN_MINUTES, backupDir });
    await graceAnnounced(ui);
    expect(ui.stderr.join('\n')).toMatch(/EKS reports add-on DEGRADED at v1\.13\.4-eksbuild\.1 \(InsufficientNumberOfReplicas/);
    sandbox.gates.eksChange.step();
    await expect(resumed).resolves.toBe(0);
    expect(ui.stdout.join('\n')).toMatch(/Upgraded vpc-cni on demo: v1\.12\.6-eksbuild\.2 → v1\.13\.4-eksbuild\.1/);
    expect(sandbox.log.mutating().map((e) => e.operation)).toEqual(['UpdateAddon']);
  });

  it('a resume that finds the add-on still DEGRADED after its grace stops with exit 4, naming the report', async () => {
    const sandbox = await sandboxOf('default', failedButApplied);
    sandbox.gates.eksChange.hold();
    const backupDir = tmp();
    const first = runUpgrade(runtimeFor(sandbox), { to: 'v1.14.0-eksbuild.3', values: null, timeoutMs: 60_000, graceMs: 0, backupDir, yes: true }).catch((e: unknown) => e);
    await sandbox.gates.eksChange.waitForPending(1);
    sandbox.gates.eksChange.step();
    expect(await first).toBeInstanceOf(UpgradeStoppedError);
    const again = await runUpgrade(runtimeFor(sandbox), { resume: true, values: null, timeoutMs: 60_000, graceMs: 0, backupDir }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(UpgradeStoppedError);
    expect((again as Error).message).toMatch(/EKS still reports add-on DEGRADED at v1\.13\.4-eksbuild\.1 \(InsufficientNumberOfReplicas[^)]*\) after the 0s grace/);
    // Nothing more was sent: the second step waits for the first to be healthy.
    expect(sandbox.log.mutating().map((e) => e.operation)).toEqual(['UpdateAddon']);
  });
});

describe('a resume and a stuck rollout', () => {
  it('stops (exit 4) naming the rollout, pods updated and available out of desired, and sends no next step until it finishes', async () => {
    const sandbox = await sandboxOf('default');
    sandbox.gates.rollout.hold();
    const backupDir = tmp();
    // Step 1's rollout is held in the gate; its wait ends as a timeout would (the gate, not the clock, decides
    // that the rollout never finishes): the walk stops there, EKS ACTIVE at v1.13.4, the pods not updated.
    const runtime = runtimeFor(sandbox);
    runtime.kube.rolloutStatus = async () => {
      await sandbox.gates.rollout.waitForPending(1);
      return false;
    };
    const first = await runUpgrade(runtime, { to: 'v1.14.0-eksbuild.3', values: null, timeoutMs: 60_000, backupDir, yes: true }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UpgradeStoppedError);
    expect((first as Error).message).toMatch(/step 1 of 2.*had not rolled out/);
    expect(sandbox.addon()).toMatchObject({ status: 'ACTIVE', addonVersion: 'v1.13.4-eksbuild.1' });

    const stuck = await runUpgrade(runtimeFor(sandbox), { resume: true, values: null, timeoutMs: 1000, backupDir }).catch((e: unknown) => e);
    expect(stuck).toBeInstanceOf(UpgradeStoppedError);
    expect((stuck as Error).message).toMatch(
      /The aws-node rollout of v1\.13\.4-eksbuild\.1 is stuck \(0\/(\d+) pods updated, \d+\/\1 available\) after the 1s timeout; not ready: aws-node-\S+ on [^;]+; UpdateAddon v1\.13\.4-eksbuild\.1 → v1\.14\.0-eksbuild\.3 was not sent/,
    );
    expect(sandbox.log.mutating().map((e) => e.operation)).toEqual(['UpdateAddon']);

    sandbox.gates.rollout.release();
    const ui = recordingUi();
    await expect(runUpgrade(runtimeFor(sandbox, ui), { resume: true, values: null, timeoutMs: 60_000, backupDir })).resolves.toBe(0);
    expect(sandbox.log.mutating().map((e) => e.operation)).toEqual(['UpdateAddon', 'UpdateAddon']);
    expect(sandbox.addon()).toMatchObject({ status: 'ACTIVE', addonVersion: 'v1.14.0-eksbuild.3' });
    expect(imageOf(sandbox)).toMatch(/:v1\.14\.0-eksbuild\.3$/);
  });
});
