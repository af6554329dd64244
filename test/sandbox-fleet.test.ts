/**
 * The multi-cluster sandbox (scenario `fleet`) as `vpccni sandbox serve fleet` serves it, driven by the
 * real AWS CLI v1 (EKS routed by the SigV4 region and the access key's account, STS AssumeRole across
 * accounts) and the real kubectl (one Kubernetes API per cluster, one context each).
 *
 * The AWS CLI drives the routing (SigV4 region, access key, session token) and each error shape once; what each
 * cluster holds is the scenario's data, read with the AWS SDK in-process.
 */
import { DescribeAddonCommand, DescribeClusterCommand, ListAddonsCommand, ListClustersCommand, ListInsightsCommand } from '@aws-sdk/client-eks';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';
import { serve, type Served } from './helpers/serve.js';
import { aws } from './helpers/aws-cli.js';
import { eksSdk } from './helpers/aws-sdk.js';

interface FleetLine {
  eksEndpoint: string;
  iamEndpoint: string;
  stsEndpoint: string;
  kubeconfig: string;
  regions: string[];
  clusters: Array<{ cluster: string; region: string; account: string; kubernetesVersion: string; context: string }>;
  accounts: Array<{ account: string; accessKeyId: string; secretAccessKey: string; denyAccess: boolean }>;
}

let served: Served;
let line: FleetLine;
beforeAll(async () => {
  served = await serve('fleet');
  line = served.info as unknown as FleetLine;
}, 60_000);
afterAll(async () => {
  await served?.stop();
});

function keys(account: string): { accessKeyId: string; secretAccessKey: string } {
  const entry = line.accounts.find((a) => a.account === account);
  if (!entry) throw new Error(`no account ${account}`);
  return { accessKeyId: entry.accessKeyId, secretAccessKey: entry.secretAccessKey };
}

const eks = (account: string, region: string, args: string[]) => aws(line.eksEndpoint, ['eks', ...args], { region, ...keys(account) });
const sdk = (account: string, region: string) => eksSdk({ region, eksEndpoint: line.eksEndpoint }, keys(account));

useInProcessCli();

