/**
 * IAM's list paging in the sandbox (`MaxItems`, `Marker`, `IsTruncated`, iam-service-2.json), driven by the real
 * AWS CLI (`--max-items`, `--page-size`, `--starting-token`) and the SDK, and vpccni's IAM gateway following
 * `Marker` to the end on a role with more attached policies than one page.
 */
import { IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../src/sandbox/scenario.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { aws as awsCli, type AwsResult } from './helpers/aws-cli.js';
import { runtimeFor } from './helpers/in-process-runtime.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { parseJson } from './helpers/cli.js';

useInProcessCli();

const ROLE = 'AmazonEKSVPCCNIRole';
const ROLE_ARN = `arn:aws:iam::111122223333:role/${ROLE}`;
// The CNI policy last, so a reader that stops at the first page misses it.
const ATTACHED = [
  'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
  'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy',
  'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
];
const INLINE = { 'allow-describe-subnets': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeSubnets', Resource: '*' }] }, 'allow-tags': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeTags', Resource: '*' }] } };

/** The default scenario with three attached and two inline policies on the add-on's role, and IAM pages of `pageSize`. */
function scenario(pageSize?: number) {
  const s = loadScenario('default');
  s.iam = { ...s.iam, roles: [{ name: ROLE, attachedPolicyArns: ATTACHED, inlinePolicies: INLINE }] };
  s.sandbox = { ...s.sandbox, faults: pageSize ? { iamPageSize: pageSize } : {} };
  return s;
}

function iamCalls(sandbox: RunningSandbox, operation: string): number {
  return sandbox.log.entries.filter((e) => e.service === 'iam' && e.operation === operation).length;
}

describe('IAM list paging through the AWS CLI', () => {
  let sandbox: RunningSandbox;
  const aws = (args: string[]): Promise<AwsResult> => awsCli(sandbox.iamEndpoint, ['iam', ...args], { region: 'us-west-2' });
  beforeAll(async () => {
    sandbox = await startSandbox(scenario());
  });
  afterAll(() => sandbox?.close());

  it('--max-items 1 gives one policy and a token; --starting-token goes on from it', async () => {
    const first = await aws(['list-attached-role-policies', '--role-name', ROLE, '--max-items', '1']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn)).toEqual([ATTACHED[0]]);
    expect(first.json.NextToken).toEqual(expect.any(String));
    const rest = await aws(['list-attached-role-policies', '--role-name', ROLE, '--starting-token', first.json.NextToken]);
    expect(rest.exitCode, rest.stderr).toBe(0);
    expect(rest.json.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn)).toEqual(ATTACHED.slice(1));
  });

  it('--page-size 1 sends MaxItems=1 and follows Marker through every page', async () => {
    const before = { attached: iamCalls(sandbox, 'ListAttachedRolePolicies'), inline: iamCalls(sandbox, 'ListRolePolicies') };
    const [attached, inline] = await Promise.all([
      aws(['list-attached-role-policies', '--role-name', ROLE, '--page-size', '1']),
      aws(['list-role-policies', '--role-name', ROLE, '--page-size', '1']),
    ]);
    expect(attached.exitCode, attached.stderr).toBe(0);
    expect(attached.json.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn)).toEqual(ATTACHED);
    expect(inline.json.PolicyNames).toEqual(['allow-describe-subnets', 'allow-tags']);
    // One request a page: three pages of one attached policy, two of one inline policy name.
    expect(iamCalls(sandbox, 'ListAttachedRolePolicies') - before.attached).toBe(3);
    expect(iamCalls(sandbox, 'ListRolePolicies') - before.inline).toBe(2);
  });

  it('answers IsTruncated and Marker on the wire, and refuses a MaxItems out of range or a forged Marker', async () => {
    const client = new IAMClient({ endpoint: sandbox.iamEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    try {
      const page = await client.send(new ListAttachedRolePoliciesCommand({ RoleName: ROLE, MaxItems: 2 }));
      expect(page.IsTruncated).toBe(true);
      expect(page.AttachedPolicies).toHaveLength(2);
      const last = await client.send(new ListAttachedRolePoliciesCommand({ RoleName: ROLE, MaxItems: 2, Marker: page.Marker }));
      expect(last.IsTruncated).toBe(false);
      expect(last.Marker).toBeUndefined();
      expect(last.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([ATTACHED[2]]);
      await expect(client.send(new ListAttachedRolePoliciesCommand({ RoleName: ROLE, MaxItems: 0 }))).rejects.toThrow(
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
      );
      await expect(client.send(new ListAttachedRolePoliciesCommand({ RoleName: ROLE, Marker: 'bm9wZQ' }))).rejects.toMatchObject({ name: 'ValidationError' });
    } finally {
      client.destroy();
    }
  });
});

describe("vpccni's IAM gateway on a role longer than one page", () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    // IAM may return fewer items than MaxItems: here one a page, whatever is asked.
    sandbox = await startSandbox(scenario(1));
  });
  afterAll(() => sandbox?.close());

  it('reads every attached and inline policy, one page at a time', async () => {
    const { iam } = runtimeFor(sandbox);
    const role = await iam.getRole(ROLE_ARN);
    expect(role.attachedPolicyArns).toEqual(ATTACHED);
    const policies = await iam.readRolePolicies(ROLE_ARN);
    expect(policies.documents.map((d) => d.name)).toEqual(expect.arrayContaining(['inline:allow-describe-subnets', 'inline:allow-tags', ATTACHED[2]]));
    expect(iamCalls(sandbox, 'ListAttachedRolePolicies')).toBe(6);
    expect(iamCalls(sandbox, 'ListRolePolicies')).toBe(2);
  });

  it('status sees the CNI policy on the last page (no irsa-cni-policy-missing)', async () => {
    const result = await onSandboxInProcess(sandbox, ['status', '--output', 'json']);
    const ids = parseJson<{ findings: Array<{ id: string }> }>(result).findings.map((f) => f.id);
    expect(ids).not.toContain('irsa-cni-policy-missing');
    expect(ids).not.toContain('irsa-role-missing');
  });
});
