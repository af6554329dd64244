/**
 * The EKS of 2025–2026 over in-process facts: Pod Identity, the role's permissions, upgrade insights, Auto Mode
 * and other CNIs, the regional registries, and the advisories kept as data (with their conditions).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClusterFacts, ContainerSpec, ModernFacts } from '../src/domain.js';
import { UsageError } from '../src/errors.js';
import { checkReadiness, evaluateFindings } from '../src/decide/checks/index.js';
import { policiesAllow, rolePermissionsFrom } from '../src/decide/checks/permissions.js';
import { trustAllowsPodIdentity } from '../src/decide/checks/pod-identity.js';
import { buildPlanReport, planFromFacts } from '../src/decide/reports.js';
import { eksImageRegistry, isEksRegistryHost } from '../src/decide/registries.js';
import { registryFor } from '../src/decide/upgrade-preflight.js';
import { loadAdvisories, loadAdvisoriesFile } from '../src/gather/advisories.js';
import { advisoriesFor, holds, SHIPPED_ADVISORIES, type AdvisoryContext } from '../src/upgrade-planner/advisories.js';

const ACCOUNT = '111122223333';
const ECR = '602401143452.dkr.ecr.us-west-2.amazonaws.com';
const PI_ROLE = `arn:aws:iam::${ACCOUNT}:role/AmazonEKSPodIdentityAmazonVPCCNIRole`;
const POD_IDENTITY_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
};

function modern(change: Partial<ModernFacts> = {}): ModernFacts {
  return {
    podIdentityAssociations: [],
    podIdentityAgent: null,
    podIdentityRole: null,
    otherCnis: [],
    insights: { readAt: '2026-11-29T12:00:00.000Z', items: [] },
    rolePermissions: null,
    prometheusAdapterPresent: false,
    crds: {},
    configMapData: {},
    unread: [],
    ...change,
  };
}

/** A managed add-on at `version` on Kubernetes 1.31, no IRSA, with the modern facts read. */
function facts(version = 'v1.19.5-eksbuild.1', change: (f: ClusterFacts) => void = () => {}): ClusterFacts {
  const containers: ContainerSpec[] = [
    { name: 'aws-node', image: `${ECR}/amazon-k8s-cni:${version}`, env: [] },
    { name: 'aws-eks-nodeagent', image: `${ECR}/amazon/aws-network-policy-agent:v1.2.1`, env: [] },
  ];
  const f: ClusterFacts = {
    cluster: { name: 'demo', region: 'us-west-2', arn: null, kubernetesVersion: '1.31', endpoint: null, ipFamily: 'ipv4', oidcIssuer: null },
    addon: { managed: true, version, status: 'ACTIVE', health: [], serviceAccountRoleArn: null, configurationValues: null },
    daemonSet: {
      version,
      images: Object.fromEntries(containers.map((c) => [c.name, c.image])),
      containers,
      initContainers: [{ name: 'aws-vpc-cni-init', image: `${ECR}/amazon-k8s-cni-init:${version}`, env: [] }],
      affinity: null,
      tolerations: null,
      generation: 1,
      observedGeneration: 1,
      desired: 2,
      updated: 2,
      available: 2,
      raw: {},
    },
    catalogue: [
      { version: 'v1.22.2-eksbuild.1', compatibilities: [{ clusterVersion: '1.31', defaultVersion: false }, { clusterVersion: '1.32', defaultVersion: false }] },
      { version: 'v1.22.1-eksbuild.1', compatibilities: [{ clusterVersion: '1.31', defaultVersion: false }, { clusterVersion: '1.32', defaultVersion: false }] },
      { version: 'v1.21.2-eksbuild.1', compatibilities: [{ clusterVersion: '1.31', defaultVersion: false }, { clusterVersion: '1.32', defaultVersion: false }] },
      { version: 'v1.20.1-eksbuild.1', compatibilities: [{ clusterVersion: '1.31', defaultVersion: false }, { clusterVersion: '1.32', defaultVersion: false }] },
      { version: 'v1.19.5-eksbuild.1', compatibilities: [{ clusterVersion: '1.31', defaultVersion: true }, { clusterVersion: '1.32', defaultVersion: true }] },
    ],
    nodes: [],
    eniConfigs: [],
    metricsHelperVersion: null,
    role: null,
    oidcProviderArns: [],
    modern: modern(),
  };
  change(f);
  return f;
}

