/**
 * `upgrade` end to end: the CLI, the real SDK and the Kubernetes API client, and an in-process sandbox whose
 * request log proves what was (and was not) called. The CLI runs in-process (main(argv),
 * helpers/in-process.ts); the resume of a walk that timed out and Ctrl-C spawn the built CLI, so that the real
 * binary (and its signal handling) stays proven end to end.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readBackup } from '../src/act/backup.js';
import type { KubeObject } from '../src/decide/manifests.js';
import { loadScenario, startSandbox, type GateName, type RunningSandbox } from '../src/sandbox/index.js';
import type { Scenario, ScenarioFaults } from '../src/sandbox/scenario-types.js';
import { parseJson, spawnOnSandbox, type CliResult } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli, vpccniInProcess } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';

interface Step {
  from: string;
  to: string;
  action: 'create' | 'update';
  resolveConflicts: string;
  result: string;
  updateId?: string;
  error?: string;
}
interface Report {
  schemaVersion: 1;
  from: string;
  to: string;
  backup: string | null;
  dryRun: boolean;
  steps: Step[];
  resetByOverwrite?: Array<{ field: string; current: string; after: string | null }>;
}
type Env = { name: string; value?: string; valueFrom?: unknown };
type Container = { name: string; image: string; env?: Env[] };

useInProcessCli();

const open: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A built-in scenario with fast updates and rollouts, changed by `edit`. */
function scenario(name: string, edit: (s: Scenario) => void = () => {}): Scenario {
  const s = loadScenario(name);
  s.sandbox = { ...s.sandbox, updateDurationMs: 100, rolloutDurationMs: 100 };
  edit(s);
  return s;
}

async function sandboxFor(s: Scenario, faults?: ScenarioFaults, hold: GateName[] = []): Promise<RunningSandbox> {
  const sandbox = await startSandbox(s, { ...(faults ? { faults } : {}), hold });
  open.push(sandbox);
  return sandbox;
}

/** Runs `vpccni upgrade …args` (in-process) against the sandbox with backups (and the journal) in `backupDir`. */
function upgrade(sandbox: RunningSandbox, backupDir: string, args: string[]): Promise<CliResult> {
  return onSandboxInProcess(sandbox, ['upgrade', '--backup-dir', backupDir, ...args]);
}

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'vpccni-upgrade-'));

function daemonSet(sandbox: RunningSandbox): KubeObject {
  const ds = sandbox.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system');
  if (!ds) throw new Error('no aws-node DaemonSet in the sandbox');
  return ds as KubeObject;
}

function containers(ds: KubeObject): Container[] {
  const pod = (ds.spec as { template: { spec: { containers: Container[]; initContainers?: Container[] } } }).template.spec;
  return [...pod.containers, ...(pod.initContainers ?? [])];
}

function envOf(ds: KubeObject, container = 'aws-node'): Record<string, string | undefined> {
  const c = containers(ds).find((x) => x.name === container);
  return Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
}

/** The tags of the CNI images (amazon-k8s-cni and amazon-k8s-cni-init); the node agent has its own line. */
function cniTags(ds: KubeObject): string[] {
  return containers(ds)
    .filter((c) => /\/amazon-k8s-cni(-init)?:/.test(c.image))
    .map((c) => c.image.split(':').at(-1) as string);
}

const mutating = (sandbox: RunningSandbox): string[] => sandbox.log.mutating().map((e) => `${e.service} ${e.operation}`);
const calls = (sandbox: RunningSandbox, operation: string): number => sandbox.log.entries.filter((e) => e.operation === operation).length;
const files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

