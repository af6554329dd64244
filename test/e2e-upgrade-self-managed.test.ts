/**
 * Issue 13 end to end: the CLI (in-process, main(argv): helpers/in-process.ts), the real SDK and the Kubernetes
 * API client against an in-process sandbox. A self-managed v1.12.6 on
 * Kubernetes 1.30 (where EKS offers no v1.13–v1.15) is taken to the newest version one minor at a time,
 * either adopted into the EKS add-on or staying self-managed, every custom setting kept; an independent
 * kubectl of another minor reads the result.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { realpathSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario, startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import type { Scenario, ScenarioFaults } from '../src/sandbox/scenario-types.js';
import { parseJson } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';

interface Step { from: string; to: string; action: string; resolveConflicts: string | null; result: string; diff?: string; error?: string }
interface Report { from: string; to: string; backup: string | null; steps: Step[]; carriedSettings?: Array<{ path: string; value: unknown }>; manifestSettings?: string[] }
type Container = { name: string; image: string; env?: Array<{ name: string; value?: string }> };

useInProcessCli();

const open: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sandboxFor(name: string, faults?: ScenarioFaults): Promise<RunningSandbox> {
  const s: Scenario = loadScenario(name);
  s.sandbox = { ...s.sandbox, updateDurationMs: 50, rolloutDurationMs: 50 };
  const sandbox = await startSandbox(s, faults ? { faults } : {});
  open.push(sandbox);
  return sandbox;
}

const backupDir = () => mkdtempSync(join(tmpdir(), 'vpccni-sm-'));
const mutating = (sandbox: RunningSandbox) => sandbox.log.mutating().map((e) => `${e.service} ${e.method} ${e.path.split('?')[0]}`);

/** The DaemonSet as an independent kubectl 1.29 (not the one vpccni runs) reads it. */
async function daemonSetByKubectl(sandbox: RunningSandbox): Promise<{ containers: Container[] }> {
  const dir = dirname(realpathSync((await execa('which', ['kubectl'])).stdout.trim()));
  const out = await execa(join(dir, 'kubectl.1.29'), ['--kubeconfig', sandbox.kubeconfig, '--context', sandbox.contextName, 'get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json'], {
    env: { KUBECACHEDIR: mkdtempSync(join(tmpdir(), 'kc-')) },
  });
  return (JSON.parse(out.stdout) as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec;
}

const CUSTOM = {
  WARM_IP_TARGET: '5',
  MINIMUM_IP_TARGET: '10',
  AWS_VPC_K8S_CNI_EXTERNALSNAT: 'true',
  AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true',
  ENI_CONFIG_LABEL_DEF: 'topology.kubernetes.io/zone',
};

function expectCustomEnv(containers: Container[]): void {
  const env = new Map((containers.find((c) => c.name === 'aws-node')!.env ?? []).map((e) => [e.name, e.value]));
  for (const [name, value] of Object.entries(CUSTOM)) expect(env.get(name), name).toBe(value);
}

describe('self-managed v1.12.6 on Kubernetes 1.30', () => {
  it('plan and upgrade --to latest adopt it through the manifests, one minor at a time, every setting kept', async () => {
    const sandbox = await sandboxFor('self-managed-v1.12-k8s-1.30');
    const plan = await onSandboxInProcess(sandbox, ['plan', '--to', 'latest', '--output', 'json']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    const planned = parseJson<{ steps: Step[]; findings: Array<{ id: string }> }>(plan);
    expect(schemaErrors('plan', planned)).toEqual([]);
    expect(planned.findings.map((f) => f.id)).toContain('adopt-through-manifests');

    const dir = backupDir();
    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'latest', '--yes', '--backup-dir', dir, '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<Report>(run);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report.steps.map((s) => [s.action, s.to, s.result])).toEqual(planned.steps.map((s) => [s.action, s.to, 'succeeded']));
    expect(report.steps.map((s) => s.action)).toEqual(['apply', 'apply', 'apply', 'create', 'update', 'update', 'update', 'update']);
    expect(report.steps.find((s) => s.action === 'create')?.resolveConflicts).toBe('OVERWRITE');

    // The backup came before the first change, and the manifest steps were server-side applies by vpccni.
    const first = sandbox.log.mutating()[0]!;
    expect(first.service).toBe('kube');
    expect(first.path).toMatch(/fieldManager=vpccni/);
    expect(readFileSync(report.backup!, 'utf8')).toContain('WARM_IP_TARGET');

    const addon = sandbox.addon()!;
    expect(addon.addonVersion).toBe('v1.20.1-eksbuild.1');
    expect(JSON.parse(addon.configurationValues!)).toEqual({ env: CUSTOM });
    const ds = await daemonSetByKubectl(sandbox);
    expect(ds.containers.find((c) => c.name === 'aws-node')!.image).toMatch(/amazon-k8s-cni:v1\.20\.1-eksbuild\.1$/);
    expectCustomEnv(ds.containers);
  }, 300_000);

  it('upgrade --self-managed walks the same minors by manifests and stays self-managed', async () => {
    const sandbox = await sandboxFor('self-managed-v1.12-k8s-1.30');
    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'latest', '--self-managed', '--yes', '--backup-dir', backupDir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<Report>(run);
    expect(schemaErrors('upgrade', report)).toEqual([]);
    expect(report.steps.map((s) => s.to)).toEqual(['v1.13.4', 'v1.14.1', 'v1.15.5', 'v1.16.4', 'v1.17.1', 'v1.18.6', 'v1.19.6', 'v1.20.1']);
    expect(report.steps.every((s) => s.action === 'apply' && s.resolveConflicts === null && s.result === 'succeeded')).toBe(true);
    expect(sandbox.addon()).toBeNull();
    expect(mutating(sandbox).every((m) => m.startsWith('kube PATCH '))).toBe(true);
    const ds = await daemonSetByKubectl(sandbox);
    expect(ds.containers.map((c) => c.image)).toEqual([
      '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.20.1',
      expect.stringMatching(/^602401143452\.dkr\.ecr\.us-west-2\.amazonaws\.com\/amazon\/aws-network-policy-agent:v1\./),
    ]);
    expectCustomEnv(ds.containers);
  }, 300_000);

  it('--dry-run shows each manifest step with its diff and changes nothing', async () => {
    const sandbox = await sandboxFor('self-managed-v1.12-k8s-1.30');
    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'latest', '--dry-run', '--backup-dir', backupDir()]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain('kubectl apply --server-side --field-manager=vpccni --force-conflicts -f <the upstream v1.13.4 manifest');
    expect(run.stdout).toMatch(/-\s+image: 602401143452\.dkr\.ecr\.us-west-2\.amazonaws\.com\/amazon-k8s-cni:v1\.12\.6/);
    expect(run.stdout).toMatch(/\+\s+image: 602401143452\.dkr\.ecr\.us-west-2\.amazonaws\.com\/amazon-k8s-cni:v1\.13\.4/);
    expect(run.stdout).toContain('aws eks create-addon --cluster-name demo --addon-name vpc-cni --addon-version v1.16.4-eksbuild.2 --resolve-conflicts OVERWRITE');
    expect(mutating(sandbox)).toEqual([]);
  }, 300_000);

  it('a manifest step that does not roll out stops the walk (exit 4); --resume finishes it', async () => {
    const sandbox = await sandboxFor('self-managed-v1.12-k8s-1.30', { rolloutNeverFinishes: true });
    const dir = backupDir();
    const stopped = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.14.1', '--self-managed', '--yes', '--timeout', '2s', '--backup-dir', dir]);
    expect(stopped.exitCode).toBe(4);
    expect(stopped.stderr).toContain('step 1 of 2 (v1.12.6 → v1.13.4, server-side apply of the upstream manifest)');
    const journal = JSON.parse(readFileSync(join(dir, 'upgrade-journal-demo-us-west-2.json'), 'utf8')) as { selfManaged: boolean; steps: Step[] };
    expect(journal.selfManaged).toBe(true);
    expect(journal.steps.map((s) => s.result)).toEqual(['failed', 'planned']);

    sandbox.store.rolloutNeverFinishes = false;
    const resumed = await onSandboxInProcess(sandbox, ['upgrade', '--resume', '--yes', '--backup-dir', dir, '--output', 'json']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(parseJson<Report>(resumed).steps.map((s) => [s.to, s.result])).toEqual([['v1.13.4', 'succeeded'], ['v1.14.1', 'succeeded']]);
    expect(sandbox.addon()).toBeNull();
    expectCustomEnv((await daemonSetByKubectl(sandbox)).containers);
  }, 300_000);

  it('--jump adopts it with one CreateAddon at the target, only when asked', async () => {
    const sandbox = await sandboxFor('self-managed-v1.12-k8s-1.30');
    const plan = await onSandboxInProcess(sandbox, ['plan', '--to', 'latest', '--jump', '--output', 'json']);
    const planned = parseJson<{ steps: Step[]; findings: Array<{ id: string; message: string }> }>(plan);
    expect(planned.steps).toEqual([{ from: 'v1.12.6', to: 'v1.20.1-eksbuild.1', action: 'create' }]);
    expect(planned.findings.find((f) => f.id === 'jump-skips-minors')?.message).toContain('skipping v1.13, v1.14, v1.15, v1.16, v1.17, v1.18, v1.19');
    const bad = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'latest', '--self-managed', '--jump', '--yes']);
    expect(bad.exitCode).toBe(2);
    expect(mutating(sandbox)).toEqual([]);
  }, 300_000);
});

