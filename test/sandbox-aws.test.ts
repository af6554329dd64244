/**
 * The sandbox's AWS side through the real AWS CLI (v1, botocore) and the real AWS SDK v3 over HTTP on
 * 127.0.0.1: if they parse our answers and errors, so will vpccni's gateways.
 *
 * The CLI reads each shape once (DescribeAddonVersions, DescribeUpdate and the other error shapes go through it in
 * sandbox-eks-conformance.test.ts); what EKS decides (the version list, its wording) is read with the SDK.
 */
import {
  DescribeAddonCommand,
  DescribeAddonVersionsCommand,
  DescribeUpdateCommand,
  CreateAddonCommand,
  EKSClient,
  paginateDescribeAddonVersions,
  UpdateAddonCommand,
} from '@aws-sdk/client-eks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitImage, type KubeObject } from '../src/decide/manifests.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { aws as awsCli, type AwsResult } from './helpers/aws-cli.js';
import { eksSdk } from './helpers/aws-sdk.js';

let sandbox: RunningSandbox;
let sdk: EKSClient;
const home = mkdtempSync(join(tmpdir(), 'vpccni-aws-test-'));

function aws(service: 'eks' | 'iam', args: string[]): Promise<AwsResult> {
  const endpoint = service === 'eks' ? sandbox.eksEndpoint : sandbox.iamEndpoint;
  return awsCli(endpoint, [service, ...args], { region: 'us-west-2', accessKeyId: 'test', secretAccessKey: 'test' });
}

/**
 * What the AWS CLI prints for a service error: `An error occurred (Code) when calling the Op operation: message`
 * (with " (reached max retries: 0)" before the colon under the standard retry mode the helper sets).
 */
function cliError(code: string, operation: string, message: string): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`An error occurred \\(${code}\\) when calling the ${operation} operation( \\(reached max retries: \\d+\\))?: ${escape(message)}`);
}

