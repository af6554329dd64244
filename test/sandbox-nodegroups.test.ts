/**
 * The sandbox's EKS answers ListNodegroups and DescribeNodegroup (the managed node groups, whose node role
 * vpccni reads when aws-node has neither an IRSA role nor Pod Identity), driven with the real AWS CLI v1
 * (botocore parses each answer against its EKS model), and the node role's policies with `aws iam`. End to
 * end: `plan` on a self-managed install reads the node role instead of reporting `facts-not-read`, and a node
 * role without AmazonEKS_CNI_Policy gets the warning it deserves.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import type { Scenario } from '../src/sandbox/scenario-types.js';
import { aws } from './helpers/aws-cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

useInProcessCli();

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const dir = mkdtempSync(join(tmpdir(), 'vpccni-nodegroups-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(scenario: string | Scenario): Promise<RunningSandbox> {
  const sb = await startSandbox(scenario);
  running.push(sb);
  return sb;
}

const eksCli = (sb: RunningSandbox, args: string[]) => aws(sb.eksEndpoint, ['eks', ...args], { region: sb.region });
const iamCli = (sb: RunningSandbox, args: string[]) => aws(sb.iamEndpoint, ['iam', ...args], { region: sb.region });

/** The AWS CLI's describe-nodegroup example (aws/aws-cli `awscli/examples/eks/describe-nodegroup.rst`). */
const example = JSON.parse(readFileSync(new URL('../fixtures/aws-cli-examples/describe-nodegroup.example1.output.json', import.meta.url), 'utf8')) as Json;

const WORKER = 'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy';
const ECR = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';
const CNI = 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy';