describe('upgrade on the default scenario', () => {
  it('walks v1.12.6 → v1.13.4 → v1.14.0 with one UpdateAddon per step, a backup first, and the new images running', async () => {
    const sandbox = await sandboxFor(scenario('default'));
    const dir = tempDir();
    const result = await upgrade(sandbox, dir, ['--to', 'v1.14.0-eksbuild.3', '--yes', '--output', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseJson<Report>(result);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report).toMatchObject({ from: 'v1.12.6-eksbuild.2', to: 'v1.14.0-eksbuild.3', dryRun: false });
    expect(report.steps.map((s) => [s.action, s.from, s.to, s.resolveConflicts, s.result])).toEqual([
      ['update', 'v1.12.6-eksbuild.2', 'v1.13.4-eksbuild.1', 'PRESERVE', 'succeeded'],
      ['update', 'v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3', 'PRESERVE', 'succeeded'],
    ]);
    expect(report.steps.every((s) => typeof s.updateId === 'string')).toBe(true);

    // The backup is the pre-upgrade DaemonSet, readable by restore.
    expect(report.backup).toBeTruthy();
    const backup = await readBackup(report.backup as string);
    expect(backup.cluster.name).toBe('demo');
    expect(cniTags(backup.daemonSet)).toEqual(expect.arrayContaining(['v1.12.6-eksbuild.2']));
    expect(new Set(cniTags(backup.daemonSet))).toEqual(new Set(['v1.12.6-eksbuild.2']));

    // The cluster now runs the target: EKS says so and the DaemonSet's images carry it.
    expect(sandbox.addon()).toMatchObject({ addonVersion: 'v1.14.0-eksbuild.3', status: 'ACTIVE' });
    const ds = daemonSet(sandbox);
    expect(new Set(cniTags(ds))).toEqual(new Set(['v1.14.0-eksbuild.3']));
    expect(containers(ds).map((c) => c.name)).toContain('aws-eks-nodeagent');
    // Exactly the two updates, nothing written to Kubernetes by vpccni itself.
    expect(mutating(sandbox)).toEqual(['eks UpdateAddon', 'eks UpdateAddon']);
    // The journal is closed, so a later --resume has nothing to do.
    const journal = JSON.parse(readFileSync(join(dir, 'upgrade-journal-demo-us-west-2.json'), 'utf8')) as { finished: boolean };
    expect(journal.finished).toBe(true);
  });
});

describe('adopting a self-managed install', () => {
  it('creates the add-on at the newest 1.13 with OVERWRITE and keeps the custom networking settings', async () => {
    const sandbox = await sandboxFor(scenario('self-managed-custom-networking'));
    const result = await upgrade(sandbox, tempDir(), ['--to', '1.13.4', '--resolve-conflicts', 'OVERWRITE', '--yes', '--output', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseJson<Report>(result);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report.steps).toEqual([
      expect.objectContaining({ action: 'create', from: 'v1.12.6', to: 'v1.13.4-eksbuild.1', resolveConflicts: 'OVERWRITE', result: 'succeeded' }),
    ]);
    expect(mutating(sandbox)).toEqual(['eks CreateAddon']);

    const wanted = {
      AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true',
      ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
      WARM_IP_TARGET: '10',
    };
    const ds = daemonSet(sandbox);
    expect(envOf(ds)).toMatchObject(wanted);
    expect(new Set(cniTags(ds))).toEqual(new Set(['v1.13.4-eksbuild.1']));
    const addon = sandbox.addon();
    expect(addon).toMatchObject({ addonVersion: 'v1.13.4-eksbuild.1', status: 'ACTIVE' });
    expect(JSON.parse(addon?.configurationValues ?? '{}')).toMatchObject({ env: wanted });

    // What OVERWRITE resets is only what really differs: no API-server defaults such as fieldRef.apiVersion.
    const resetFields = (report.resetByOverwrite ?? []).map((r) => r.field);
    expect(resetFields.filter((f) => /MY_NODE_NAME|MY_POD_NAME/.test(f))).toEqual([]);
    expect(result.stderr).not.toMatch(/"apiVersion":"v1"/);
  });
});

/** The default scenario where someone raised WARM_ENI_TARGET on the DaemonSet by hand. */
const driftedDefault = (): Scenario =>
  scenario('default', (s) => {
    s.daemonSet = { ...(s.daemonSet as NonNullable<Scenario['daemonSet']>), env: { 'aws-node': { WARM_ENI_TARGET: '5' } } };
  });

describe('conflicts', () => {
  it('refuses NONE that would conflict with exit 2 before any change, naming the field, its owner and the mode that works', async () => {
    // Issue 19: this run used to send UpdateAddon and stop with exit 4 on EKS's ConfigurationConflict (UPDATE_FAILED).
    const sandbox = await sandboxFor(driftedDefault());
    const dir = tempDir();
    const result = await upgrade(sandbox, dir, ['--to', 'v1.13.4-eksbuild.1', '--resolve-conflicts', 'NONE']);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/--resolve-conflicts NONE would fail: EKS's UpdateAddon to v1\.13\.4-eksbuild\.1 would stop with ConfigurationConflict on 1 field another field manager set: DaemonSet\.apps aws-node - \.spec\.template\.spec\.containers\[name="aws-node"\]\.env\[name="WARM_ENI_TARGET"\]\.value \(owned by [^)]+\)/);
    expect(result.stderr).toContain('--resolve-conflicts PRESERVE` to keep them');
    expect(result.stderr.trim().split('\n').filter((l) => l.startsWith('vpccni:')).length).toBe(1);
    expect(files(dir)).toEqual([]);
    expect(mutating(sandbox)).toEqual([]);
    expect(sandbox.addon()).toMatchObject({ addonVersion: 'v1.12.6-eksbuild.2', status: 'ACTIVE' });
    expect(envOf(daemonSet(sandbox)).WARM_ENI_TARGET).toBe('5');
  });

  it('refuses OVERWRITE without --yes when nobody can be asked, and changes nothing', async () => {
    const sandbox = await sandboxFor(driftedDefault());
    const dir = tempDir();
    const result = await upgrade(sandbox, dir, ['--to', 'v1.14.0-eksbuild.3', '--resolve-conflicts', 'OVERWRITE']);
    expect(result.exitCode, result.stderr).toBe(2);
    // Issue 19: OVERWRITE carries the hand-set WARM_ENI_TARGET into the values (it used to reset it to 1).
    expect(result.stderr).toContain('env.WARM_ENI_TARGET = "5"');
    expect(result.stderr).not.toContain('WARM_ENI_TARGET: 5 → 1');
    expect(result.stderr).toMatch(/OVERWRITE.*needs confirmation.*--yes/);
    expect(result.stdout).toBe('');
    expect(mutating(sandbox)).toEqual([]);
    expect(files(dir)).toEqual([]);
  });
});

describe('a failing step', () => {
  it('stops after the failed middle step with exit 4, and --output json is still one document', async () => {
    const sandbox = await sandboxFor(scenario('default'), { failUpdateNumber: 2 });
    const result = await upgrade(sandbox, tempDir(), ['--to', 'v1.14.0-eksbuild.3', '--output', 'json']);
    expect(result.exitCode, result.stderr).toBe(4);
    const report = parseJson<Report>(result);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report.steps.map((s) => s.result)).toEqual(['succeeded', 'failed']);
    expect(report.steps[1]?.error).toContain('AdmissionRequestDenied');
    expect(result.stderr).toMatch(/step 2 of 2 \(v1\.13\.4-eksbuild\.1 → v1\.14\.0-eksbuild\.3, UpdateAddon\)/);
    expect(result.stderr).toContain('vpccni upgrade --resume');
    // Step 1 is in place; the failed update was not repeated.
    expect(new Set(cniTags(daemonSet(sandbox)))).toEqual(new Set(['v1.13.4-eksbuild.1']));
    expect(mutating(sandbox)).toEqual(['eks UpdateAddon', 'eks UpdateAddon']);
  });
});

describe('--dry-run', () => {
  it('prints the calls in order and makes none of them', async () => {
    const sandbox = await sandboxFor(scenario('default'));
    const dir = tempDir();
    const text = await upgrade(sandbox, dir, ['--to', 'v1.14.0-eksbuild.3', '--dry-run']);
    expect(text.exitCode, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n').slice(1).map((l) => l.trim());
    expect(lines).toEqual([
      `1. kubectl get daemonset aws-node -n kube-system -o yaml (and the ConfigMap, ENIConfigs, DescribeAddon) → a backup in ${dir}`,
      '2. aws eks update-addon --cluster-name demo --addon-name vpc-cni --addon-version v1.13.4-eksbuild.1 --resolve-conflicts PRESERVE',
      '3. aws eks describe-update --name demo --addon-name vpc-cni --update-id <id>, until Successful (or Failed/Cancelled)',
      '4. kubectl rollout status daemonset aws-node -n kube-system, then check its images carry v1.13.4-eksbuild.1',
      '5. aws eks update-addon --cluster-name demo --addon-name vpc-cni --addon-version v1.14.0-eksbuild.3 --resolve-conflicts PRESERVE',
      '6. aws eks describe-update --name demo --addon-name vpc-cni --update-id <id>, until Successful (or Failed/Cancelled)',
      '7. kubectl rollout status daemonset aws-node -n kube-system, then check its images carry v1.14.0-eksbuild.3',
    ]);

    const json = await upgrade(sandbox, dir, ['--to', 'v1.14.0-eksbuild.3', '--dry-run', '--output', 'json']);
    expect(json.exitCode, json.stderr).toBe(0);
    const report = parseJson<Report>(json);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report).toMatchObject({ dryRun: true, backup: null, from: 'v1.12.6-eksbuild.2', to: 'v1.14.0-eksbuild.3' });
    expect(report.steps.map((s) => `${s.action} ${s.to} ${s.result}`)).toEqual([
      'update v1.13.4-eksbuild.1 planned',
      'update v1.14.0-eksbuild.3 planned',
    ]);
    expect(mutating(sandbox)).toEqual([]);
    expect(files(dir)).toEqual([]);
    expect(sandbox.addon()?.addonVersion).toBe('v1.12.6-eksbuild.2');
  });

  it('shows the create-addon of an adoption with the carried values, and makes no call', async () => {
    const sandbox = await sandboxFor(scenario('self-managed-custom-networking'));
    const result = await upgrade(sandbox, tempDir(), ['--to', 'v1.14.0-eksbuild.3', '--resolve-conflicts', 'OVERWRITE', '--dry-run']);
    expect(result.exitCode, result.stderr).toBe(0);
    const ops = result.stdout.split('\n').filter((l) => /aws eks (create|update)-addon/.test(l));
    expect(ops).toHaveLength(2);
    expect(ops[0]).toMatch(/create-addon .*--addon-version v1\.13\.4-eksbuild\.1 --resolve-conflicts OVERWRITE --configuration-values '.*"WARM_IP_TARGET":"10".*'/);
    expect(ops[1]).toMatch(/update-addon .*--addon-version v1\.14\.0-eksbuild\.3 --resolve-conflicts OVERWRITE/);
    expect(mutating(sandbox)).toEqual([]);
  });
});

describe('--resume and Ctrl-C', () => {
  it('finishes a walk that timed out without repeating the step already sent', async () => {
    // The eks-change gate holds step 1's update InProgress past the 1 s timeout.
    const sandbox = await sandboxFor(scenario('default'), undefined, ['eks-change']);
    const dir = tempDir();
    const first = await upgrade(sandbox, dir, ['--to', 'v1.14.0-eksbuild.3', '--timeout', '1s']);
    expect(first.exitCode, first.stderr).toBe(4);
    expect(first.stderr).toMatch(/step 1 of 2/);
    expect(first.stderr).toContain('vpccni upgrade --resume');
    const journalFile = join(dir, 'upgrade-journal-demo-us-west-2.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { finished: boolean; steps: Step[] };
    expect(journal.finished).toBe(false);
    expect(journal.steps[0]?.updateId).toBeTruthy();
    expect(calls(sandbox, 'UpdateAddon')).toBe(1);

    // A new upgrade is refused while the journal is open.
    const again = await upgrade(sandbox, dir, ['--to', 'v1.14.0-eksbuild.3']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('--resume');
    expect(calls(sandbox, 'UpdateAddon')).toBe(1);

    // --resume refuses another target, and takes the journal's one however it is spelled.
    const elsewhere = await upgrade(sandbox, dir, ['--resume', '--to', 'v1.1']);
    expect(elsewhere.exitCode).toBe(2);
    expect(elsewhere.stderr).toContain('The stopped upgrade goes to v1.14.0-eksbuild.3, not v1.1');
    expect(calls(sandbox, 'UpdateAddon')).toBe(1);

    // The first update is still in flight at EKS; the resume (the built CLI) waits for it, then it is let through.
    expect(sandbox.gates.eksChange.state().pending).toHaveLength(1);
    const resuming = spawnOnSandbox(sandbox, ['upgrade', '--backup-dir', dir, '--resume', '--to', '1.14.0', '--output', 'json']);
    await resuming.stderrMatches(/waiting for the change already in flight/);
    sandbox.gates.eksChange.release();
    const resumed = await resuming.result;
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const report = parseJson<Report>(resumed);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report.from).toBe('v1.12.6-eksbuild.2');
    expect(report.steps.map((s) => `${s.to} ${s.result}`)).toEqual([
      'v1.13.4-eksbuild.1 succeeded',
      'v1.14.0-eksbuild.3 succeeded',
    ]);
    // Two UpdateAddon calls in all: the first step's was not repeated.
    expect(mutating(sandbox)).toEqual(['eks UpdateAddon', 'eks UpdateAddon']);
    const updates = [...sandbox.controller.updates.values()].map((u) => u.params.find((p) => p.type === 'AddonVersion')?.value);
    expect(updates).toEqual(['v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3']);
    expect(new Set(cniTags(daemonSet(sandbox)))).toEqual(new Set(['v1.14.0-eksbuild.3']));
    expect((JSON.parse(readFileSync(journalFile, 'utf8')) as { finished: boolean }).finished).toBe(true);
  });

  it('closes a walk whose last step EKS finished after the timeout, checking the rollout, without calling again', async () => {
    const sandbox = await sandboxFor(scenario('default'), undefined, ['eks-change']);
    const dir = tempDir();
    const first = await upgrade(sandbox, dir, ['--to', 'v1.13.4-eksbuild.1', '--timeout', '1s', '--output', 'json']);
    expect(first.exitCode, first.stderr).toBe(4);
    expect(parseJson<Report>(first).steps.map((s) => s.result)).toEqual(['failed']);
    // EKS finishes the change after the timeout, while nothing watches.
    sandbox.gates.eksChange.release();
    expect(sandbox.addon()?.status).toBe('ACTIVE');
    const resumed = await upgrade(sandbox, dir, ['--resume', '--output', 'json']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const report = parseJson<Report>(resumed);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report).toMatchObject({ from: 'v1.12.6-eksbuild.2', to: 'v1.13.4-eksbuild.1', backup: parseJson<Report>(first).backup });
    expect(report.steps.map((s) => `${s.to} ${s.result}`)).toEqual(['v1.13.4-eksbuild.1 succeeded']);
    expect(mutating(sandbox)).toEqual(['eks UpdateAddon']);
    expect(new Set(cniTags(daemonSet(sandbox)))).toEqual(new Set(['v1.13.4-eksbuild.1']));
  });

  it('exits 130 on SIGINT while waiting, saying which step and how to resume', async () => {
    // Step 1's update stays InProgress (gate held) while the CLI (the built one: a signal is the point) waits on it.
    const sandbox = await sandboxFor(scenario('default'), undefined, ['eks-change']);
    const dir = tempDir();
    const child = spawnOnSandbox(sandbox, ['upgrade', '--backup-dir', dir, '--to', 'v1.14.0-eksbuild.3']);
    await vi.waitFor(() => expect(calls(sandbox, 'DescribeUpdate')).toBeGreaterThan(0), { timeout: 60_000, interval: 10 });
    expect(calls(sandbox, 'UpdateAddon')).toBe(1);
    child.kill('SIGINT');
    const result = await child.result;
    expect(result.exitCode, result.stderr).toBe(130);
    const stderr = result.stderr;
    expect(stderr).toMatch(/Interrupted while waiting on step 1 of 2 \(v1\.12\.6-eksbuild\.2 → v1\.13\.4-eksbuild\.1, UpdateAddon\)/);
    expect(stderr).toContain('vpccni upgrade --resume');
    expect(calls(sandbox, 'UpdateAddon')).toBe(1);
    const journal = JSON.parse(readFileSync(join(dir, 'upgrade-journal-demo-us-west-2.json'), 'utf8')) as { finished: boolean };
    expect(journal.finished).toBe(false);
  });
});

describe('preflight refusals change nothing', () => {
  async function refused(s: Scenario, args: string[]): Promise<{ result: CliResult; sandbox: RunningSandbox; dir: string }> {
    const sandbox = await sandboxFor(s);
    const dir = tempDir();
    const result = await upgrade(sandbox, dir, args);
    expect(mutating(sandbox)).toEqual([]);
    expect(files(dir)).toEqual([]);
    expect(result.stdout).toBe('');
    return { result, sandbox, dir };
  }

  it('refuses while the add-on is mid-update', async () => {
    const { result } = await refused(
      scenario('default', (s) => (s.addon = { ...(s.addon as NonNullable<Scenario['addon']>), status: 'UPDATING' })),
      ['--to', 'v1.14.0-eksbuild.3', '--yes'],
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/is UPDATING; wait until it is ACTIVE/);
  });

  it('refuses PRESERVE on the create step of an adoption', async () => {
    const { result } = await refused(scenario('self-managed-custom-networking'), ['--to', 'v1.13.4', '--resolve-conflicts', 'PRESERVE']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/PRESERVE is not valid on CreateAddon.*NONE or OVERWRITE/);
  });

  it('refuses values that do not fit a step\'s schema, naming the path and the likely setting', async () => {
    const { result } = await refused(scenario('default'), [
      '--to', 'v1.14.0-eksbuild.3', '--configuration-values', '{"env":{"WARM_IP_TARGETS":"5"}}',
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('WARM_IP_TARGETS');
    expect(result.stderr).toMatch(/did you mean .*WARM_IP_TARGET\b/i);
    expect(result.stderr).toContain('v1.13.4-eksbuild.1');
  });

  it('refuses a service account role that does not exist', async () => {
    const { result } = await refused(scenario('default'), [
      '--to', 'v1.14.0-eksbuild.3', '--service-account-role-arn', 'arn:aws:iam::111122223333:role/NoSuchRole',
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/role\/NoSuchRole does not exist/);
  });

  it('refuses a target under an error advisory (v1.19.4 with custom networking and security groups for pods)', async () => {
    const { result } = await refused(scenario('v1.19.3-custom-networking-sgp'), ['--to', 'v1.19.4', '--yes']);
    expect(result.exitCode).not.toBe(0);
    expect(result.exitCode).not.toBe(4);
    expect(result.stderr).toMatch(/Refusing to move to v1\.19\.4/);
    // …and says what to do instead.
    expect(result.stderr).toMatch(/Go to v1\.19\.5 or later, or stay on v1\.19\.3/);
  });
});

describe('configuration values the add-on stores', () => {
  const scenario = ['--scenario', 'v1.19.3-custom-networking-sgp'];

  it('refuses new values that would silently remove stored settings', async () => {
    const result = await vpccniInProcess([...scenario, 'upgrade', '--to', 'v1.19.5', '--configuration-values', '{"env":{"WARM_IP_TARGET":"5"}}']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('env.AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG');
    expect(result.stderr).toContain('env.ENABLE_POD_ENI');
    expect(result.stderr).toMatch(/leaves out 3 setting\(s\) the add-on stores now/);
  });

  it('goes on when the new values keep them', async () => {
    const values = JSON.stringify({
      env: {
        AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true',
        ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
        ENABLE_POD_ENI: 'true',
        WARM_IP_TARGET: '5',
      },
    });
    const result = await vpccniInProcess([...scenario, 'upgrade', '--to', 'v1.19.5', '--configuration-values', values, '--dry-run', '--output', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJson<{ steps: Array<{ result: string }> }>(result).steps.map((s) => s.result)).toEqual(['planned']);
  });
});
