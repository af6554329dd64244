/**
 * A resume after a step that EKS failed (CREATE_FAILED, UPDATE_FAILED) compares against the baseline of the
 * first run, says what failed and what it will do, and retries: a failed create's record is deleted with
 * `preserve` (aws-node stays as it runs) and the add-on created again; a failed update is sent again.
 * The CLI runs in-process against an in-process sandbox; the failure is the sandbox's `failUpdateNumber` fault
 * (an admission webhook that refuses the change, nothing applied).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario, startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import type { ScenarioFaults } from '../src/sandbox/scenario-types.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';

useInProcessCli();

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(name: string, faults: ScenarioFaults): Promise<RunningSandbox> {
  const base = loadScenario(name);
  const sb = await startSandbox({ ...base, sandbox: { ...base.sandbox, updateDurationMs: 20, rolloutDurationMs: 20 } }, { faults });
  running.push(sb);
  return sb;
}

const env = (sb: RunningSandbox, container: string) => {
  const ds = sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as unknown as {
    spec: { template: { spec: { containers: Array<{ name: string; image: string; env?: Array<{ name: string; value?: string }> }> } } };
  };
  const c = ds.spec.template.spec.containers.find((x) => x.name === container)!;
  return { image: c.image, env: Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value])) };
};

describe('upgrade --resume after a step EKS failed', () => {
  it('after CREATE_FAILED: deletes the failed record with preserve, creates again with the first run\'s settings, reaches the target', async () => {
    const sb = await start('self-managed-custom-networking', { failUpdateNumber: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-resume-failed-'));
    // OVERWRITE: the upstream manifest's fields belong to kubectl's apply, so a NONE create would conflict.
    const first = await onSandboxInProcess(sb, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--resolve-conflicts', 'OVERWRITE', '--yes', '--backup-dir', dir]);
    expect(first.exitCode, first.stderr).toBe(4);
    expect(sb.addon()?.status).toBe('CREATE_FAILED');
    // The stop names the exact commands that continue and that go back.
    expect(first.stderr).toMatch(/continue: vpccni upgrade --resume[^\n]*--backup-dir \S+/);
    expect(first.stderr).toMatch(/go back: vpccni restore \S+\.yaml/);

    delete sb.scenario.sandbox.faults!.failUpdateNumber;
    const second = await onSandboxInProcess(sb, ['upgrade', '--resume', '--yes', '--backup-dir', dir]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/would be lost/);
    // It said what failed and what it does about it.
    expect(second.stderr).toMatch(/CreateAddon[^\n]*failed[^\n]*AdmissionRequestDenied/);
    expect(second.stderr).toMatch(/DeleteAddon[^\n]*--preserve/);
    expect(sb.addon()).toMatchObject({ addonVersion: 'v1.13.4-eksbuild.1', status: 'ACTIVE' });
    // The custom settings of the self-managed install were carried as the first run planned.
    expect(JSON.parse(sb.addon()!.configurationValues!)).toEqual({
      env: { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone', WARM_IP_TARGET: '10' },
    });
    const node = env(sb, 'aws-node');
    expect(node.image).toMatch(/:v1\.13\.4-eksbuild\.1$/);
    expect(node.env).toMatchObject({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true', WARM_IP_TARGET: '10' });
    const ops = sb.log.entries.filter((e) => e.mutating && e.status < 300).map((e) => e.operation);
    expect(ops).toEqual(['CreateAddon', 'DeleteAddon', 'CreateAddon']);
    expect(sb.log.entries.find((e) => e.operation === 'DeleteAddon')?.path).toMatch(/preserve=true/);
  });

  it('after UPDATE_FAILED: says what failed, updates again, reaches the target', async () => {
    const sb = await start('default', { failUpdateNumber: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-resume-failed-'));
    const first = await onSandboxInProcess(sb, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--backup-dir', dir]);
    expect(first.exitCode, first.stderr).toBe(4);
    expect(sb.addon()?.status).toBe('UPDATE_FAILED');
    delete sb.scenario.sandbox.faults!.failUpdateNumber;
    const second = await onSandboxInProcess(sb, ['upgrade', '--resume', '--yes', '--backup-dir', dir]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/UpdateAddon[^\n]*failed[^\n]*AdmissionRequestDenied[^\n]*sends it again/);
    expect(sb.addon()).toMatchObject({ addonVersion: 'v1.13.4-eksbuild.1', status: 'ACTIVE' });
  });
});