describe('regions and mirrors', () => {
  it('GovCloud: the manifests are rendered for 013241004608.dkr.ecr.us-gov-west-1.amazonaws.com', async () => {
    const sandbox = await sandboxFor('self-managed-govcloud');
    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.14.1', '--self-managed', '--yes', '--backup-dir', backupDir()]);
    expect(run.exitCode, run.stderr).toBe(0);
    const ds = await daemonSetByKubectl(sandbox);
    expect(ds.containers.find((c) => c.name === 'aws-node')!.image).toBe('013241004608.dkr.ecr.us-gov-west-1.amazonaws.com/amazon-k8s-cni:v1.14.1');
  }, 300_000);

  it('China: adopted through the manifests for 918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn, then managed', async () => {
    const sandbox = await sandboxFor('self-managed-china');
    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.17.1-eksbuild.1', '--yes', '--backup-dir', backupDir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(parseJson<Report>(run).steps.map((s) => s.action)).toEqual(['apply', 'apply', 'apply', 'create', 'update']);
    expect(sandbox.addon()!.addonArn).toMatch(/^arn:aws-cn:eks:cn-north-1:/);
    const ds = await daemonSetByKubectl(sandbox);
    expect(ds.containers.find((c) => c.name === 'aws-node')!.image).toBe('918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/amazon-k8s-cni:v1.17.1-eksbuild.1');
    expect(new Map((ds.containers[0]!.env ?? []).map((e) => [e.name, e.value])).get('WARM_IP_TARGET')).toBe('5');
  }, 300_000);

  it('a mirror stays the source of the images when staying self-managed; adopting it names the mirror as lost', async () => {
    const sandbox = await sandboxFor('self-managed-mirror');
    const refused = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'latest', '--yes', '--backup-dir', backupDir()]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--accept-setting-loss');
    expect(mutating(sandbox)).toEqual([]);

    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.13.4', '--self-managed', '--yes', '--backup-dir', backupDir()]);
    expect(run.exitCode, run.stderr).toBe(0);
    const ds = await daemonSetByKubectl(sandbox);
    expect(ds.containers.find((c) => c.name === 'aws-node')!.image).toBe('registry.example.com/eks/amazon-k8s-cni:v1.13.4');
  }, 300_000);
});