/** The error an SDK call rejects with (name and message), or 'resolved'. */
async function failure(call: Promise<unknown>): Promise<{ name: string; message: string } | 'resolved'> {
  try {
    await call;
    return 'resolved';
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
}

beforeAll(async () => {
  sandbox = await startSandbox('default', { dir: home });
  sdk = eksSdk(sandbox, { accessKeyId: 'test', secretAccessKey: 'test' });
});
afterAll(async () => {
  sdk?.destroy();
  await sandbox?.close();
});

describe('EKS emulator through the AWS CLI', () => {
  it('describes the cluster, the add-on and its versions', async () => {
    const [cluster, addon, list] = await Promise.all([
      aws('eks', ['describe-cluster', '--name', 'demo']),
      aws('eks', ['describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni']),
      aws('eks', ['list-addons', '--cluster-name', 'demo']),
    ]);
    const versions = await sdk.send(new DescribeAddonVersionsCommand({ addonName: 'vpc-cni', kubernetesVersion: '1.27', maxResults: 3 }));
    expect(cluster.exitCode, cluster.stderr).toBe(0);
    const c = cluster.json.cluster;
    expect(c).toMatchObject({
      name: 'demo',
      arn: 'arn:aws:eks:us-west-2:111122223333:cluster/demo',
      version: '1.27',
      status: 'ACTIVE',
      endpoint: sandbox.kubeEndpoint,
      certificateAuthority: { data: sandbox.caData },
      kubernetesNetworkConfig: { ipFamily: 'ipv4' },
      identity: { oidc: { issuer: 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE' } },
    });
    expect(addon.exitCode, addon.stderr).toBe(0);
    expect(addon.json.addon).toMatchObject({
      addonName: 'vpc-cni',
      clusterName: 'demo',
      addonVersion: 'v1.12.6-eksbuild.2',
      status: 'ACTIVE',
      serviceAccountRoleArn: 'arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole',
      health: { issues: [] },
    });
    // epoch seconds on the wire, as EKS sends them (CLI v1 prints them unchanged)
    expect(typeof addon.json.addon.createdAt).toBe('number');
    expect(list.json.addons).toEqual(['vpc-cni']);

    // EKS pages by add-on (issue 9): one vpc-cni entry carrying every version, on one page.
    const infos = versions.addons ?? [];
    expect(infos).toHaveLength(1);
    expect(versions.nextToken).toBeUndefined();
    expect(sandbox.log.entries.filter((e) => e.operation === 'DescribeAddonVersions')).toHaveLength(1);
    const all = infos.flatMap((a) => a.addonVersions ?? []);
    const names = all.map((v) => v.addonVersion);
    expect(names[0]).toBe('v1.14.0-eksbuild.3');
    expect(names).toContain('v1.13.4-eksbuild.1');
    expect(names).not.toContain('v1.14.1-eksbuild.1');
    const defaults = all.filter((v) => v.compatibilities?.[0]?.defaultVersion).map((v) => v.addonVersion);
    expect(defaults).toEqual(['v1.12.6-eksbuild.2']);
    expect(all.every((v) => v.compatibilities?.length === 1 && v.compatibilities[0]!.clusterVersion === '1.27')).toBe(true);
  });

  it('serves the configuration schema as a string, and ResourceNotFoundException for unknown things', async () => {
    const [config, missingCluster] = await Promise.all([
      aws('eks', ['describe-addon-configuration', '--addon-name', 'vpc-cni', '--addon-version', 'v1.13.4-eksbuild.1']),
      aws('eks', ['describe-cluster', '--name', 'nope']),
    ]);
    expect(config.exitCode, config.stderr).toBe(0);
    const schema = JSON.parse(config.json.configurationSchema as string);
    expect(schema.$schema).toBe('http://json-schema.org/draft-06/schema#');
    expect(Object.keys(schema.definitions.Env.properties)).toContain('WARM_IP_TARGET');
    expect([254, 255]).toContain(missingCluster.exitCode);
    expect(missingCluster.stderr).toMatch(cliError('ResourceNotFoundException', 'DescribeCluster', 'No cluster found for name: nope.'));
    expect(await failure(sdk.send(new DescribeAddonCommand({ clusterName: 'demo', addonName: 'coredns' })))).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('rejects what EKS rejects, with EKS wording', async () => {
    // The CLI prints one refusal as a user sees it; the others' wording is EKS's logic, read with the SDK.
    const [skip, preserve, invalid, notOffered] = await Promise.all([
      aws('eks', ['update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--addon-version', 'v1.14.0-eksbuild.3']),
      failure(sdk.send(new CreateAddonCommand({ clusterName: 'demo', addonName: 'vpc-cni', resolveConflicts: 'PRESERVE' }))),
      failure(
        sdk.send(
          new UpdateAddonCommand({
            clusterName: 'demo',
            addonName: 'vpc-cni',
            addonVersion: 'v1.13.4-eksbuild.1',
            configurationValues: '{"env":{"AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER":"false"}}',
          }),
        ),
      ),
      failure(sdk.send(new UpdateAddonCommand({ clusterName: 'demo', addonName: 'vpc-cni', addonVersion: 'v1.15.1-eksbuild.1' }))),
    ]);
    expect([254, 255]).toContain(skip.exitCode);
    expect(skip.stderr).toMatch(cliError('InvalidParameterException', 'UpdateAddon', 'Updating VPC-CNI can only go up or down 1 minor version at a time'));
    expect(preserve).toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('Resolve conflicts option preserve is not supported for operation CreateAddon'),
    });
    expect(invalid).toMatchObject({ name: 'InvalidParameterException' });
    expect(invalid !== 'resolved' && invalid.message).toContain(
      'ConfigurationValue provided in request is not supported [$.env.AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER: is not defined in the schema and the schema does not allow additional properties]',
    );
    expect(notOffered).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('Addon version specified is not supported') });
    expect(sandbox.addon()?.status).toBe('ACTIVE');
  });

  it('updates one minor version and rolls the DaemonSet to the new images', async () => {
    sandbox.gates.eksChange.hold();
    const update = await aws('eks', [
      'update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni',
      '--addon-version', 'v1.13.4-eksbuild.1', '--resolve-conflicts', 'OVERWRITE',
    ]);
    expect(update.exitCode, update.stderr).toBe(0);
    const { id, status, type } = update.json.update;
    expect({ status, type }).toEqual({ status: 'InProgress', type: 'AddonUpdate' });
    // Nothing moves while the eks-change gate is held (the test took it before the call): still InProgress.
    // (DescribeUpdate through the CLI: sandbox-eks-conformance.test.ts.)
    const describe = async () => (await sdk.send(new DescribeUpdateCommand({ name: 'demo', updateId: id, addonName: 'vpc-cni' }))).update?.status;
    expect(await describe()).toBe('InProgress');
    sandbox.gates.eksChange.release();
    expect(await describe()).toBe('Successful');
    expect(sandbox.addon()).toMatchObject({ addonVersion: 'v1.13.4-eksbuild.1', status: 'ACTIVE' });
    const ds = sandbox.store.get('apps/v1', 'DaemonSet', 'aws-node', 'kube-system') as KubeObject;
    const pod = (ds.spec as { template: { spec: { containers: Array<{ image: string }>; initContainers: Array<{ image: string }> } } }).template.spec;
    const tags = [...pod.containers, ...pod.initContainers].map((c) => splitImage(c.image).tag);
    expect(tags).toEqual(['v1.13.4-eksbuild.1', 'v1.13.4-eksbuild.1']);
    expect(sandbox.log.mutating().map((e) => e.operation)).toContain('UpdateAddon');
  });
});

describe('IAM emulator through the AWS CLI', () => {
  it('answers GetRole, ListAttachedRolePolicies, ListOpenIDConnectProviders and NoSuchEntity', async () => {
    const [role, policies, providers, missing] = await Promise.all([
      aws('iam', ['get-role', '--role-name', 'AmazonEKSVPCCNIRole']),
      aws('iam', ['list-attached-role-policies', '--role-name', 'AmazonEKSVPCCNIRole']),
      aws('iam', ['list-open-id-connect-providers']),
      aws('iam', ['get-role', '--role-name', 'Nope']),
    ]);
    expect(role.exitCode, role.stderr).toBe(0);
    const r = role.json.Role;
    expect(r.Arn).toBe('arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole');
    // botocore URL-decodes and parses the trust policy, as it does for real IAM
    const statement = r.AssumeRolePolicyDocument.Statement[0];
    expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(statement.Condition.StringEquals['oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub']).toBe(
      'system:serviceaccount:kube-system:aws-node',
    );
    expect(policies.json.AttachedPolicies).toEqual([
      { PolicyName: 'AmazonEKS_CNI_Policy', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy' },
    ]);
    expect(providers.json.OpenIDConnectProviderList).toEqual([
      { Arn: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE' },
    ]);
    expect([254, 255]).toContain(missing.exitCode);
    expect(missing.stderr).toMatch(cliError('NoSuchEntity', 'GetRole', 'The role with name Nope cannot be found.'));
  });
});

describe('EKS emulator through the AWS SDK v3', () => {
  it('pages DescribeAddonVersions with the paginator', async () => {
    const client = new EKSClient({
      endpoint: sandbox.eksEndpoint,
      region: 'us-west-2',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const versions: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeAddonVersions({ client, pageSize: 4 }, { addonName: 'vpc-cni', kubernetesVersion: '1.28' })) {
      pages++;
      for (const addon of page.addons ?? []) versions.push(...(addon.addonVersions ?? []).map((v) => v.addonVersion ?? ''));
    }
    // Pages count add-ons, not versions: the one add-on fits a page of 4 with all its versions.
    expect(pages).toBe(1);
    expect(versions).toEqual(['v1.15.1-eksbuild.1', 'v1.15.0-eksbuild.2', 'v1.14.1-eksbuild.1', 'v1.14.0-eksbuild.3', 'v1.13.4-eksbuild.1']);
    const bad = client.send(new DescribeAddonVersionsCommand({ addonName: 'vpc-cni', nextToken: 'garbage' }));
    await expect(bad).rejects.toMatchObject({ name: 'InvalidParameterException' });
    client.destroy();
  });
});
