import { describe, expect, it } from 'vitest';
import { ADVISORIES, advisoriesFor, isExcluded, type AdvisoryContext } from '../src/upgrade-planner/advisories.js';
import realNames from '../fixtures/describe-addon-versions/aws-cli-example3.k8s-1.26.vpc-cni.addonVersion-list.json' with { type: 'json' };

const BASE: AdvisoryContext = {
  kubernetesVersion: '1.30',
  customNetworking: false,
  podEni: false,
  nodeAgentImageTag: 'v1.4.1',
  nodeAgentPresent: true,
  networkPolicyEnforcingModeSet: false,
};

const ids = (version: string, context: Partial<AdvisoryContext> = {}) =>
  advisoriesFor(version, { ...BASE, ...context }).map((f) => `${f.id}:${f.severity}`);

describe('advisoriesFor', () => {
  it.each<[string, Partial<AdvisoryContext>, string[]]>([
    ['v1.19.4-eksbuild.1', { customNetworking: true }, ['v1.19.4-custom-networking-sgp:error']],
    ['v1.19.4-eksbuild.1', { podEni: true }, ['v1.19.4-custom-networking-sgp:error']],
    ['v1.19.4-eksbuild.1', {}, []],
    ['v1.19.3-eksbuild.1', { customNetworking: true, podEni: true }, []],
    ['v1.19.5-eksbuild.1', { customNetworking: true, podEni: true }, []],
    ['v1.16.0-eksbuild.1', { kubernetesVersion: '1.23' }, ['v1.16.0-cni-spec-kubernetes-1.23:error']],
    ['v1.16.1-eksbuild.1', { kubernetesVersion: '1.21' }, ['v1.16.0-cni-spec-kubernetes-1.23:error']],
    ['v1.16.0-eksbuild.1', { kubernetesVersion: '1.24' }, []],
    ['v1.16.2-eksbuild.1', { kubernetesVersion: '1.23' }, []],
    ['v1.16.3-eksbuild.2', {}, ['v1.16.3-livelock:warning']],
    ['v1.16.4-eksbuild.2', {}, []],
    ['v1.23.0-eksbuild.1', { nodeAgentImageTag: 'v1.3.5' }, ['v1.23-node-agent-v1.4.1-required:error']],
    ['v1.23.0', { nodeAgentImageTag: 'v1.4.0-eksbuild.1' }, ['v1.23-node-agent-v1.4.1-required:error']],
    ['v1.23.0-eksbuild.1', { nodeAgentImageTag: 'v1.4.1' }, []],
    ['v1.23.0-eksbuild.1', { nodeAgentImageTag: null }, []],
    ['v1.22.4-eksbuild.1', { nodeAgentImageTag: 'v1.3.5' }, []],
    ['v1.22.1-eksbuild.1', {}, ['v1.22.1-security-group-discovery:warning']],
    ['v1.22.1-eksbuild.1', { roleAllows: { 'ec2:DescribeSecurityGroups': null } }, ['v1.22.1-security-group-discovery:warning']],
    ['v1.22.1-eksbuild.1', { roleAllows: { 'ec2:DescribeSecurityGroups': false } }, ['v1.22.1-security-group-discovery:error']],
    ['v1.22.2-eksbuild.1', { roleAllows: { 'ec2:DescribeSecurityGroups': false } }, []],
    ['v1.14.0-eksbuild.3', {}, ['v1.14.0-node-agent-port-8080:warning']],
    ['v1.14.1-eksbuild.1', {}, []],
    ['v1.12.6-eksbuild.2', { kubernetesVersion: '1.27', prometheusAdapterPresent: true }, ['v1.12-prometheus-adapter-kubernetes-1.27:error']],
    ['v1.12.5-eksbuild.2', { kubernetesVersion: '1.27', prometheusAdapterPresent: true }, ['v1.12-prometheus-adapter-kubernetes-1.27:error']],
    ['v1.12.6-eksbuild.2', { kubernetesVersion: '1.27' }, []],
    ['v1.12.6-eksbuild.2', { kubernetesVersion: '1.26', prometheusAdapterPresent: true }, []],
    ['v1.12.0-eksbuild.2', { kubernetesVersion: '1.27', prometheusAdapterPresent: true }, []],
    ['v1.15.0-eksbuild.2', {}, ['v1.15.0-cninode-crd:warning']],
    ['v1.15.1-eksbuild.1', {}, []],
    ['v1.19.4-eksbuild.1', { networkPolicyEnforcingModeSet: true, nodeAgentPresent: false }, ['network-policy-enforcing-mode-without-agent:error']],
    ['v1.20.0-eksbuild.1', { networkPolicyEnforcingModeSet: true, nodeAgentPresent: false }, ['network-policy-enforcing-mode-without-agent:error']],
    ['v1.19.3-eksbuild.1', { networkPolicyEnforcingModeSet: true, nodeAgentPresent: false }, []],
    ['v1.20.0-eksbuild.1', { networkPolicyEnforcingModeSet: true, nodeAgentPresent: true }, []],
    ['not-a-version', { customNetworking: true }, []],
  ])('%s in %j → %j', (version, context, expected) => {
    expect(ids(version, context)).toEqual(expected);
  });

  it('a finding names the version and says what to do', () => {
    const [finding] = advisoriesFor('v1.19.4-eksbuild.1', { ...BASE, customNetworking: true });
    expect(finding?.message).toMatch(/^v1\.19\.4-eksbuild\.1: /);
    expect(finding?.remediation).toBe('Go to v1.19.5 or later, or stay on v1.19.3.');
  });
});

describe('isExcluded', () => {
  it.each([
    ['v1.19.4-eksbuild.1', { customNetworking: true }, true],
    ['v1.16.3-eksbuild.2', {}, false],
    ['v1.22.1-eksbuild.1', {}, false],
    ['v1.22.1-eksbuild.1', { roleAllows: { 'ec2:DescribeSecurityGroups': false } }, true],
  ])('%s in %j: %s', (version, context, expected) => {
    expect(isExcluded(version, { ...BASE, ...context })).toBe(expected);
  });

  it('on the real 1.26 list with custom networking and SGP on Kubernetes 1.23, v1.16.0 and v1.15.0 (CNINode, #2584) are excluded', () => {
    const context = { ...BASE, kubernetesVersion: '1.23', customNetworking: true, podEni: true };
    expect((realNames as string[]).filter((v) => isExcluded(v, context))).toEqual(['v1.16.0-eksbuild.1', 'v1.15.0-eksbuild.2']);
  });
});

describe('the advisory table', () => {
  it('has unique kebab-case ids, a message, a remediation and a source for each entry', () => {
    expect(new Set(ADVISORIES.map((a) => a.id)).size).toBe(ADVISORIES.length);
    for (const a of ADVISORIES) {
      expect(a.id).toMatch(/^[a-z0-9]+(?:[.-][a-z0-9]+)*$/);
      expect(a.message.length).toBeGreaterThan(20);
      expect(a.remediation.length).toBeGreaterThan(10);
      expect(a.source.length).toBeGreaterThan(10);
    }
  });
});
