/**
 * Tags on the sandbox's add-on as EKS serves them (eks-service-2.json): the scenario's `tags`, CreateAddon's
 * `tags`, and TagResource / UntagResource / ListTagsForResource on the add-on ARN, driven by the AWS CLI.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { loadScenario } from '../src/sandbox/scenario.js';
import { aws as awsCli, type AwsResult } from './helpers/aws-cli.js';

const CFN_TAGS = {
  'aws:cloudformation:stack-name': 'demo-addons',
  'aws:cloudformation:stack-id': 'arn:aws:cloudformation:us-west-2:111122223333:stack/demo-addons/5b8c7e10-3a2f-11ef-9d4b-0a1b2c3d4e5f',
  'aws:cloudformation:logical-id': 'VpcCniAddon',
};

describe('add-on tags through the AWS CLI', () => {
  let sandbox: RunningSandbox;
  const eks = (args: string[]): Promise<AwsResult> => awsCli(sandbox.eksEndpoint, ['eks', ...args], { region: 'us-west-2' });
  beforeAll(async () => {
    sandbox = await startSandbox('cloudformation-owned');
  });
  afterAll(() => sandbox?.close());

  it('describe-addon shows the scenario tags; tag-resource, list-tags-for-resource and untag-resource work on the add-on ARN', async () => {
    const described = await eks(['describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni']);
    expect(described.exitCode, described.stderr).toBe(0);
    expect(described.json.addon.tags).toEqual(CFN_TAGS);
    const arn: string = described.json.addon.addonArn;

    const tagged = await eks(['tag-resource', '--resource-arn', arn, '--tags', 'team=network,ManagedBy=CloudFormation']);
    expect(tagged.exitCode, tagged.stderr).toBe(0);
    const listed = await eks(['list-tags-for-resource', '--resource-arn', arn]);
    expect(listed.json.tags).toEqual({ ...CFN_TAGS, team: 'network', ManagedBy: 'CloudFormation' });

    const untagged = await eks(['untag-resource', '--resource-arn', arn, '--tag-keys', 'team']);
    expect(untagged.exitCode, untagged.stderr).toBe(0);
    const after = await eks(['describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni']);
    expect(after.json.addon.tags).toEqual({ ...CFN_TAGS, ManagedBy: 'CloudFormation' });
    expect(sandbox.log.mutating().map((e) => e.operation)).toEqual(['TagResource', 'UntagResource']);
  });

  it("refuses the reserved aws: prefix and an ARN it does not know, as EKS's BadRequestException and NotFoundException", async () => {
    const arn = sandbox.controller.addon!.addonArn;
    const [reserved, unknown] = await Promise.all([
      eks(['tag-resource', '--resource-arn', arn, '--tags', 'aws:cloudformation:stack-name=other']),
      eks(['list-tags-for-resource', '--resource-arn', `${arn.slice(0, -4)}0000`]),
    ]);
    expect(reserved.exitCode).not.toBe(0);
    expect(reserved.stderr).toMatch(/\(BadRequestException\) when calling the TagResource operation.*aws: prefix/);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toMatch(/\(NotFoundException\) when calling the ListTagsForResource operation/);
    expect(sandbox.controller.addon!.tags['aws:cloudformation:stack-name']).toBe('demo-addons');
  });
});

describe('CreateAddon tags and the cluster ARN', () => {
  it('create-addon --tags puts the tags on the new add-on; tag-resource on the cluster ARN shows in describe-cluster', async () => {
    const sandbox = await startSandbox('self-managed-custom-networking');
    try {
      const eks = (args: string[]) => awsCli(sandbox.eksEndpoint, ['eks', ...args], { region: sandbox.region });
      const created = await eks([
        'create-addon', '--cluster-name', sandbox.cluster, '--addon-name', 'vpc-cni', '--addon-version', 'v1.13.4-eksbuild.1',
        '--resolve-conflicts', 'OVERWRITE', '--tags', 'ManagedBy=Terraform',
      ]);
      expect(created.exitCode, created.stderr).toBe(0);
      expect(created.json.addon.tags).toEqual({ ManagedBy: 'Terraform' });
      const clusterArn = `arn:aws:eks:${sandbox.region}:${sandbox.accountId}:cluster/${sandbox.cluster}`;
      const tagged = await eks(['tag-resource', '--resource-arn', clusterArn, '--tags', 'env=test']);
      expect(tagged.exitCode, tagged.stderr).toBe(0);
      const cluster = await eks(['describe-cluster', '--name', sandbox.cluster]);
      expect(cluster.json.cluster.tags).toEqual({ env: 'test' });
    } finally {
      await sandbox.close();
    }
  });

  it('the scenario schema refuses add-on tags EKS could not hold', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-tags-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `name: bad\naddon:\n  version: v1.12.6-eksbuild.2\n  tags:\n    ${'k'.repeat(129)}: x\n`);
    expect(() => loadScenario(file)).toThrow(/tags/);
  });
});
