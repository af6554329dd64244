/**
 * DescribeAddonVersions without `--addon-name` lists the other AWS add-ons too (coredns, kube-proxy, …), as real
 * EKS does (fixtures/catalogues/other-addons.json), driven by the AWS CLI; and vpccni asks for vpc-cni alone
 * whatever else EKS offers.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEksGateway } from '../src/gateways/eks.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { aws as awsCli } from './helpers/aws-cli.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { parseJson } from './helpers/cli.js';

useInProcessCli();

let sandbox: RunningSandbox;
beforeAll(async () => {
  sandbox = await startSandbox('default');
});
afterAll(() => sandbox?.close());

type Addon = { addonName: string; type: string; owner: string; publisher: string; addonVersions: Array<{ addonVersion: string; compatibilities: Array<{ clusterVersion: string; defaultVersion: boolean }> }> };

describe('DescribeAddonVersions lists every AWS add-on', () => {
  it('aws eks describe-addon-versions --kubernetes-version 1.27 lists vpc-cni, coredns and kube-proxy with their compatibilities', async () => {
    const [all, coredns, storage] = await Promise.all([
      awsCli(sandbox.eksEndpoint, ['eks', 'describe-addon-versions', '--kubernetes-version', '1.27'], { region: 'us-west-2' }),
      awsCli(sandbox.eksEndpoint, ['eks', 'describe-addon-versions', '--addon-name', 'coredns'], { region: 'us-west-2' }),
      awsCli(sandbox.eksEndpoint, ['eks', 'describe-addon-versions', '--types', 'storage', '--kubernetes-version', '1.30'], { region: 'us-west-2' }),
    ]);
    expect(all.exitCode, all.stderr).toBe(0);
    const addons = all.json.addons as Addon[];
    expect(addons.map((a) => [a.addonName, a.type, a.owner, a.publisher])).toEqual([
      ['vpc-cni', 'networking', 'aws', 'eks'],
      ['coredns', 'networking', 'aws', 'eks'],
      ['kube-proxy', 'networking', 'aws', 'eks'],
    ]);
    const byName = new Map(addons.map((a) => [a.addonName, a]));
    // The EKS user guide's latest add-on version for 1.27 (fixtures/README.md).
    expect(byName.get('coredns')?.addonVersions.map((v) => v.addonVersion)).toEqual(['v1.10.1-eksbuild.7']);
    expect(byName.get('kube-proxy')?.addonVersions).toEqual([
      expect.objectContaining({ addonVersion: 'v1.27.10-eksbuild.2', compatibilities: [{ clusterVersion: '1.27', platformVersions: ['*'], defaultVersion: false }] }),
    ]);
    // Without a Kubernetes version, each version carries every compatibility.
    const corednsAll = (coredns.json.addons as Addon[])[0]!;
    expect(corednsAll.addonName).toBe('coredns');
    expect(corednsAll.addonVersions.find((v) => v.addonVersion === 'v1.9.3-eksbuild.11')?.compatibilities.map((c) => c.clusterVersion)).toEqual(['1.26', '1.25', '1.24']);
    expect((storage.json.addons as Addon[]).map((a) => a.addonName)).toEqual(['aws-ebs-csi-driver']);
  });

  it('vpccni asks for vpc-cni by name on every DescribeAddonVersions call', async () => {
    const asked: Array<Record<string, unknown>> = [];
    const client = new EKSClient({ endpoint: sandbox.eksEndpoint, region: sandbox.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DescribeAddonVersionsCommand') asked.push(args.input as Record<string, unknown>);
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const eks = createEksGateway({ region: sandbox.region, eksEndpoint: sandbox.eksEndpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, clients: { eks: client } }, sandbox.cluster);
      const [all, for127] = await Promise.all([eks.describeAddonVersions(), eks.describeAddonVersions('1.27')]);
      expect(all.map((e) => e.version)).toContain('v1.14.0-eksbuild.3');
      expect(all.map((e) => e.version)).not.toContain('v1.10.1-eksbuild.7');
      expect(for127.every((e) => e.version.startsWith('v1.1'))).toBe(true);
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.every((input) => input.addonName === 'vpc-cni')).toBe(true);
    } finally {
      client.destroy();
    }
    // And the whole status run offers only vpc-cni versions.
    const status = parseJson<{ versions: { latest: string; default: string }; upgradePath: string[] }>(await onSandboxInProcess(sandbox, ['status', '--output', 'json']));
    expect(status.versions.latest).toBe('v1.14.0-eksbuild.3');
    expect(status.upgradePath).toEqual(['v1.13.4-eksbuild.1', 'v1.14.0-eksbuild.3']);
  });
});
