/**
 * The EKS of 2025–2026 end to end: the CLI in-process (main(argv), helpers/in-process.ts) against the sandbox
 * (real SDK over HTTP, real kubectl), the AWS CLI as an independent client: Auto Mode, upgrade insights, Pod
 * Identity (read and set), the role's permissions, regional registries, and the advisories file. The
 * `advisories` listing spawns the real, built CLI.
 */
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { awsCommand } from './helpers/aws-cli.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { isolatedEnv, parseJson, sandboxEnv, sandboxFlags, vpccni } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';

interface Finding { id: string; severity: string; message: string; remediation?: string }

const dir = mkdtempSync(join(tmpdir(), 'vpccni-eks2025-'));
function scenarioFile(name: string, body: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, ...body }));
  return file;
}
const ids = (findings: Finding[]) => findings.map((f) => `${f.id}:${f.severity}`);
const PI_ROLE = 'arn:aws:iam::111122223333:role/AmazonEKSPodIdentityAmazonVPCCNIRole';

useInProcessCli();

describe('Auto Mode and upgrade insights gate `check`', () => {
  it('check on auto-mode passes: no aws-node is needed', async () => {
    const result = await vpccniInProcess(['--scenario', 'auto-mode', 'check', '--output', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseJson<{ pass: boolean; findings: Finding[] }>(result);
    expect(schemaErrors('check', report)).toEqual([]);
    expect(report.pass).toBe(true);
    expect(ids(report.findings)).toContain('auto-mode:info');
    expect(ids(report.findings)).not.toContain('daemonset-missing:error');
    const text = await vpccniInProcess(['--scenario', 'auto-mode', 'status']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('Networking  EKS Auto Mode (no aws-node needed)');
  });

  it('check on upgrade-insight-error fails naming the insight and its refresh time', async () => {
    const result = await vpccniInProcess(['--scenario', 'upgrade-insight-error', 'check', '--kubernetes-version', '1.32']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/✖ error \[upgrade-insight-error\] EKS upgrade insight "EKS add-on version compatibility" for Kubernetes 1\.32 is ERROR/);
    expect(result.stdout).toMatch(/^EKS upgrade insights: the upgrade insights were last refreshed at \d{4}-\d\d-\d\dT.* h before this read/m);
    const json = parseJson<{ upgradeInsights: { items: Array<{ name: string; status: string }> } }>(await vpccniInProcess(['--scenario', 'upgrade-insight-error', 'status', '--output', 'json']));
    expect(schemaErrors('status', json)).toEqual([]);
    expect(json.upgradeInsights.items).toEqual([expect.objectContaining({ name: 'EKS add-on version compatibility', status: 'ERROR' })]);
  });
});

describe('Pod Identity', () => {
  it('status shows the association and the agent, not "the node role is used"', async () => {
    const result = await vpccniInProcess(['--scenario', 'pod-identity', 'status', '--output', 'json']);
    const report = parseJson<{ addon: { podIdentityAssociations: Array<{ roleArn: string; ownerArn: string | null }>; podIdentityAgent: { ready: number }; rolePermissions: { via: string } }; findings: Finding[] }>(result);
    expect(schemaErrors('status', report)).toEqual([]);
    expect(report.addon.podIdentityAssociations).toEqual([expect.objectContaining({ roleArn: PI_ROLE })]);
    expect(report.addon.podIdentityAssociations[0]!.ownerArn).toMatch(/:addon\/demo\/vpc-cni\//);
    expect(report.addon.podIdentityAgent.ready).toBeGreaterThan(0);
    expect(report.addon.rolePermissions.via).toBe('pod-identity');
    expect(ids(report.findings)).toContain('pod-identity-in-use:info');
    expect(ids(report.findings)).not.toContain('irsa-not-configured:info');
  });

  it('without the eks-pod-identity-agent, status and check fail (#3840)', async () => {
    const file = scenarioFile('pod-identity-no-agent', {
      cluster: { kubernetesVersion: '1.31' },
      addon: { version: 'v1.19.5-eksbuild.1', serviceAccountRoleArn: null },
      catalogueSnapshot: 'mid-2025',
      podIdentityAssociations: [{ namespace: 'kube-system', serviceAccount: 'aws-node', roleArn: PI_ROLE, ownedByAddon: true }],
      podIdentityAgent: null,
      iam: { roles: [{ name: 'AmazonEKSPodIdentityAmazonVPCCNIRole', trust: 'pod-identity', attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] }] },
    });
    const check = parseJson<{ pass: boolean; findings: Finding[] }>(await vpccniInProcess(['--scenario', file, 'check', '--output', 'json']));
    expect(check.pass).toBe(false);
    expect(ids(check.findings)).toEqual(expect.arrayContaining(['pod-identity-agent-not-running:error', 'pod-identity-agent-missing:error']));
  });

  describe('upgrade --pod-identity-role-arn moves aws-node from IRSA to Pod Identity', () => {
    let sb: RunningSandbox | undefined;
    afterAll(async () => sb?.close());

    it('sets the association with the update; the AWS CLI sees it owned by the add-on', async () => {
      const file = scenarioFile('irsa-to-pod-identity', {
        cluster: { kubernetesVersion: '1.31' },
        addon: { version: 'v1.19.5-eksbuild.1' },
        catalogueSnapshot: 'mid-2025',
        podIdentityAgent: { imageTag: 'v0.1.29' },
        iam: {
          roles: [
            { name: 'AmazonEKSVPCCNIRole' },
            { name: 'AmazonEKSPodIdentityAmazonVPCCNIRole', trust: 'pod-identity', attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] },
            { name: 'NotTrusted', attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] },
          ],
        },
      });
      sb = await startSandbox(file);
      const served = { flags: sandboxFlags(sb), info: { eksEndpoint: sb.eksEndpoint, cluster: sb.cluster } };
      // The AWS CLI v1 reads AWS_DEFAULT_REGION.
      const env = sandboxEnv(sb, { AWS_DEFAULT_REGION: sb.region });
      const plan = parseJson<{ findings: Finding[] }>(await vpccniInProcess([...served.flags, 'plan', '--to', 'v1.20.1-eksbuild.1', '--output', 'json'], { env }));
      expect(plan.findings.find((f) => f.id === 'irsa-to-pod-identity')?.remediation).toMatch(/--pod-identity-role-arn/);

      const refused = await vpccniInProcess([...served.flags, 'upgrade', '--to', 'v1.20.1-eksbuild.1', '--yes', '--pod-identity-role-arn', 'arn:aws:iam::111122223333:role/NotTrusted'], { env });
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/does not let pods\.eks\.amazonaws\.com call sts:AssumeRole and sts:TagSession/);

      const both = await vpccniInProcess([...served.flags, 'upgrade', '--to', 'v1.20.1-eksbuild.1', '--pod-identity-role-arn', PI_ROLE, '--service-account-role-arn', 'arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole'], { env });
      expect(both.exitCode).toBe(2);

      const backups = mkdtempSync(join(tmpdir(), 'vpccni-pi-backup-'));
      const upgraded = await vpccniInProcess([...served.flags, 'upgrade', '--to', 'v1.20.1-eksbuild.1', '--yes', '--pod-identity-role-arn', PI_ROLE, '--backup-dir', backups], { env, cwd: backups });
      expect(upgraded.exitCode, upgraded.stderr).toBe(0);

      const aws = (args: string[]) => execa(awsCommand(), [...args, '--endpoint-url', served.info.eksEndpoint, '--output', 'json'], { env, reject: false });
      const listed = await aws(['eks', 'list-pod-identity-associations', '--cluster-name', served.info.cluster, '--namespace', 'kube-system', '--service-account', 'aws-node']);
      expect(listed.exitCode, String(listed.stderr)).toBe(0);
      const associations = (JSON.parse(String(listed.stdout)) as { associations: Array<{ associationId: string; ownerArn?: string }> }).associations;
      expect(associations).toHaveLength(1);
      expect(associations[0]!.ownerArn).toMatch(/:addon\/demo\/vpc-cni\//);
      const described = await aws(['eks', 'describe-pod-identity-association', '--cluster-name', served.info.cluster, '--association-id', associations[0]!.associationId]);
      expect((JSON.parse(String(described.stdout)) as { association: { roleArn: string } }).association.roleArn).toBe(PI_ROLE);

      const status = parseJson<{ addon: { version: string; podIdentityAssociations: Array<{ roleArn: string }> } }>(await vpccniInProcess([...served.flags, 'status', '--output', 'json'], { env }));
      expect(status.addon.version).toBe('v1.20.1-eksbuild.1');
      expect(status.addon.podIdentityAssociations.map((a) => a.roleArn)).toEqual([PI_ROLE]);
    }, 120_000);
  });
});

describe('the role\'s permissions gate v1.22.0 – v1.22.1 (#3705)', () => {
  const catalogue = ['v1.22.2-eksbuild.1', 'v1.22.1-eksbuild.2', 'v1.21.2-eksbuild.2'].map((version) => ({ version, compatibilities: [{ clusterVersion: '1.33' }, { clusterVersion: '1.34' }] }));
  it('the sandbox role (AmazonEKS_CNI_Policy v4, no ec2:DescribeSecurityGroups) makes v1.22.1 an error; latest skips it', async () => {
    const file = scenarioFile('v1.22-role', { cluster: { kubernetesVersion: '1.33' }, addon: { version: 'v1.21.2-eksbuild.2' }, catalogue });
    const to = await vpccniInProcess(['--scenario', file, 'plan', '--to', 'v1.22.1-eksbuild.2']);
    expect(to.exitCode).toBe(1);
    expect(to.stdout).toMatch(/✖ error \[v1\.22\.1-security-group-discovery\]/);
    const latest = parseJson<{ to: string }>(await vpccniInProcess(['--scenario', file, 'plan', '--to', 'latest', '--output', 'json']));
    expect(latest.to).toBe('v1.22.2-eksbuild.1');
  });
  it('an inline policy granting ec2:DescribeSecurityGroups brings it back to a warning', async () => {
    const file = scenarioFile('v1.22-role-inline', {
      cluster: { kubernetesVersion: '1.33' },
      addon: { version: 'v1.21.2-eksbuild.2' },
      catalogue,
      iam: { roles: [{ name: 'AmazonEKSVPCCNIRole', inlinePolicies: { sg: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets'], Resource: '*' }] } } }] },
    });
    const to = await vpccniInProcess(['--scenario', file, 'plan', '--to', 'v1.22.1-eksbuild.2']);
    expect(to.exitCode, to.stdout).toBe(0);
    expect(to.stdout).toMatch(/▲ warning \[v1\.22\.1-security-group-discovery\]/);
  });
});

describe('regional registries', () => {
  it('in cn-north-1 the images come from 918309763551 and the OVERWRITE preview shows no image change', async () => {
    const file = scenarioFile('china', { cluster: { region: 'cn-north-1', kubernetesVersion: '1.31' }, addon: { version: 'v1.19.5-eksbuild.1' }, catalogueSnapshot: 'mid-2025' });
    const status = parseJson<{ daemonSet: { images: Record<string, string> } }>(await vpccniInProcess(['--scenario', file, 'status', '--output', 'json']));
    expect(status.daemonSet.images['aws-node']).toBe('918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/amazon-k8s-cni:v1.19.5-eksbuild.1');
    const dry = await vpccniInProcess(['--scenario', file, 'upgrade', '--to', 'v1.20.1-eksbuild.1', '--resolve-conflicts', 'OVERWRITE', '--dry-run', '--yes', '--output', 'json']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const report = parseJson<{ resetByOverwrite?: Array<{ field: string }> }>(dry);
    expect((report.resetByOverwrite ?? []).filter((r) => /image/i.test(r.field))).toEqual([]);
  });
});

describe('advisories kept as data', () => {
  it('`vpccni advisories` lists them with sources (text and JSON)', async () => {
    const json = await vpccniInProcess(['advisories', '--output', 'json']);
    expect(json.exitCode).toBe(0);
    const report = parseJson<{ advisories: Array<{ id: string; source: string }> }>(json);
    expect(schemaErrors('advisories-output', report)).toEqual([]);
    expect(report.advisories.map((a) => a.id)).toEqual(expect.arrayContaining(['pod-identity-agent-missing', 'v1.13.0-custom-networking-eniconfig-without-security-groups', 'policyendpoints-crd-conflict-on-create']));
    // The real, built CLI, spawned: the one end-to-end run of advisories.
    const text = await vpccni(['advisories']);
    expect(text.stdout).toMatch(/^v1\.12-prometheus-adapter-kubernetes-1\.27 {2}>=1\.12\.5 <1\.13\.2/m);
    expect(text.stdout).toContain('source: https://github.com/aws/amazon-vpc-cni-k8s/issues/3840');
  });
  it('a newer file (--advisories or VPCCNI_ADVISORIES) is used without a new release; a bad one is exit 2 in one sentence', async () => {
    const newer = join(dir, 'newer.json');
    writeFileSync(newer, JSON.stringify({ schemaVersion: 1, advisories: [{ id: 'v1.12.6-new-finding', versions: ['1.12.6'], severity: 'warning', message: 'A newly found problem of v1.12.6.', remediation: 'Upgrade.', source: 'https://github.com/aws/amazon-vpc-cni-k8s/issues/0' }] }));
    const viaFlag = parseJson<{ findings: Finding[] }>(await vpccniInProcess(['--sandbox', '--advisories', newer, 'status', '--output', 'json']));
    expect(ids(viaFlag.findings)).toContain('v1.12.6-new-finding:warning');
    const viaEnv = parseJson<{ findings: Finding[] }>(await vpccniInProcess(['--sandbox', 'status', '--output', 'json'], { env: isolatedEnv({ VPCCNI_ADVISORIES: newer }) }));
    expect(ids(viaEnv.findings)).toContain('v1.12.6-new-finding:warning');
    const listed = parseJson<{ file: string; advisories: unknown[] }>(await vpccniInProcess(['--advisories', newer, 'advisories', '--output', 'json']));
    expect(listed).toMatchObject({ file: newer, advisories: [expect.objectContaining({ id: 'v1.12.6-new-finding' })] });

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ schemaVersion: 1, advisories: [{ id: 'x', versions: ['1.0.0'] }] }));
    const refused = await vpccniInProcess(['--sandbox', '--advisories', bad, 'status']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^vpccni: The advisories file .*bad\.json does not match schemas\/advisories\.schema\.json \(at \/advisories\/0: must have required property 'severity'\)/)]);
  });
});
