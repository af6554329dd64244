/**
 * The EKS emulator against the real AWS CLI v1 (botocore parses every answer against its EKS model):
 * the drifts held-out checks found (issue 9), Pod Identity, upgrade insights, Auto Mode, the
 * failed-but-applied and DEGRADED-then-ACTIVE faults (driven through the eks-change gate, never a clock),
 * and the IAM policies a role's permissions are read from.
 *
 * Each operation and each error shape goes through the AWS CLI at least once; set-up steps and reads whose wire
 * format a CLI call here already proves go through the AWS SDK v3 in-process (a CLI call costs ~0.7 s of CPU).
 */
import {
  CreatePodIdentityAssociationCommand,
  DescribeClusterCommand,
  DescribeInsightCommand,
  DescribeUpdateCommand,
  DescribePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  ListAddonsCommand,
  ListInsightsCommand,
  ListPodIdentityAssociationsCommand,
  UpdateAddonCommand,
} from '@aws-sdk/client-eks';
import { GetPolicyCommand, GetRoleCommand, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import type { Scenario } from '../src/sandbox/scenario-types.js';
import { aws } from './helpers/aws-cli.js';
import { eksSdk, iamSdk } from './helpers/aws-sdk.js';
import { isolatedEnv } from './helpers/cli.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(scenario: string | Scenario, hold: Array<'eks-change' | 'rollout'> = []): Promise<RunningSandbox> {
  const sb = await startSandbox(scenario, { hold });
  running.push(sb);
  return sb;
}

const eksCli = (sb: RunningSandbox, args: string[]) => aws(sb.eksEndpoint, ['eks', ...args], { region: sb.region });
const iamCli = (sb: RunningSandbox, args: string[]) => aws(sb.iamEndpoint, ['iam', ...args], { region: sb.region });

/** Starts an add-on update through the SDK (the CLI's UpdateAddon is proven below); resolves its id. */
async function updateAddon(sb: RunningSandbox, addonVersion: string): Promise<string> {
  const { update } = await eksSdk(sb).send(new UpdateAddonCommand({ clusterName: 'demo', addonName: 'vpc-cni', addonVersion }));
  return update!.id!;
}