const ids = (f: ClusterFacts) => evaluateFindings(f).map((x) => `${x.id}:${x.severity}`);

describe('Pod Identity', () => {
  const associated = (f: ClusterFacts) => {
    f.modern!.podIdentityAssociations = [{ associationId: 'a-1', associationArn: null, namespace: 'kube-system', serviceAccount: 'aws-node', roleArn: PI_ROLE, ownerArn: 'arn:aws:eks:…:addon/demo/vpc-cni/x' }];
    f.modern!.podIdentityRole = { arn: PI_ROLE, exists: true, trustPolicy: POD_IDENTITY_TRUST, attachedPolicyArns: [] };
    f.modern!.podIdentityAgent = { name: 'eks-pod-identity-agent', desired: 2, ready: 2 };
  };

  it('with an association and its agent, reports Pod Identity in use and no longer says "irsa-not-configured"', () => {
    const found = ids(facts(undefined, associated));
    expect(found).toContain('pod-identity-in-use:info');
    expect(found.filter((x) => !x.endsWith(':info'))).toEqual([]);
    expect(found).not.toContain('irsa-not-configured:info');
    expect(ids(facts())).toContain('irsa-not-configured:info');
  });
  it('without the eks-pod-identity-agent DaemonSet, is an error (finding and advisory, #3840) and fails check', () => {
    const f = facts(undefined, (x) => { associated(x); x.modern!.podIdentityAgent = null; });
    expect(ids(f)).toEqual(expect.arrayContaining(['pod-identity-agent-not-running:error', 'pod-identity-agent-missing:error']));
    expect(checkReadiness(f, '1.32').pass).toBe(false);
  });
  it('an agent with pods not ready counts as not running', () => {
    expect(ids(facts(undefined, (x) => { associated(x); x.modern!.podIdentityAgent = { name: 'eks-pod-identity-agent', desired: 3, ready: 1 }; }))).toContain('pod-identity-agent-not-running:error');
  });
  it('a role that does not trust pods.eks.amazonaws.com for AssumeRole and TagSession is an error', () => {
    const noTag = { Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    expect(trustAllowsPodIdentity(POD_IDENTITY_TRUST)).toBe(true);
    expect(trustAllowsPodIdentity(noTag)).toBe(false);
    expect(trustAllowsPodIdentity({ Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] })).toBe(false);
    expect(ids(facts(undefined, (x) => { associated(x); x.modern!.podIdentityRole!.trustPolicy = noTag; }))).toContain('pod-identity-trust-policy-mismatch:error');
    expect(ids(facts(undefined, (x) => { associated(x); x.modern!.podIdentityRole!.exists = false; }))).toContain('pod-identity-role-missing:error');
  });
  it('both IRSA and an association is a warning', () => {
    expect(ids(facts(undefined, (x) => { associated(x); x.addon.serviceAccountRoleArn = `arn:aws:iam::${ACCOUNT}:role/AmazonEKSVPCCNIRole`; }))).toContain('pod-identity-and-irsa:warning');
  });
  it('plan guides the move from IRSA to Pod Identity, steps in order', () => {
    const f = facts(undefined, (x) => { x.addon.serviceAccountRoleArn = `arn:aws:iam::${ACCOUNT}:role/AmazonEKSVPCCNIRole`; });
    const report = buildPlanReport(f, planFromFacts(f, 'v1.19.5-eksbuild.1', 'v1.20.1-eksbuild.1'));
    const move = report.findings.find((x) => x.id === 'irsa-to-pod-identity');
    expect(move?.remediation).toMatch(/^1\. Install the EKS Pod Identity Agent.*2\. .*pods\.eks\.amazonaws\.com.*3\. Run `vpccni upgrade --to v1\.20\.1-eksbuild\.1 --pod-identity-role-arn/);
  });
});

describe('the role\'s permissions, read', () => {
  const v4 = { Statement: [{ Effect: 'Allow', Action: ['ec2:AssignPrivateIpAddresses', 'ec2:AttachNetworkInterface', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeInstances', 'ec2:DescribeTags', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstanceTypes', 'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:UnassignPrivateIpAddresses'], Resource: '*' }] };

  it('evaluates Allow, wildcards, NotAction and an explicit Deny', () => {
    expect(policiesAllow([{ Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] }], 'ec2:DescribeSecurityGroups')).toBe(true);
    expect(policiesAllow([{ Statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } }], 'ec2:DescribeSubnets')).toBe(true);
    expect(policiesAllow([{ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'ec2:DescribeSecurityGroups', Resource: '*' }] }], 'ec2:DescribeSecurityGroups')).toBe(false);
    expect(policiesAllow([v4], 'ec2:DescribeSecurityGroups')).toBe(false);
  });
  it('v1.22.1 is a warning while the role is unknown, and an error when its policies lack ec2:DescribeSecurityGroups (#3705)', () => {
    const lacking = rolePermissionsFrom(PI_ROLE, 'pod-identity', { documents: [{ name: 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy', document: v4 }], unreadable: [] }, 'ipv4');
    expect(lacking.allows['ec2:DescribeSecurityGroups']).toBe(false);
    expect(ids(facts('v1.22.1-eksbuild.1'))).toContain('v1.22.1-security-group-discovery:warning');
    expect(ids(facts('v1.22.0-eksbuild.1', (x) => { x.modern!.rolePermissions = lacking; }))).toContain('v1.22.1-security-group-discovery:error');
    const plan = planFromFacts(facts('v1.21.2-eksbuild.1', (x) => { x.modern!.rolePermissions = lacking; }), 'v1.21.2-eksbuild.1', 'latest');
    expect(plan.to).toBe('v1.22.2-eksbuild.1');
    expect(plan.steps.map((s) => s.to)).toEqual(['v1.22.2-eksbuild.1']);
  });
  it('an inline policy granting it makes the advisory a warning again; an unreadable policy leaves it unknown', () => {
    const inline = rolePermissionsFrom(PI_ROLE, 'pod-identity', { documents: [{ name: 'x', document: v4 }, { name: 'inline:sg', document: { Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeSecurityGroups', Resource: '*' }] } }], unreadable: [] }, 'ipv4');
    expect(ids(facts('v1.22.1-eksbuild.1', (x) => { x.modern!.rolePermissions = inline; }))).toContain('v1.22.1-security-group-discovery:warning');
    const partial = rolePermissionsFrom(PI_ROLE, 'pod-identity', { documents: [{ name: 'x', document: v4 }], unreadable: [`arn:aws:iam::${ACCOUNT}:policy/Custom`] }, 'ipv4');
    expect(partial.allows['ec2:DescribeSecurityGroups']).toBeNull();
    expect(ids(facts('v1.22.1-eksbuild.1', (x) => { x.modern!.rolePermissions = partial; }))).toEqual(expect.arrayContaining(['v1.22.1-security-group-discovery:warning', 'cni-role-policies-unreadable:info']));
  });
  it('the managed AmazonEKS_CNI_Policy counts as upstream\'s IPv4 policy when it cannot be read', () => {
    const p = rolePermissionsFrom(PI_ROLE, 'node', { documents: [], unreadable: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] }, 'ipv4');
    expect(p.allows['ec2:DescribeSecurityGroups']).toBe(true);
    expect(p.unreadable).toEqual([]);
  });
  it('a role without the CNI\'s base actions is a warning naming them', () => {
    const bare = rolePermissionsFrom(PI_ROLE, 'irsa', { documents: [{ name: 'x', document: { Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] } }], unreadable: [] }, 'ipv4');
    const finding = evaluateFindings(facts(undefined, (x) => { x.modern!.rolePermissions = bare; })).find((x) => x.id === 'cni-role-permissions-missing');
    expect(finding?.message).toMatch(/does not allow ec2:AssignPrivateIpAddresses, ec2:AttachNetworkInterface, ec2:CreateNetworkInterface/);
  });
});

describe('upgrade insights', () => {
  const insight = (status: string, name = 'EKS add-on version compatibility') => ({
    id: 'd5e34ecc', name, category: 'UPGRADE_READINESS', kubernetesVersion: '1.32', status, reason: 'Add-on vpc-cni is not compatible with Kubernetes 1.32.', description: 'Checks add-on compatibility',
    lastRefreshTime: '2026-11-28T06:00:00.000Z', lastTransitionTime: null, recommendation: 'Upgrade your EKS add-on.', addons: [{ name: 'vpc-cni', compatibleVersions: ['v1.19.5-eksbuild.1'] }],
  });
  it('check fails on an add-on insight in ERROR, naming it and its age; status only warns', () => {
    const f = facts(undefined, (x) => { x.modern!.insights!.items = [insight('ERROR')]; });
    const readiness = checkReadiness(f, '1.32');
    expect(readiness.pass).toBe(false);
    const error = readiness.findings.find((x) => x.id === 'upgrade-insight-error');
    expect(error?.severity).toBe('error');
    expect(error?.message).toContain('"EKS add-on version compatibility" for Kubernetes 1.32 is ERROR');
    expect(error?.message).toContain('30 h before this read');
    expect(readiness.insights).toContain('last refreshed at 2026-11-28T06:00:00.000Z (30 h before this read');
    expect(ids(f)).toContain('upgrade-insight-error:warning');
  });
  it('an insight for another Kubernetes version, or PASSING, does not gate; another topic in ERROR only warns', () => {
    expect(checkReadiness(facts(undefined, (x) => { x.modern!.insights!.items = [{ ...insight('ERROR'), kubernetesVersion: '1.33' }]; }), '1.32').pass).toBe(true);
    expect(checkReadiness(facts(undefined, (x) => { x.modern!.insights!.items = [insight('PASSING')]; }), '1.32').pass).toBe(true);
    const other = checkReadiness(facts(undefined, (x) => { x.modern!.insights!.items = [{ ...insight('ERROR', 'Kubelet version skew'), description: 'Checks kubelet versions', addons: [] }]; }), '1.32');
    expect(other.pass).toBe(true);
    expect(other.findings.find((x) => x.id === 'upgrade-insight-other')?.severity).toBe('warning');
  });
});

describe('Auto Mode and other CNIs', () => {
  const none = (f: ClusterFacts) => { f.daemonSet = null; f.addon = { managed: false, version: null, status: null, health: [], serviceAccountRoleArn: null, configurationValues: null }; };
  it('Auto Mode without aws-node is info, and check passes', () => {
    const f = facts(undefined, (x) => { none(x); x.cluster.autoMode = true; });
    expect(ids(f)).toEqual(['auto-mode:info']);
    expect(checkReadiness(f, '1.32')).toMatchObject({ pass: true, suggestedUpgrade: null });
  });
  it('cilium without aws-node is info and passes; no aws-node and no other CNI is still an error', () => {
    const f = facts(undefined, (x) => { none(x); x.modern!.otherCnis = ['cilium']; });
    expect(ids(f)).toEqual(['other-cni:info']);
    expect(checkReadiness(f, '1.32').pass).toBe(true);
    const broken = facts(undefined, none);
    expect(ids(broken)).toContain('daemonset-missing:error');
    expect(checkReadiness(broken, '1.32').pass).toBe(false);
  });
  it('Auto Mode still fails the gate on an insight in ERROR', () => {
    const f = facts(undefined, (x) => { none(x); x.cluster.autoMode = true; x.modern!.insights!.items = [{ id: 'i', name: 'EKS add-on version compatibility', category: 'UPGRADE_READINESS', kubernetesVersion: '1.32', status: 'ERROR', reason: null, description: null, lastRefreshTime: null, lastTransitionTime: null, recommendation: null, addons: [] }]; });
    expect(checkReadiness(f, '1.32').pass).toBe(false);
  });
});

describe('regional registries', () => {
  it.each([
    ['us-west-2', '602401143452.dkr.ecr.us-west-2.amazonaws.com'],
    ['cn-north-1', '918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn'],
    ['cn-northwest-1', '961992271922.dkr.ecr.cn-northwest-1.amazonaws.com.cn'],
    ['us-gov-west-1', '013241004608.dkr.ecr.us-gov-west-1.amazonaws.com'],
    ['us-gov-east-1', '151742754352.dkr.ecr.us-gov-east-1.amazonaws.com'],
    ['ap-east-1', '800184023465.dkr.ecr.ap-east-1.amazonaws.com'],
    ['me-central-1', '759879836304.dkr.ecr.me-central-1.amazonaws.com'],
    ['xx-newregion-9', '602401143452.dkr.ecr.xx-newregion-9.amazonaws.com'],
  ])('%s → %s', (region, host) => {
    expect(eksImageRegistry(region)).toBe(host);
    expect(isEksRegistryHost(host)).toBe(true);
  });
  it('the OVERWRITE preview compares against the region\'s registry, not 602401143452 everywhere', () => {
    const cn = facts(undefined, (x) => {
      x.cluster.region = 'cn-north-1';
      for (const c of x.daemonSet!.containers) c.image = c.image.replace(ECR, '918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn');
      x.daemonSet!.images = Object.fromEntries(x.daemonSet!.containers.map((c) => [c.name, c.image]));
    });
    expect(registryFor(cn)).toBe('918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn');
    const mirror = facts(undefined, (x) => { x.cluster.region = 'us-gov-west-1'; x.daemonSet!.images['aws-node'] = 'registry.example.com/amazon-k8s-cni:v1.19.5'; });
    expect(registryFor(mirror)).toBe('013241004608.dkr.ecr.us-gov-west-1.amazonaws.com');
    expect(isEksRegistryHost('registry.example.com')).toBe(false);
  });
});

describe('advisories as data', () => {
  const BASE: AdvisoryContext = { kubernetesVersion: '1.27', customNetworking: false, podEni: false, nodeAgentImageTag: null, nodeAgentPresent: false, networkPolicyEnforcingModeSet: false };
  const at = (version: string, context: Partial<AdvisoryContext>) => advisoriesFor(version, { ...BASE, ...context }).map((f) => `${f.id}:${f.severity}`);

  it('the shipped file validates against its schema, with unique ids and a source for each', () => {
    const loaded = loadAdvisoriesFile(join(import.meta.dirname, '..', 'advisories', 'advisories.json'));
    expect(loaded.advisories.map((a) => a.id)).toEqual(SHIPPED_ADVISORIES.map((a) => a.id));
    for (const a of loaded.advisories) expect(a.source).toMatch(/CHANGELOG|github\.com|README|EKS UG/);
  });
  it('prometheus-adapter: v1.12.5 – v1.13.1 on Kubernetes 1.27+, fixed in v1.13.2 (#2393, CHANGELOG v1.13.2)', () => {
    expect(at('v1.13.0-eksbuild.1', { prometheusAdapterPresent: true })).toContain('v1.12-prometheus-adapter-kubernetes-1.27:error');
    expect(at('v1.12.6-eksbuild.2', { prometheusAdapterPresent: true, kubernetesVersion: '1.28' })).toContain('v1.12-prometheus-adapter-kubernetes-1.27:error');
    expect(at('v1.13.2-eksbuild.1', { prometheusAdapterPresent: true })).toEqual([]);
    expect(at('v1.13.0-eksbuild.1', { prometheusAdapterPresent: null })).toEqual([]);
  });
  it('v1.15.0 is an error with custom networking (#2584, #2653), a warning without', () => {
    expect(at('v1.15.0-eksbuild.2', { customNetworking: true })).toEqual(['v1.15.0-cninode-crd:error']);
    expect(at('v1.15.0-eksbuild.2', {})).toEqual(['v1.15.0-cninode-crd:warning']);
  });
  it('v1.13.0 with custom networking and an ENIConfig without security groups (#2426)', () => {
    expect(at('v1.13.0-eksbuild.1', { customNetworking: true, eniConfigWithoutSecurityGroups: true })).toEqual(['v1.13.0-custom-networking-eniconfig-without-security-groups:error']);
    expect(at('v1.13.0-eksbuild.1', { customNetworking: true, eniConfigWithoutSecurityGroups: false })).toEqual([]);
  });
  it('adoption conflicts: imagePullPolicy from v1.18.4 (#3059) and the policyendpoints CRD before v1.22.1 (npc #200)', () => {
    const live = { 'imagePullPolicy.aws-vpc-cni-init': 'IfNotPresent', 'imagePullPolicy.aws-eks-nodeagent': 'Always' };
    expect(at('v1.19.5-eksbuild.1', { managed: false, facts: live })).toContain('v1.18.4-image-pull-policy-adoption:warning');
    expect(at('v1.19.5-eksbuild.1', { managed: true, facts: live })).not.toContain('v1.18.4-image-pull-policy-adoption:warning');
    expect(at('v1.18.3-eksbuild.1', { managed: false, facts: live })).not.toContain('v1.18.4-image-pull-policy-adoption:warning');
    expect(at('v1.23.0-eksbuild.1', { managed: false, facts: live })).not.toContain('v1.18.4-image-pull-policy-adoption:warning');
    expect(at('v1.21.2-eksbuild.1', { managed: false, facts: { 'crd.policyendpoints.networking.k8s.aws': true } })).toContain('policyendpoints-crd-conflict-on-create:warning');
    expect(at('v1.22.1-eksbuild.1', { managed: false, facts: { 'crd.policyendpoints.networking.k8s.aws': true } })).not.toContain('policyendpoints-crd-conflict-on-create:warning');
  });
  it('enable-windows-ipam set by hand conflicts from v1.18.0 unless the configuration values set it (#2877); v1.18.3 eniconfigs CRD (#3028)', () => {
    expect(at('v1.18.0-eksbuild.1', { managed: true, facts: { 'configMap.enable-windows-ipam': 'true' } })).toContain('v1.18-enable-windows-ipam-conflict:warning');
    expect(at('v1.18.0-eksbuild.1', { managed: true, facts: { 'configMap.enable-windows-ipam': 'true', 'config.enableWindowsIpam': 'true' } })).not.toContain('v1.18-enable-windows-ipam-conflict:warning');
    expect(at('v1.18.3-eksbuild.1', { managed: true })).toContain('v1.18.3-eniconfig-crd-conflict:warning');
  });
  it('the condition language: all, any, not, is, equals, notEquals, range; unknown facts satisfy nothing', () => {
    const c = { ...BASE, facts: { 'env.X': 'true' } };
    expect(holds({ all: [{ fact: 'env.X', equals: 'true' }, { not: { fact: 'podEni', is: true } }] }, c)).toBe(true);
    expect(holds({ any: [{ fact: 'env.Y', equals: 'true' }, { fact: 'kubernetesVersion', range: '>=1.27' }] }, c)).toBe(true);
    expect(holds({ fact: 'env.Y', notEquals: 'true' }, c)).toBe(false);
    expect(holds({ fact: 'nodeAgentVersion', range: '<1.4.1' }, c)).toBe(false);
  });
  it('a newer file replaces the shipped list; a bad one is a UsageError in one sentence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-adv-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ schemaVersion: 1, advisories: [{ id: 'v1.19.5-test', versions: ['1.19.5'], severity: 'error', message: 'A test advisory for v1.19.5.', remediation: 'Use another.', source: 'https://github.com/example/issue/1' }] }));
    const loaded = loadAdvisories(good);
    expect(ids(facts(undefined, (x) => { x.advisories = loaded.advisories; }))).toContain('v1.19.5-test:error');
    // The newer list replaces the shipped one: v1.22.1's advisory no longer applies.
    expect(planFromFacts(facts('v1.21.2-eksbuild.1', (x) => { x.advisories = loaded.advisories; }), 'v1.21.2-eksbuild.1', 'v1.22.1-eksbuild.1').findings).toEqual([]);
    for (const [name, text, pattern] of [
      ['json.json', '{', /is not valid JSON/],
      ['schema.json', JSON.stringify({ schemaVersion: 1, advisories: [{ id: 'x', versions: ['1.0.0'], severity: 'fatal', message: 'm', remediation: 'r', source: 's' }] }), /at \/advisories\/0\/severity/],
      ['range.json', JSON.stringify({ schemaVersion: 1, advisories: [{ id: 'x', versions: ['one point two'], severity: 'error', message: 'm', remediation: 'r', source: 's' }] }), /not a semver range/],
      ['dup.json', JSON.stringify({ schemaVersion: 1, advisories: [1, 2].map(() => ({ id: 'x', versions: ['1.0.0'], severity: 'error', message: 'm', remediation: 'r', source: 's' })) }), /twice/],
    ] as const) {
      writeFileSync(join(dir, name), text);
      let error: unknown;
      try { loadAdvisoriesFile(join(dir, name)); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(pattern);
      expect((error as Error).message.split('\n')).toHaveLength(1);
    }
  });
});
