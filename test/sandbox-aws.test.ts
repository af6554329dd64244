/**
 * The sandbox's AWS side through the real AWS CLI (v1, botocore) and the real AWS SDK v3 over HTTP on
 * 127.0.0.1: if they parse our answers and errors, so will vpccni's gateways.
 */
import { DescribeAddonVersionsCommand, EKSClient, paginateDescribeAddonVersions } from '@aws-sdk/client-eks';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitImage, type KubeObject } from '../src/decide/manifests.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';

let sandbox: RunningSandbox;
const home = mkdtempSync(join(tmpdir(), 'vpccni-aws-test-'));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function aws(service: 'eks' | 'iam', args: string[]): Promise<CliResult> {
  const endpoint = service === 'eks' ? sandbox.eksEndpoint : sandbox.iamEndpoint;
  return new Promise((resolve) => {
    execFile(
      'aws',
      [service, ...args, '--endpoint-url', endpoint, '--output', 'json'],
      {
        env: {
          PATH: process.env.PATH,
          HOME: home,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_DEFAULT_REGION: 'us-west-2',
          AWS_CONFIG_FILE: join(home, 'no-config'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
          AWS_MAX_ATTEMPTS: '1',
          AWS_PAGER: '',
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) });
      },
    );
  });
}

beforeAll(async () => {
  sandbox = await startSandbox('default', { dir: home });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('EKS emulator through the AWS CLI', () => {
  it('describes the cluster, the add-on and its versions', async () => {
    const [cluster, addon, versions, list] = await Promise.all([
      aws('eks', ['describe-cluster', '--name', 'demo']),
      aws('eks', ['describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni']),
      aws('eks', ['describe-addon-versions', '--addon-name', 'vpc-cni', '--kubernetes-version', '1.27', '--page-size', '3']),
      aws('eks', ['list-addons', '--cluster-name', 'demo']),
    ]);
    expect(cluster.code, cluster.stderr).toBe(0);
    const c = cluster.json().cluster;
    expect(c).toMatchObject({
      name: 'demo',
      arn: 'arn:aws:eks:us-west-2:111122223333:cluster/demo',
      version: '1.27',
      status: 'ACTIVE',
      endpoint: sandbox.kubeEndpoint,
      kubernetesNetworkConfig: { ipFamily: 'ipv4' },
      identity: { oidc: { issuer: 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE' } },
    });
    expect(addon.code, addon.stderr).toBe(0);
    expect(addon.json().addon).toMatchObject({
      addonName: 'vpc-cni',
      clusterName: 'demo',
      addonVersion: 'v1.12.6-eksbuild.2',
      status: 'ACTIVE',
      serviceAccountRoleArn: 'arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole',
      health: { issues: [] },
    });
    // epoch seconds on the wire, as EKS sends them (CLI v1 prints them unchanged)
    expect(typeof addon.json().addon.createdAt).toBe('number');
    expect(list.json().addons).toEqual(['vpc-cni']);

    // EKS pages by add-on (issue 9): one vpc-cni entry carrying every version, on one page.
    expect(versions.code, versions.stderr).toBe(0);
    const infos = versions.json().addons as Array<{ addonName: string; addonVersions: any[] }>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(infos).toHaveLength(1);
    expect(sandbox.log.entries.filter((e) => e.operation === 'DescribeAddonVersions')).toHaveLength(1);
    const all = infos.flatMap((a) => a.addonVersions);
    const names = all.map((v) => v.addonVersion);
    expect(names[0]).toBe('v1.14.0-eksbuild.3');
    expect(names).toContain('v1.13.4-eksbuild.1');
    expect(names).not.toContain('v1.14.1-eksbuild.1');
    const defaults = all.filter((v) => v.compatibilities[0].defaultVersion).map((v) => v.addonVersion);
    expect(defaults).toEqual(['v1.12.6-eksbuild.2']);
    expect(all.every((v) => v.compatibilities.length === 1 && v.compatibilities[0].clusterVersion === '1.27')).toBe(true);
  });

  it('serves the configuration schema as a string, and ResourceNotFoundException for unknown things', async () => {
    const [config, missingCluster, missingAddon] = await Promise.all([
      aws('eks', ['describe-addon-configuration', '--addon-name', 'vpc-cni', '--addon-version', 'v1.13.4-eksbuild.1']),
      aws('eks', ['describe-cluster', '--name', 'nope']),
      aws('eks', ['describe-addon', '--cluster-name', 'demo', '--addon-name', 'coredns']),
    ]);
    expect(config.code, config.stderr).toBe(0);
    const schema = JSON.parse(config.json().configurationSchema as string);
    expect(schema.$schema).toBe('http://json-schema.org/draft-06/schema#');
    expect(Object.keys(schema.definitions.Env.properties)).toContain('WARM_IP_TARGET');
    expect([254, 255]).toContain(missingCluster.code);
    expect(missingCluster.stderr).toContain('(ResourceNotFoundException) when calling the DescribeCluster operation: No cluster found for name: nope.');
    expect(missingAddon.stderr).toContain('ResourceNotFoundException');
  });

  it('rejects what EKS rejects, with EKS wording', async () => {
    const [skip, preserve, invalid, notOffered] = await Promise.all([
      aws('eks', ['update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--addon-version', 'v1.14.0-eksbuild.3']),
      aws('eks', ['create-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--resolve-conflicts', 'PRESERVE']),
      aws('eks', [
        'update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--addon-version', 'v1.13.4-eksbuild.1',
        '--configuration-values', '{"env":{"AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER":"false"}}',
      ]),
      aws('eks', ['update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni', '--addon-version', 'v1.15.1-eksbuild.1']),
    ]);
    expect([254, 255]).toContain(skip.code);
    expect(skip.stderr).toContain(
      'An error occurred (InvalidParameterException) when calling the UpdateAddon operation: Updating VPC-CNI can only go up or down 1 minor version at a time',
    );
    expect(preserve.stderr).toContain(
      '(InvalidParameterException) when calling the CreateAddon operation: Resolve conflicts option preserve is not supported for operation CreateAddon',
    );
    expect(invalid.stderr).toContain(
      'ConfigurationValue provided in request is not supported [$.env.AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER: is not defined in the schema and the schema does not allow additional properties]',
    );
    expect(notOffered.stderr).toContain('Addon version specified is not supported');
    expect(sandbox.addon()?.status).toBe('ACTIVE');
  });

  it('updates one minor version and rolls the DaemonSet to the new images', async () => {
    sandbox.gates.eksChange.hold();
    const update = await aws('eks', [
      'update-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni',
      '--addon-version', 'v1.13.4-eksbuild.1', '--resolve-conflicts', 'OVERWRITE',
    ]);
    expect(update.code, update.stderr).toBe(0);
    const { id, status, type } = update.json().update;
    expect({ status, type }).toEqual({ status: 'InProgress', type: 'AddonUpdate' });
    // Nothing moves while the eks-change gate is held (the test took it before the call): still InProgress.
    const describe = async () =>
      (await aws('eks', ['describe-update', '--name', 'demo', '--update-id', id, '--addon-name', 'vpc-cni'])).json().update.status;
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
    expect(role.code, role.stderr).toBe(0);
    const r = role.json().Role;
    expect(r.Arn).toBe('arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole');
    // botocore URL-decodes and parses the trust policy, as it does for real IAM
    const statement = r.AssumeRolePolicyDocument.Statement[0];
    expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(statement.Condition.StringEquals['oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub']).toBe(
      'system:serviceaccount:kube-system:aws-node',
    );
    expect(policies.json().AttachedPolicies).toEqual([
      { PolicyName: 'AmazonEKS_CNI_Policy', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy' },
    ]);
    expect(providers.json().OpenIDConnectProviderList).toEqual([
      { Arn: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE' },
    ]);
    expect([254, 255]).toContain(missing.code);
    expect(missing.stderr).toContain('An error occurred (NoSuchEntity) when calling the GetRole operation: The role with name Nope cannot be found.');
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
