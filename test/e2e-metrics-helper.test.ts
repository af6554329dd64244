/**
 * `vpccni metrics-helper status|upgrade` end to end: the CLI against an in-process sandbox; the AWS CLI (an
 * independent client) reads the IAM role it creates, and the sandbox's request log proves what changed. One
 * status spawns the real, built CLI; the other runs are the same CLI in-process (helpers/in-process.ts).
 */
import { execa } from 'execa';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario, startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import type { KubeObject } from '../src/decide/manifests.js';
import { awsCommand } from './helpers/aws-cli.js';
import { onSandbox, parseJson } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';

interface Report {
  cni: { version: string };
  helper: { installed: boolean; version: string | null; serviceAccountRoleArn: string | null; roleState: string };
  target: string;
  inStep: boolean;
  path: string[];
  findings: Array<{ id: string; severity: string }>;
  roleCreated?: string | null;
  steps?: Array<{ to: string; result: string }>;
}

useInProcessCli();
const open: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sandboxFor(name: string): Promise<RunningSandbox> {
  const sandbox = await startSandbox(loadScenario(name));
  open.push(sandbox);
  return sandbox;
}

const dir = () => mkdtempSync(join(tmpdir(), 'vpccni-mh-'));
const helperDeployment = (sandbox: RunningSandbox) => sandbox.store.get('apps/v1', 'Deployment', 'cni-metrics-helper', 'kube-system') as KubeObject | undefined;
const helperImage = (sandbox: RunningSandbox) =>
  (helperDeployment(sandbox)?.spec as { template: { spec: { containers: Array<{ image: string }> } } } | undefined)?.template.spec.containers[0]?.image;
const mutating = (sandbox: RunningSandbox) => sandbox.log.mutating().map((e) => `${e.service} ${e.operation}`);

describe('metrics-helper', () => {
  it('absent: status says so; upgrade installs it at the CNI version', async () => {
    const sandbox = await sandboxFor('metrics-helper-absent');
    // The real, built CLI, spawned: the one end-to-end run of metrics-helper.
    const status = await onSandbox(sandbox, ['metrics-helper', 'status', '--output', 'json']);
    expect(status.exitCode, status.stderr).toBe(0);
    const before = parseJson<Report>(status);
    expect(schemaErrors('metrics-helper', before)).toEqual([]);
    expect(before.helper.installed).toBe(false);
    expect(before.target).toBe('v1.19.5');
    expect(before.findings.map((f) => f.id)).toContain('metrics-helper-absent');

    const run = await onSandboxInProcess(sandbox, ['metrics-helper', 'upgrade', '--yes', '--backup-dir', dir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<Report>(run);
    expect(schemaErrors('metrics-helper', report)).toEqual([]);
    expect(report.steps).toEqual([{ to: 'v1.19.5', result: 'succeeded', diff: expect.any(String) }]);
    expect(helperImage(sandbox)).toBe('602401143452.dkr.ecr.us-west-2.amazonaws.com/cni-metrics-helper:v1.19.5');
    const after = parseJson<Report>(await onSandboxInProcess(sandbox, ['metrics-helper', 'status', '--output', 'json']));
    expect(after.inStep).toBe(true);
  }, 180_000);

  it('skewed: moves one minor at a time to the CNI version; --dry-run changes nothing', async () => {
    const sandbox = await sandboxFor('metrics-helper-skew');
    const dry = await onSandboxInProcess(sandbox, ['metrics-helper', 'upgrade', '--dry-run', '--backup-dir', dir()]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('kubectl rollout restart deployment cni-metrics-helper -n kube-system');
    expect(dry.stdout).toMatch(/\+\s+image: 602401143452\.dkr\.ecr\.us-west-2\.amazonaws\.com\/cni-metrics-helper:v1\.13\.4/);
    expect(mutating(sandbox)).toEqual([]);

    const run = await onSandboxInProcess(sandbox, ['metrics-helper', 'upgrade', '--yes', '--backup-dir', dir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(parseJson<Report>(run).steps!.map((s) => s.to)).toEqual(['v1.13.4', 'v1.14.1', 'v1.15.5', 'v1.16.4', 'v1.17.1', 'v1.18.6', 'v1.19.5']);
    expect(helperImage(sandbox)).toMatch(/cni-metrics-helper:v1\.19\.5$/);
  }, 240_000);

  it('broken role: status fails; upgrade refuses without --create-role and creates it with the flag', async () => {
    const sandbox = await sandboxFor('metrics-helper-broken-role');
    const status = await onSandboxInProcess(sandbox, ['metrics-helper', 'status']);
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toContain('metrics-helper-role-missing');

    const refused = await onSandboxInProcess(sandbox, ['metrics-helper', 'upgrade', '--yes', '--backup-dir', dir()]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--create-role');
    expect(mutating(sandbox)).toEqual([]);

    const run = await onSandboxInProcess(sandbox, ['metrics-helper', 'upgrade', '--yes', '--create-role', '--backup-dir', dir(), '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<Report>(run);
    expect(report.roleCreated).toBe('arn:aws:iam::111122223333:role/AmazonEKSVPCCNIMetricsHelperRole-demo');
    expect(mutating(sandbox).filter((m) => m.startsWith('iam '))).toEqual(['iam CreatePolicy', 'iam CreateRole', 'iam AttachRolePolicy']);

    // The AWS CLI sees the role, its trust for the helper's service account, and the policy.
    const aws = (args: string[]) =>
      execa(awsCommand(), [...args, '--endpoint-url', sandbox.iamEndpoint, '--output', 'json'], {
        env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-west-2', HOME: dir(), AWS_CONFIG_FILE: '/dev/null' },
      });
    const role = JSON.parse((await aws(['iam', 'get-role', '--role-name', 'AmazonEKSVPCCNIMetricsHelperRole-demo'])).stdout) as { Role: { AssumeRolePolicyDocument: unknown } };
    expect(JSON.stringify(role.Role.AssumeRolePolicyDocument)).toContain('system:serviceaccount:kube-system:cni-metrics-helper');
    const attached = JSON.parse((await aws(['iam', 'list-attached-role-policies', '--role-name', 'AmazonEKSVPCCNIMetricsHelperRole-demo'])).stdout) as { AttachedPolicies: Array<{ PolicyName: string }> };
    expect(attached.AttachedPolicies.map((p) => p.PolicyName)).toEqual(['AmazonEKSVPCCNIMetricsHelperPolicy']);

    const sa = sandbox.store.get('v1', 'ServiceAccount', 'cni-metrics-helper', 'kube-system') as KubeObject;
    expect((sa.metadata.annotations as Record<string, string>)['eks.amazonaws.com/role-arn']).toBe(report.roleCreated);
    const after = parseJson<Report>(await onSandboxInProcess(sandbox, ['metrics-helper', 'status', '--output', 'json']));
    expect([after.inStep, after.helper.roleState]).toEqual([true, 'ok']);
  }, 180_000);

  it('GovCloud and China: the helper image comes from the region registry', async () => {
    for (const [name, host] of [
      ['self-managed-govcloud', '013241004608.dkr.ecr.us-gov-west-1.amazonaws.com'],
      ['self-managed-china', '918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn'],
    ] as const) {
      const sandbox = await sandboxFor(name);
      const run = await onSandboxInProcess(sandbox, ['metrics-helper', 'upgrade', '--yes', '--backup-dir', dir()]);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(helperImage(sandbox)).toBe(`${host}/cni-metrics-helper:v1.12.6`);
    }
  }, 180_000);
});