describe('ListNodegroups and DescribeNodegroup (AWS CLI)', () => {
  it('lists the default node group and describes it with the fields of the CLI example; its node role is in IAM', async () => {
    const sb = await start('custom-settings-self-managed');
    const list = await eksCli(sb, ['list-nodegroups', '--cluster-name', 'demo']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.json).toEqual({ nodegroups: ['ng-default'] });

    const described = await eksCli(sb, ['describe-nodegroup', '--cluster-name', 'demo', '--nodegroup-name', 'ng-default']);
    expect(described.exitCode, described.stderr).toBe(0);
    const ng = described.json.nodegroup as Json;
    expect(Object.keys(ng)).toEqual(Object.keys(example.nodegroup as Json).filter((k) => k !== 'releaseVersion'));
    expect(ng).toMatchObject({
      nodegroupName: 'ng-default',
      clusterName: 'demo',
      version: '1.27',
      status: 'ACTIVE',
      capacityType: 'ON_DEMAND',
      scalingConfig: { minSize: 3, maxSize: 3, desiredSize: 3 },
      instanceTypes: ['m5.large'],
      nodeRole: 'arn:aws:iam::111122223333:role/AmazonEKSNodeRole',
      health: { issues: [] },
    });
    expect(ng.nodegroupArn).toMatch(/^arn:aws:eks:us-west-2:111122223333:nodegroup\/demo\/ng-default\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(ng.createdAt).toEqual(expect.any(Number)); // epoch seconds, as the CLI v1 prints them

    // The node role: EC2 trusts it; self-managed aws-node has no IRSA role, so it carries the CNI policy (the user guide's setup).
    const role = await iamCli(sb, ['get-role', '--role-name', 'AmazonEKSNodeRole']);
    expect(role.exitCode, role.stderr).toBe(0);
    expect(role.json.Role.AssumeRolePolicyDocument.Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    const attached = await iamCli(sb, ['list-attached-role-policies', '--role-name', 'AmazonEKSNodeRole']);
    expect((attached.json.AttachedPolicies as Json[]).map((p) => p.PolicyArn)).toEqual([WORKER, ECR, CNI]);
    const version = await iamCli(sb, ['get-policy-version', '--policy-arn', WORKER, '--version-id', 'v1']);
    expect(version.exitCode, version.stderr).toBe(0);
    expect(version.json.PolicyVersion.Document.Statement[0].Action).toContain('eks:DescribeCluster');
  });

  it('an add-on with an IRSA role: the node role has no CNI policy', async () => {
    const sb = await start('default');
    const attached = await iamCli(sb, ['list-attached-role-policies', '--role-name', 'AmazonEKSNodeRole']);
    expect(attached.exitCode, attached.stderr).toBe(0);
    expect((attached.json.AttachedPolicies as Json[]).map((p) => p.PolicyArn)).toEqual([WORKER, ECR]);
  });

  it('pages with --page-size / --max-items, and an unknown node group is ResourceNotFoundException', async () => {
    const sb = await start({
      name: 'three-node-groups',
      cluster: { nodeGroups: [{ name: 'ng-b' }, { name: 'ng-a', nodeRole: 'OtherNodeRole' }, { name: 'ng-c', instanceTypes: ['t3.medium'] }] },
    });
    const first = await eksCli(sb, ['list-nodegroups', '--cluster-name', 'demo', '--max-items', '1']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json.nodegroups).toEqual(['ng-a']);
    expect(first.json.NextToken).toBeTruthy();
    const rest = await eksCli(sb, ['list-nodegroups', '--cluster-name', 'demo', '--starting-token', String(first.json.NextToken)]);
    expect(rest.json.nodegroups).toEqual(['ng-b', 'ng-c']);
    // One request a node group: the CLI follows nextToken to the end.
    const paged = await eksCli(sb, ['list-nodegroups', '--cluster-name', 'demo', '--page-size', '1']);
    expect(paged.json).toEqual({ nodegroups: ['ng-a', 'ng-b', 'ng-c'] });
    expect(sb.log.entries.filter((r) => r.operation === 'ListNodegroups' && /maxResults=1/.test(r.path)).length).toBeGreaterThanOrEqual(3);

    const a = await eksCli(sb, ['describe-nodegroup', '--cluster-name', 'demo', '--nodegroup-name', 'ng-a']);
    expect(a.json.nodegroup.nodeRole).toBe('arn:aws:iam::111122223333:role/OtherNodeRole');
    expect(a.json.nodegroup.scalingConfig).toEqual({ minSize: 0, maxSize: 1, desiredSize: 0 });
    const c = await eksCli(sb, ['describe-nodegroup', '--cluster-name', 'demo', '--nodegroup-name', 'ng-c']);
    expect(c.json.nodegroup.instanceTypes).toEqual(['t3.medium']);

    const missing = await eksCli(sb, ['describe-nodegroup', '--cluster-name', 'demo', '--nodegroup-name', 'nope']);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toMatch(/An error occurred \(ResourceNotFoundException\) when calling the DescribeNodegroup operation.*: No node group found for name: nope\./);
    // EKS's error shape: the status, the x-amzn-ErrorType header, and the ResourceNotFoundException members.
    const raw = await fetch(`${sb.eksEndpoint}/clusters/demo/node-groups/nope`);
    expect(raw.status).toBe(404);
    expect(raw.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await raw.json()).toEqual({ clusterName: 'demo', nodegroupName: 'nope', message: 'No node group found for name: nope.' });
    const otherCluster = await eksCli(sb, ['list-nodegroups', '--cluster-name', 'other']);
    expect(otherCluster.stderr).toMatch(/\(ResourceNotFoundException\) when calling the ListNodegroups operation.*: No cluster found for name: other\./);
  });

  it('nodeGroups: [] lists none', async () => {
    const sb = await start({ name: 'no-node-groups', cluster: { nodeGroups: [] } });
    const list = await eksCli(sb, ['list-nodegroups', '--cluster-name', 'demo']);
    expect(list.json).toEqual({ nodegroups: [] });
  });
});

describe('vpccni reads the node role end to end', () => {
  const planJson = async (scenario: string) => {
    const result = await vpccniInProcess(['--sandbox', '--scenario', scenario, 'plan', '--to', 'latest', '--output', 'json']);
    return { ...result, json: JSON.parse(result.stdout) as Json };
  };
  const findingsOf = (plan: Json): Json[] => collect(plan) as Json[];

  it('custom-settings-self-managed: no facts-not-read; the node role carries the CNI policy, so no permissions warning', async () => {
    const { json } = await planJson('custom-settings-self-managed');
    const ids = findingsOf(json).map((f) => f.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).not.toContain('facts-not-read');
    expect(ids).not.toContain('cni-role-permissions-missing');
    expect(JSON.stringify(json)).not.toContain('Could not list the node groups');
  });

  it('a node role without AmazonEKS_CNI_Policy while aws-node has no IRSA role: cni-role-permissions-missing names the node role', async () => {
    const file = join(dir, 'node-role-without-cni.json');
    const scenario: Scenario = {
      name: 'node-role-without-cni',
      addon: { version: 'v1.12.6-eksbuild.2', serviceAccountRoleArn: null },
      iam: { roles: [{ name: 'AmazonEKSNodeRole', attachedPolicyArns: [WORKER, ECR] }] },
    };
    writeFileSync(file, JSON.stringify(scenario));
    const { json } = await planJson(file);
    const findings = findingsOf(json);
    expect(findings.map((f) => f.id)).not.toContain('facts-not-read');
    const finding = findings.find((f) => f.id === 'cni-role-permissions-missing');
    expect(finding?.severity).toBe('warning');
    expect(finding?.message).toMatch(/^The node role arn:aws:iam::111122223333:role\/AmazonEKSNodeRole does not allow ec2:AssignPrivateIpAddresses/);
    expect(finding?.message).toContain('(read from 2 policies)');
  });
});

/** Every finding (an object with `id` and `severity`) anywhere in a JSON document. */
function collect(value: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const v of value) collect(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Json;
    if (typeof o.id === 'string' && typeof o.severity === 'string') out.push(o);
    for (const v of Object.values(o)) collect(v, out);
  }
  return out;
}