describe('vpccni sandbox serve fleet', () => {
  it('prints the regions, the clusters with their region and account, and the credentials per account', () => {
    expect(schemaErrors('sandbox-serve', line)).toEqual([]);
    expect(line.regions).toEqual(['eu-west-1', 'us-west-2']);
    expect(line.clusters.length).toBeGreaterThanOrEqual(8);
    expect(new Set(line.clusters.map((c) => c.account))).toEqual(new Set(['111122223333', '444455556666', '777788889999']));
    expect(line.clusters).toContainEqual(expect.objectContaining({ cluster: 'prod-euw1-a', region: 'eu-west-1', account: '111122223333' }));
    expect(line.accounts.find((a) => a.account === '777788889999')?.denyAccess).toBe(true);
    expect(line.stsEndpoint).toBe(line.iamEndpoint);
  });

  it('ListClusters answers per region and per account (the access key chooses the account)', async () => {
    const west = await eks('111122223333', 'us-west-2', ['list-clusters']);
    expect(west.exitCode, west.stderr).toBe(0);
    expect(west.json.clusters).toEqual(['legacy-usw2', 'prod-usw2-a', 'prod-usw2-b']);
    // Another region and another account: the CLI signs both into the request; the SDK reads the third corner.
    expect((await eks('444455556666', 'eu-west-1', ['list-clusters'])).json.clusters).toEqual(['auto-euw1', 'stage-euw1']);
    expect((await sdk('111122223333', 'eu-west-1').send(new ListClustersCommand({}))).clusters).toEqual(['prod-euw1-a', 'slow-euw1']);
    // A cluster of another region is not found from this one.
    const elsewhere = await eks('111122223333', 'us-west-2', ['describe-cluster', '--name', 'prod-euw1-a']);
    expect(elsewhere.stderr).toContain('(ResourceNotFoundException)');
  }, 240_000);

  it('each cluster has its own state: version, add-on, DEGRADED, Auto Mode', async () => {
    // The scenario's data per cluster (these shapes go through the CLI in sandbox-eks-conformance.test.ts).
    const degraded = await sdk('111122223333', 'eu-west-1').send(new DescribeAddonCommand({ clusterName: 'prod-euw1-a', addonName: 'vpc-cni' }));
    expect(degraded.addon).toMatchObject({ status: 'DEGRADED', addonVersion: 'v1.19.5-eksbuild.1' });
    const auto = await sdk('444455556666', 'eu-west-1').send(new DescribeClusterCommand({ name: 'auto-euw1' }));
    expect(auto.cluster?.computeConfig?.enabled).toBe(true);
    expect(auto.cluster?.arn).toBe('arn:aws:eks:eu-west-1:444455556666:cluster/auto-euw1');
    const west = sdk('111122223333', 'us-west-2');
    expect((await west.send(new ListAddonsCommand({ clusterName: 'legacy-usw2' }))).addons).toEqual([]);
    expect((await west.send(new ListInsightsCommand({ clusterName: 'prod-usw2-b' }))).insights?.[0]?.insightStatus?.status).toBe('ERROR');
    expect((await west.send(new ListInsightsCommand({ clusterName: 'prod-usw2-a' }))).insights?.[0]?.insightStatus?.status).toBe('PASSING');
  }, 240_000);

  it('the account that denies access answers AccessDeniedException to every call', async () => {
    const list = await eks('777788889999', 'us-west-2', ['list-clusters']);
    expect(list.exitCode).not.toBe(0);
    expect(list.stderr).toContain('(AccessDeniedException)');
    expect(list.stderr).toContain('is not authorized to perform: eks:ListClusters');
    const iam = await aws(line.iamEndpoint, ['iam', 'get-role', '--role-name', 'AmazonEKSVPCCNIRole'], { region: 'us-west-2', ...keys('777788889999') });
    expect(iam.stderr).toContain('(AccessDenied)');
    const unknown = eksSdk({ region: 'us-west-2', eksEndpoint: line.eksEndpoint }, { accessKeyId: 'AKIANOBODYKNOWS00000', secretAccessKey: 'x' }).send(new ListClustersCommand({}));
    await expect(unknown).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  }, 240_000);

  it('the cluster that times out never answers (the client gives up), its neighbours do', async () => {
    const started = Date.now();
    const slow = await aws(line.eksEndpoint, ['eks', 'describe-cluster', '--name', 'slow-euw1', '--cli-read-timeout', '2'], {
      region: 'eu-west-1',
      ...keys('111122223333'),
    });
    expect(slow.exitCode).not.toBe(0);
    expect(slow.stderr).toMatch(/Read timeout/i);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    const fine = await sdk('111122223333', 'eu-west-1').send(new DescribeClusterCommand({ name: 'prod-euw1-a' }));
    expect(fine.cluster?.name).toBe('prod-euw1-a');
  }, 240_000);

  it('STS: GetCallerIdentity per key, AssumeRole into the other account, whose clusters those credentials see', async () => {
    const sts = (args: string[], creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
      aws(line.stsEndpoint, ['sts', ...args], { region: 'us-west-2', ...creds });
    const assumed = await sts(
      ['assume-role', '--role-arn', 'arn:aws:iam::444455556666:role/VpccniFleetReadOnly', '--role-session-name', 'vpccni-fleet'],
      keys('111122223333'),
    );
    expect(assumed.exitCode, assumed.stderr).toBe(0);
    expect(assumed.json.AssumedRoleUser.Arn).toBe('arn:aws:sts::444455556666:assumed-role/VpccniFleetReadOnly/vpccni-fleet');
    const creds = {
      accessKeyId: assumed.json.Credentials.AccessKeyId as string,
      secretAccessKey: assumed.json.Credentials.SecretAccessKey as string,
      sessionToken: assumed.json.Credentials.SessionToken as string,
    };
    const me = await sts(['get-caller-identity'], creds);
    expect(me.exitCode, me.stderr).toBe(0);
    expect(me.json.Account).toBe('444455556666');
    const clusters = await aws(line.eksEndpoint, ['eks', 'list-clusters'], { region: 'us-west-2', ...creds });
    expect(clusters.json.clusters).toEqual(['stage-usw2', 'stage-usw2-sm']);
    const refused = await sts(
      ['assume-role', '--role-arn', 'arn:aws:iam::444455556666:role/NoSuchRole', '--role-session-name', 'x1'],
      keys('111122223333'),
    );
    expect(refused.stderr).toContain('(AccessDenied)');
  }, 240_000);

  it('kubectl reaches each cluster through its own context and API', async () => {
    const kubectl = (context: string) =>
      execa('kubectl', ['--kubeconfig', line.kubeconfig, '--context', context, 'get', 'daemonset', 'aws-node', '-n', 'kube-system', '-o', 'json'], {
        reject: false,
        env: isolatedEnv(),
      });
    const ctx = (name: string) => line.clusters.find((c) => c.cluster === name)?.context ?? '';
    const a = JSON.parse(String((await kubectl(ctx('prod-usw2-b'))).stdout)) as { spec: { template: { spec: { containers: Array<{ image: string }> } } } };
    expect(a.spec.template.spec.containers[0]?.image).toMatch(/:v1\.18\.6-eksbuild\.1$/);
    const b = JSON.parse(String((await kubectl(ctx('stage-usw2-sm'))).stdout)) as typeof a;
    expect(b.spec.template.spec.containers[0]?.image).toMatch(/:v1\.16\.4$/);
    const auto = await kubectl(ctx('auto-euw1'));
    expect(String(auto.stderr)).toContain('NotFound');
  }, 240_000);

  it('vpccni --scenario fleet works in-process on the first cluster, with its account\'s credentials', async () => {
    const result = await vpccniInProcess(['status', '--scenario', 'fleet', '--output', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).cluster).toMatchObject({ name: 'prod-usw2-a', region: 'us-west-2', kubernetesVersion: '1.31' });
  }, 240_000);
});