async function kubectl(sb: RunningSandbox, args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa('kubectl', ['--kubeconfig', sb.kubeconfig, ...args], { reject: false, env: isolatedEnv() });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('drifts from EKS, fixed (AWS CLI)', () => {
  it('DescribeAddonVersions pages by add-on: one vpc-cni entry with every version, nextToken over add-ons', async () => {
    const sb = await start('default');
    const page = await eksCli(sb, ['describe-addon-versions', '--addon-name', 'vpc-cni', '--kubernetes-version', '1.27', '--max-results', '1', '--no-paginate']);
    expect(page.exitCode, page.stderr).toBe(0);
    expect(page.json.addons).toHaveLength(1);
    expect(page.json.nextToken).toBeUndefined();
    const versions = (page.json.addons[0].addonVersions as Json[]).map((v) => v.addonVersion);
    expect(versions.length).toBeGreaterThan(5);
    expect(versions).toEqual(expect.arrayContaining(['v1.14.0-eksbuild.3', 'v1.13.4-eksbuild.1', 'v1.12.6-eksbuild.2']));
    // The CLI's own paging (all add-ons, no filter) sees vpc-cni exactly once.
    const all = await eksCli(sb, ['describe-addon-versions', '--page-size', '1']);
    expect(all.exitCode, all.stderr).toBe(0);
    expect((all.json.addons as Json[]).filter((a) => a.addonName === 'vpc-cni')).toHaveLength(1);
  }, 240_000);

  it('DescribeUpdate without addonName is 404 "No update found for ID", as EKS answers', async () => {
    const sb = await start('default');
    const id = await updateAddon(sb, 'v1.13.4-eksbuild.1');
    const bare = await eksCli(sb, ['describe-update', '--name', 'demo', '--update-id', id]);
    expect(bare.exitCode).not.toBe(0);
    expect(bare.stderr).toMatch(/\(ResourceNotFoundException\) when calling the DescribeUpdate operation( \(reached max retries: \d+\))?: No update found for ID: /);
    expect(bare.stderr).toContain(`No update found for ID: ${id}`);
    // With the add-on's name it is found (DescribeUpdate's answer goes through the CLI in the failedButApplied test).
    const found = await eksSdk(sb).send(new DescribeUpdateCommand({ name: 'demo', updateId: id, addonName: 'vpc-cni' }));
    expect(found.update?.id).toBe(id);
  }, 240_000);

  it("UpdateAddon lists only the parameters sent, and refuses a second one while UPDATING with EKS's words", async () => {
    const sb = await start('default', ['eks-change']);
    const first = await eksCli(sb, ['update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--addon-version', 'v1.13.4-eksbuild.1']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json.update.params).toEqual([{ type: 'AddonVersion', value: 'v1.13.4-eksbuild.1' }]);
    await sb.gates.eksChange.waitForPending(1);
    const second = await eksCli(sb, ['update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--resolve-conflicts', 'PRESERVE']);
    expect(second.exitCode).not.toBe(0);
    expect(second.stderr).toMatch(
      /\(ResourceInUseException\) when calling the UpdateAddon operation( \(reached max retries: \d+\))?: Addon vpc-cni cannot be updated as it is currently in UPDATING state/,
    );
    sb.gates.eksChange.release();
    const third = await eksCli(sb, [
      'update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--resolve-conflicts', 'OVERWRITE',
      '--configuration-values', '{"env":{"WARM_IP_TARGET":"2"}}',
    ]);
    expect(third.exitCode, third.stderr).toBe(0);
    expect(third.json.update.params).toEqual([
      { type: 'ResolveConflicts', value: 'OVERWRITE' },
      { type: 'ConfigurationValues', value: '{"env":{"WARM_IP_TARGET":"2"}}' },
    ]);
  }, 240_000);

  it('DeleteAddon goes through DELETING before the add-on is gone', async () => {
    const sb = await start('default', ['eks-change']);
    const deleted = await eksCli(sb, ['delete-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni']);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(deleted.json.addon.status).toBe('DELETING');
    expect(sb.addon()?.status).toBe('DELETING');
    expect(sb.gates.eksChange.step()).toBe(true);
    const after = await eksCli(sb, ['describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni']);
    expect(after.stderr).toMatch(/\(ResourceNotFoundException\) when calling the DescribeAddon operation( \(reached max retries: \d+\))?: No addon: vpc-cni found in cluster: demo/);
    expect(sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')).toBeUndefined();
  }, 240_000);

  it('DeleteAddon --preserve forgets the record and keeps every object of the add-on (eks-service-2.json DeleteAddonRequest preserve)', async () => {
    const sb = await start('default', ['eks-change']);
    const before = structuredClone(sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system')) as Json;
    const deleted = await eksCli(sb, ['delete-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--preserve']);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(sb.log.entries.find((e) => e.operation === 'DeleteAddon')?.path).toMatch(/\?preserve=true$/);
    expect(deleted.json.addon.status).toBe('DELETING');
    expect(sb.gates.eksChange.step()).toBe(true);
    const list = await eksCli(sb, ['list-addons', '--cluster-name', 'demo']);
    expect(list.json.addons).toEqual([]);
    // aws-node runs on unchanged, as do its service account and cluster role: only EKS's record is gone.
    const ds = await kubectl(sb, ['get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json']);
    expect(ds.exitCode, ds.stderr).toBe(0);
    const live = JSON.parse(ds.stdout) as Json;
    expect(live.spec.template.spec.containers[0].image).toBe(before.spec.template.spec.containers[0].image);
    expect(live.metadata.generation).toBe(before.metadata.generation);
    for (const object of [['serviceaccount', 'aws-node'], ['clusterrole', 'aws-node']]) {
      const got = await kubectl(sb, ['get', ...object, '-n', 'kube-system', '-o', 'name']);
      expect(got.exitCode, got.stderr).toBe(0);
    }
  }, 240_000);
});

describe('faults of a 2025-2026 cluster, through the eks-change gate', () => {
  it('failedButApplied: the update says Failed, yet the add-on is at the new version (DEGRADED), then recovers', async () => {
    const sb = await start(
      { name: 'failed-applied', sandbox: { faults: { failedButApplied: { changeNumber: 1 }, degradedRecovers: true } } },
      ['eks-change'],
    );
    const id = await updateAddon(sb, 'v1.13.4-eksbuild.1');
    await sb.gates.eksChange.waitForPending(1);
    sb.gates.eksChange.step();
    const described = await eksCli(sb, ['describe-update', '--name', 'demo', '--update-id', id, '--addon-name', 'vpc-cni']);
    expect(described.json.update.status).toBe('Failed');
    expect(described.json.update.errors[0].errorCode).toBe('InsufficientNumberOfReplicas');
    const addon = (await eksCli(sb, ['describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni'])).json.addon;
    expect(addon.addonVersion).toBe('v1.13.4-eksbuild.1');
    expect(addon.status).toBe('DEGRADED');
    expect(addon.health.issues[0].code).toBe('InsufficientNumberOfReplicas');
    const ds = sb.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as Json;
    expect(ds.spec.template.spec.containers[0].image).toMatch(/:v1\.13\.4-eksbuild\.1$/);
    // The recovery waits in the gate: one step and the add-on is ACTIVE, the update still Failed.
    expect(sb.gates.eksChange.state().pending).toEqual(['Recover vpc-cni from DEGRADED']);
    sb.gates.eksChange.step();
    expect(sb.addon()).toMatchObject({ status: 'ACTIVE', health: { issues: [] } });
  }, 240_000);

  it('failedButApplied with addonStatus ACTIVE: Failed update, ACTIVE add-on at the new version', async () => {
    const sb = await start({ name: 'failed-active', sandbox: { faults: { failedButApplied: { changeNumber: 1, addonStatus: 'ACTIVE' } } } }, ['eks-change']);
    const id = await updateAddon(sb, 'v1.13.4-eksbuild.1');
    await sb.gates.eksChange.waitForPending(1);
    sb.gates.eksChange.step();
    expect(sb.controller.updates.get(id)?.status).toBe('Failed');
    expect(sb.addon()).toMatchObject({ addonVersion: 'v1.13.4-eksbuild.1', status: 'ACTIVE' });
  }, 240_000);

  it('degradedRecovers: a DEGRADED add-on turns ACTIVE on its own when the gate lets it', async () => {
    const sb = await start({ name: 'recovers', ...{ addon: { version: 'v1.12.6-eksbuild.2', status: 'DEGRADED' } }, sandbox: { faults: { degradedRecovers: true } } }, ['eks-change']);
    await sb.gates.eksChange.waitForPending(1);
    // DescribeAddon's DEGRADED answer goes through the CLI in the failedButApplied test; here the state is the point.
    expect(sb.addon()?.status).toBe('DEGRADED');
    sb.gates.eksChange.release();
    expect(sb.addon()?.status).toBe('ACTIVE');
  }, 240_000);
});

describe('EKS Pod Identity (scenario pod-identity)', () => {
  it('shows the add-on-owned association, its role trusting pods.eks.amazonaws.com, and the agent running', async () => {
    const sb = await start('pod-identity');
    const addon = (await eksCli(sb, ['describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni'])).json.addon;
    expect(addon.serviceAccountRoleArn).toBeUndefined();
    expect(addon.podIdentityAssociations).toHaveLength(1);
    const list = await eksCli(sb, ['list-pod-identity-associations', '--cluster-name', 'demo', '--namespace', 'kube-system']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.json.associations).toEqual([
      expect.objectContaining({ namespace: 'kube-system', serviceAccount: 'aws-node', ownerArn: addon.addonArn, associationArn: addon.podIdentityAssociations[0] }),
    ]);
    const id = list.json.associations[0].associationId as string;
    const described = await eksCli(sb, ['describe-pod-identity-association', '--cluster-name', 'demo', '--association-id', id]);
    expect(described.json.association.roleArn).toBe('arn:aws:iam::111122223333:role/AmazonEKSPodIdentityAmazonVPCCNIRole');
    // An association the add-on owns is changed through the add-on only.
    await expect(eksSdk(sb).send(new DeletePodIdentityAssociationCommand({ clusterName: 'demo', associationId: id }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });

    // GetRole's URL-encoded trust policy goes through the CLI in sandbox-aws.test.ts; here the scenario's role is the point.
    const role = await iamSdk(sb).send(new GetRoleCommand({ RoleName: 'AmazonEKSPodIdentityAmazonVPCCNIRole' }));
    const trust = JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!)) as Json;
    expect(trust.Statement[0]).toMatchObject({
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
    });
    const agent = await kubectl(sb, ['get', 'daemonset', 'eks-pod-identity-agent', '-n', 'kube-system', '-o', 'json']);
    expect(agent.exitCode, agent.stderr).toBe(0);
    const ds = JSON.parse(agent.stdout) as Json;
    expect(ds.status.numberReady).toBe(ds.status.desiredNumberScheduled);
    const sa = JSON.parse((await kubectl(sb, ['get', 'serviceaccount', 'aws-node', '-n', 'kube-system', '-o', 'json'])).stdout) as Json;
    expect(sa.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
  }, 240_000);

  it('creates, lists, describes and deletes associations; UpdateAddon podIdentityAssociations replaces the owned one', async () => {
    const sb = await start('pod-identity', ['eks-change']);
    const created = await eksCli(sb, [
      'create-pod-identity-association', '--cluster-name', 'demo', '--namespace', 'default', '--service-account', 'app',
      '--role-arn', 'arn:aws:iam::111122223333:role/AppRole',
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.json.association.ownerArn).toBeUndefined();
    const sdk = eksSdk(sb);
    const again = sdk.send(
      new CreatePodIdentityAssociationCommand({ clusterName: 'demo', namespace: 'default', serviceAccount: 'app', roleArn: 'arn:aws:iam::111122223333:role/AppRole' }),
    );
    await expect(again).rejects.toMatchObject({ name: 'ResourceInUseException' });
    expect((await sdk.send(new ListPodIdentityAssociationsCommand({ clusterName: 'demo' }))).associations).toHaveLength(2);
    const gone = await eksCli(sb, ['delete-pod-identity-association', '--cluster-name', 'demo', '--association-id', created.json.association.associationId]);
    expect(gone.exitCode, gone.stderr).toBe(0);
    expect(gone.json.association.serviceAccount).toBe('app');
    const missing = sdk.send(new DescribePodIdentityAssociationCommand({ clusterName: 'demo', associationId: created.json.association.associationId }));
    await expect(missing).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    const role = 'arn:aws:iam::111122223333:role/OtherCniRole';
    const update = await eksCli(sb, [
      'update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--pod-identity-associations', `serviceAccount=aws-node,roleArn=${role}`,
    ]);
    expect(update.exitCode, update.stderr).toBe(0);
    expect(update.json.update.params).toEqual([{ type: 'PodIdentityAssociations', value: JSON.stringify([{ serviceAccount: 'aws-node', roleArn: role }]) }]);
    await sb.gates.eksChange.waitForPending(1);
    sb.gates.eksChange.step();
    const owned = (await sdk.send(new ListPodIdentityAssociationsCommand({ clusterName: 'demo' }))).associations ?? [];
    expect(owned).toHaveLength(1);
    const now = await sdk.send(new DescribePodIdentityAssociationCommand({ clusterName: 'demo', associationId: owned[0]!.associationId }));
    expect(now.association?.roleArn).toBe(role);

    const config = await eksCli(sb, ['describe-addon-configuration', '--addon-name', 'vpc-cni', '--addon-version', 'v1.19.5-eksbuild.1']);
    expect(config.json.podIdentityConfiguration).toEqual([
      { serviceAccount: 'aws-node', recommendedManagedPolicies: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] },
    ]);
  }, 240_000);
});

describe("IAM: reading a role's permissions", () => {
  it("serves AmazonEKS_CNI_Policy's real document through GetPolicy / GetPolicyVersion, and inline policies", async () => {
    const sb = await start({
      name: 'iam-read',
      iam: {
        roles: [
          {
            name: 'AmazonEKSVPCCNIRole',
            attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'],
            inlinePolicies: { 'describe-subnets': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeSubnets', Resource: '*' }] } },
          },
        ],
      },
    });
    // ListAttachedRolePolicies and NoSuchEntity go through the CLI in sandbox-aws.test.ts.
    const iam = iamSdk(sb);
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'AmazonEKSVPCCNIRole' }));
    expect(attached.AttachedPolicies).toEqual([{ PolicyName: 'AmazonEKS_CNI_Policy', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy' }]);
    const policy = await iamCli(sb, ['get-policy', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy']);
    expect(policy.exitCode, policy.stderr).toBe(0);
    expect(policy.json.Policy.DefaultVersionId).toBe('v4');
    const version = await iamCli(sb, ['get-policy-version', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy', '--version-id', 'v4']);
    expect(version.exitCode, version.stderr).toBe(0);
    expect(version.json.PolicyVersion.Document.Statement[0].Action).toEqual(expect.arrayContaining(['ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface']));
    const names = await iamCli(sb, ['list-role-policies', '--role-name', 'AmazonEKSVPCCNIRole']);
    expect(names.json.PolicyNames).toEqual(['describe-subnets']);
    const inline = await iamCli(sb, ['get-role-policy', '--role-name', 'AmazonEKSVPCCNIRole', '--policy-name', 'describe-subnets']);
    expect(inline.json.PolicyDocument.Statement[0].Action).toBe('ec2:DescribeSubnets');
    await expect(iam.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/NoSuchPolicy' }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  }, 240_000);
});

describe('upgrade insights (scenario upgrade-insight-error)', () => {
  it('lists an UPGRADE_READINESS insight in ERROR with the compatible versions, PASSING after the add-on upgrade', async () => {
    const sb = await start('upgrade-insight-error', ['eks-change']);
    const list = await eksCli(sb, ['list-insights', '--cluster-name', 'demo', '--filter', 'categories=UPGRADE_READINESS']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.json.insights).toHaveLength(1);
    const [summary] = list.json.insights as Json[];
    expect(summary).toMatchObject({ category: 'UPGRADE_READINESS', kubernetesVersion: '1.32', insightStatus: { status: 'ERROR' } });
    // Epoch seconds on the wire; the CLI prints them as it got them.
    expect(summary!.lastRefreshTime).toEqual(expect.any(Number));
    expect(summary!.lastTransitionTime).toBeLessThanOrEqual(summary!.lastRefreshTime);
    const insight = (await eksCli(sb, ['describe-insight', '--cluster-name', 'demo', '--id', summary!.id])).json.insight;
    const [detail] = insight.categorySpecificSummary.addonCompatibilityDetails as Json[];
    expect(detail!.name).toBe('vpc-cni');
    expect(detail!.compatibleVersions).toContain('v1.19.5-eksbuild.1');
    expect(detail!.compatibleVersions).not.toContain('v1.18.6-eksbuild.1');
    const sdk = eksSdk(sb);
    const passing = await sdk.send(new ListInsightsCommand({ clusterName: 'demo', filter: { statuses: ['PASSING'] } }));
    expect(passing.insights).toEqual([]);

    await updateAddon(sb, 'v1.19.5-eksbuild.1');
    await sb.gates.eksChange.waitForPending(1);
    sb.gates.eksChange.step();
    const after = await sdk.send(new ListInsightsCommand({ clusterName: 'demo' }));
    expect(after.insights?.[0]?.insightStatus?.status).toBe('PASSING');
    await expect(sdk.send(new DescribeInsightCommand({ clusterName: 'demo', id: 'no-such-insight' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  }, 240_000);
});

describe('EKS Auto Mode (scenario auto-mode)', () => {
  it('DescribeCluster shows compute, block storage and load balancing enabled; no vpc-cni, no aws-node', async () => {
    const sb = await start('auto-mode');
    const cluster = (await eksCli(sb, ['describe-cluster', '--name', 'demo'])).json.cluster;
    expect(cluster.computeConfig).toMatchObject({ enabled: true, nodePools: ['general-purpose', 'system'] });
    expect(cluster.storageConfig).toEqual({ blockStorage: { enabled: true } });
    expect(cluster.kubernetesNetworkConfig.elasticLoadBalancing).toEqual({ enabled: true });
    expect((await eksSdk(sb).send(new ListAddonsCommand({ clusterName: 'demo' }))).addons).toEqual([]);
    const ds = await kubectl(sb, ['get', 'daemonset', 'aws-node', '-n', 'kube-system']);
    expect(ds.exitCode).not.toBe(0);
    expect(ds.stderr).toContain('NotFound');
    const plain = await eksSdk(await start('default')).send(new DescribeClusterCommand({ name: 'demo' }));
    expect(plain.cluster?.computeConfig).toBeUndefined();
  }, 240_000);
});
