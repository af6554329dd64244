import { describe, expect, it } from 'vitest';
import type { CatalogueEntry, ClusterFacts, ContainerSpec, Finding } from '../src/domain.js';
import { UsageError } from '../src/errors.js';
import { advisoryContextFrom, checkReadiness, evaluateFindings, sortFindings } from '../src/decide/checks/index.js';
import { imageTag } from '../src/decide/checks/context.js';

const ACCOUNT = '111122223333';
const ISSUER = 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const ISSUER_HOST = ISSUER.replace('https://', '');
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_HOST}`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/AmazonEKSVPCCNIRole`;
const ECR = '602401143452.dkr.ecr.us-west-2.amazonaws.com';

function entry(version: string, clusters: string[], defaults: string[] = []): CatalogueEntry {
  return { version, compatibilities: clusters.map((clusterVersion) => ({ clusterVersion, defaultVersion: defaults.includes(clusterVersion) })) };
}

/** Real version names; Kubernetes 1.27 stops at v1.19.x here, 1.31 starts at v1.18.5. */
const CATALOGUE: CatalogueEntry[] = [
  entry('v1.23.0-eksbuild.1', ['1.31', '1.32']),
  entry('v1.20.0-eksbuild.1', ['1.30', '1.31', '1.32']),
  entry('v1.19.5-eksbuild.1', ['1.27', '1.28', '1.29', '1.30', '1.31']),
  entry('v1.19.4-eksbuild.1', ['1.27', '1.28', '1.29', '1.30', '1.31']),
  entry('v1.19.3-eksbuild.1', ['1.27', '1.28', '1.29', '1.30', '1.31']),
  entry('v1.19.0-eksbuild.1', ['1.27', '1.28', '1.29', '1.30', '1.31'], ['1.31']),
  entry('v1.18.5-eksbuild.1', ['1.27', '1.28', '1.29', '1.30', '1.31'], ['1.30']),
  entry('v1.14.0-eksbuild.3', ['1.23', '1.24', '1.25', '1.26', '1.27']),
  entry('v1.13.4-eksbuild.1', ['1.23', '1.24', '1.25', '1.26', '1.27']),
  entry('v1.12.6-eksbuild.2', ['1.23', '1.24', '1.25', '1.26', '1.27'], ['1.27']),
];

/** Required node affinity of the upstream v1.19.5 manifest (excludes hybrid). */
const AFFINITY_V119 = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] },
            { key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate', 'hybrid', 'auto'] },
          ],
        },
      ],
    },
  },
};

function awsNode(version: string, env: Record<string, string> = {}): ContainerSpec {
  return {
    name: 'aws-node',
    image: `${ECR}/amazon-k8s-cni:${version}`,
    env: [
      { name: 'ADDITIONAL_ENI_TAGS', value: '{}' },
      { name: 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', value: 'false' },
      { name: 'ENABLE_POD_ENI', value: 'false' },
      { name: 'NETWORK_POLICY_ENFORCING_MODE', value: 'standard' },
      { name: 'MY_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      ...Object.entries(env).map(([name, value]) => ({ name, value })),
    ].filter((e, i, all) => all.map((x) => x.name).lastIndexOf(e.name) === i),
  };
}

/** A healthy cluster: managed add-on v1.19.5-eksbuild.1 on Kubernetes 1.28 with IRSA, nodes in two zones. */
function healthy(): ClusterFacts {
  const version = 'v1.19.5-eksbuild.1';
  const nodeAgent: ContainerSpec = { name: 'aws-eks-nodeagent', image: `${ECR}/amazon/aws-network-policy-agent:v1.2.1-eksbuild.1`, env: [] };
  return {
    cluster: {
      name: 'demo',
      region: 'us-west-2',
      arn: `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/demo`,
      kubernetesVersion: '1.28',
      endpoint: 'https://EXAMPLE.gr7.us-west-2.eks.amazonaws.com',
      ipFamily: 'ipv4',
      oidcIssuer: ISSUER,
    },
    addon: { managed: true, version, status: 'ACTIVE', health: [], serviceAccountRoleArn: ROLE, configurationValues: null },
    daemonSet: {
      version,
      images: {
        'aws-node': `${ECR}/amazon-k8s-cni:${version}`,
        'aws-eks-nodeagent': nodeAgent.image,
        'aws-vpc-cni-init': `${ECR}/amazon-k8s-cni-init:${version}`,
      },
      containers: [awsNode(version), nodeAgent],
      initContainers: [{ name: 'aws-vpc-cni-init', image: `${ECR}/amazon-k8s-cni-init:${version}`, env: [] }],
      affinity: structuredClone(AFFINITY_V119),
      tolerations: [{ operator: 'Exists' }],
      generation: 3,
      observedGeneration: 3,
      desired: 2,
      updated: 2,
      available: 2,
      raw: {},
    },
    catalogue: CATALOGUE,
    nodes: [
      { name: 'ip-192-168-1-10.us-west-2.compute.internal', labels: { 'topology.kubernetes.io/zone': 'us-west-2a' }, annotations: {} },
      { name: 'ip-192-168-2-20.us-west-2.compute.internal', labels: { 'topology.kubernetes.io/zone': 'us-west-2b' }, annotations: {} },
    ],
    eniConfigs: [],
    metricsHelperVersion: null,
    role: {
      arn: ROLE,
      exists: true,
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: PROVIDER },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: { StringEquals: { [`${ISSUER_HOST}:aud`]: 'sts.amazonaws.com', [`${ISSUER_HOST}:sub`]: 'system:serviceaccount:kube-system:aws-node' } },
          },
        ],
      },
      attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'],
    },
    oidcProviderArns: [PROVIDER],
  };
}

/** The healthy facts with `change` applied. */
function facts(change: (f: ClusterFacts) => void = () => {}): ClusterFacts {
  const f = healthy();
  change(f);
  return f;
}

function setVersion(f: ClusterFacts, version: string): void {
  f.addon.version = version;
  if (f.daemonSet) {
    f.daemonSet.version = version;
    const node = f.daemonSet.containers.find((c) => c.name === 'aws-node');
    if (node) node.image = `${ECR}/amazon-k8s-cni:${version}`;
  }
}

function setEnv(f: ClusterFacts, name: string, value: string): void {
  const node = f.daemonSet?.containers.find((c) => c.name === 'aws-node');
  if (!node) return;
  node.env = node.env.filter((e) => e.name !== name).concat({ name, value });
}

function dropNodeAgent(f: ClusterFacts): void {
  if (f.daemonSet) f.daemonSet.containers = f.daemonSet.containers.filter((c) => c.name !== 'aws-eks-nodeagent');
}

function customNetworking(f: ClusterFacts): void {
  setEnv(f, 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', 'true');
  setEnv(f, 'ENI_CONFIG_LABEL_DEF', 'topology.kubernetes.io/zone');
  f.eniConfigs = [
    { name: 'us-west-2a', subnet: 'subnet-0a', securityGroups: ['sg-1'] },
    { name: 'us-west-2b', subnet: 'subnet-0b', securityGroups: ['sg-1'] },
  ];
}

const idsOf = (findings: Finding[]) => findings.map((f) => f.id);

describe('the healthy default', () => {
  it('has no findings', () => {
    expect(evaluateFindings(facts())).toEqual([]);
  });
  it('stays silent with custom networking set up correctly and a matching metrics helper', () => {
    expect(evaluateFindings(facts((f) => { customNetworking(f); f.metricsHelperVersion = 'v1.19.5'; }))).toEqual([]);
  });
  it('stays silent when hybrid nodes exist and the v1.19 affinity excludes them', () => {
    expect(evaluateFindings(facts((f) => f.nodes.push({ name: 'mi-0123', labels: { 'eks.amazonaws.com/compute-type': 'hybrid' }, annotations: {} })))).toEqual([]);
  });
});

describe('each finding fires on its facts', () => {
  const cases: Array<[string, Finding['severity'], (f: ClusterFacts) => void]> = [
    ['v1.19.4-custom-networking-sgp', 'error', (f) => { setVersion(f, 'v1.19.4-eksbuild.1'); setEnv(f, 'ENABLE_POD_ENI', 'true'); }],
    ['v1.19.4-custom-networking-sgp', 'error', (f) => { setVersion(f, 'v1.19.4-eksbuild.1'); customNetworking(f); }],
    ['v1.23-node-agent-v1.4.1-required', 'error', (f) => { f.cluster.kubernetesVersion = '1.31'; setVersion(f, 'v1.23.0-eksbuild.1'); }],
    ['network-policy-enforcing-mode-without-agent', 'error', (f) => dropNodeAgent(f)],
    ['network-policy-enforcing-mode-without-agent', 'warning', (f) => { setVersion(f, 'v1.19.3-eksbuild.1'); dropNodeAgent(f); }],
    ['custom-networking-ipv6', 'error', (f) => { customNetworking(f); f.cluster.ipFamily = 'ipv6'; }],
    ['eniconfig-missing-for-zone', 'error', (f) => { customNetworking(f); f.eniConfigs = f.eniConfigs.slice(0, 1); }],
    ['eniconfig-missing-for-zone', 'error', (f) => {
      customNetworking(f);
      setEnv(f, 'ENI_CONFIG_LABEL_DEF', 'failure-domain.beta.kubernetes.io/zone');
      f.nodes.push({ name: 'old-node', labels: { 'failure-domain.beta.kubernetes.io/zone': 'us-west-2c' }, annotations: {} });
    }],
    ['eniconfig-missing-for-annotation', 'error', (f) => {
      customNetworking(f);
      const node = f.nodes[0];
      if (node) node.annotations['k8s.amazonaws.com/eniConfig'] = 'group-x';
    }],
    ['eniconfig-missing-for-annotation', 'error', (f) => {
      customNetworking(f);
      setEnv(f, 'ENI_CONFIG_ANNOTATION_DEF', 'example.com/eni');
      const node = f.nodes[1];
      if (node) node.annotations['example.com/eni'] = 'group-y';
    }],
    ['custom-networking-version-too-old', 'error', (f) => {
      customNetworking(f);
      f.addon.managed = false; f.addon.version = null; f.addon.status = null; f.addon.serviceAccountRoleArn = null; f.role = null;
      setVersion(f, 'v1.6.2');
    }],
    ['hybrid-nodes-not-excluded', 'error', (f) => {
      f.nodes.push({ name: 'mi-0123', labels: { 'eks.amazonaws.com/compute-type': 'hybrid' }, annotations: {} });
      const terms = (f.daemonSet?.affinity as typeof AFFINITY_V119).nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
      if (terms?.matchExpressions[2]) terms.matchExpressions[2].values = ['fargate'];
    }],
    ['hybrid-nodes-not-excluded', 'error', (f) => {
      f.nodes.push({ name: 'mi-0123', labels: { 'eks.amazonaws.com/compute-type': 'hybrid' }, annotations: {} });
      if (f.daemonSet) f.daemonSet.affinity = null;
    }],
    ['metrics-helper-version-mismatch', 'warning', (f) => { f.metricsHelperVersion = 'v1.18.6'; }],
    ['metrics-helper-version-mismatch', 'error', (f) => { f.metricsHelperVersion = 'v1.12.6'; }],
    ['irsa-not-configured', 'info', (f) => { f.role = null; f.addon.serviceAccountRoleArn = null; }],
    ['irsa-role-missing', 'error', (f) => { if (f.role) { f.role.exists = false; f.role.trustPolicy = null; f.role.attachedPolicyArns = []; } }],
    ['irsa-trust-policy-mismatch', 'error', (f) => {
      if (f.role) f.role.trustPolicy = { Statement: [{ Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${ISSUER_HOST}:sub`]: 'system:serviceaccount:kube-system:other' } } }] };
    }],
    ['irsa-trust-policy-mismatch', 'error', (f) => {
      if (f.role) f.role.trustPolicy = { Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/OTHER` }, Action: 'sts:AssumeRoleWithWebIdentity' }] };
    }],
    ['irsa-trust-policy-mismatch', 'error', (f) => {
      if (f.role) f.role.trustPolicy = { Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    }],
    ['irsa-oidc-provider-missing', 'error', (f) => { f.oidcProviderArns = []; }],
    ['irsa-cni-policy-missing', 'warning', (f) => { if (f.role) f.role.attachedPolicyArns = ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']; }],
    ['newer-version-available', 'info', (f) => { f.cluster.kubernetesVersion = '1.30'; }],
    ['below-default-version', 'warning', (f) => { f.cluster.kubernetesVersion = '1.31'; setVersion(f, 'v1.18.5-eksbuild.1'); }],
    ['addon-not-active', 'error', (f) => { f.addon.status = 'DEGRADED'; }],
    ['addon-not-active', 'error', (f) => { f.addon.status = 'UPDATE_FAILED'; }],
    ['addon-not-active', 'warning', (f) => { f.addon.status = 'UPDATING'; }],
    ['addon-not-active', 'warning', (f) => { f.addon.status = 'CREATING'; }],
    ['addon-health-issues', 'error', (f) => { f.addon.health = [{ code: 'InsufficientNumberOfReplicas', message: 'The add-on is unhealthy because it doesn\'t have the desired number of replicas.', resourceIds: [] }]; }],
    ['daemonset-not-rolled-out', 'warning', (f) => { if (f.daemonSet) f.daemonSet.updated = 1; }],
    ['daemonset-not-rolled-out', 'warning', (f) => { if (f.daemonSet) f.daemonSet.observedGeneration = 2; }],
    ['daemonset-missing', 'error', (f) => { f.daemonSet = null; }],
    ['self-managed', 'warning', (f) => { f.addon = { managed: false, version: null, status: null, health: [], serviceAccountRoleArn: null, configurationValues: null }; }],
    ['version-not-offered', 'warning', (f) => { setVersion(f, 'v1.14.0-eksbuild.3'); }],
    ['version-unreadable', 'warning', (f) => { f.addon.managed = false; if (f.daemonSet) f.daemonSet.version = 'latest'; }],
  ];

  it.each(cases)('%s (%s)', (id, severity, change) => {
    const found = evaluateFindings(facts(change));
    const finding = found.find((f) => f.id === id);
    expect(finding, `${id} in ${JSON.stringify(idsOf(found))}`).toBeDefined();
    expect(finding?.severity).toBe(severity);
    expect(finding?.message.length).toBeGreaterThan(10);
    expect(finding?.remediation?.length).toBeGreaterThan(10);
    expect(id).toMatch(/^[a-z0-9]+(?:[.-][a-z0-9]+)*$/);
  });

  it('the self-managed finding recommends adopting at the running release', () => {
    const found = evaluateFindings(facts((f) => {
      f.cluster.kubernetesVersion = '1.27';
      f.addon = { managed: false, version: null, status: null, health: [], serviceAccountRoleArn: null, configurationValues: null };
      setVersion(f, 'v1.12.6');
    }));
    expect(found.find((f) => f.id === 'self-managed')?.remediation).toContain('`vpccni upgrade --to v1.12.6-eksbuild.2`');
    expect(idsOf(found)).not.toContain('version-not-offered');
    expect(idsOf(found)).not.toContain('below-default-version');
  });

  it('decides on the add-on version when managed, the DaemonSet version when self-managed', () => {
    const managed = evaluateFindings(facts((f) => { f.addon.version = 'v1.19.4-eksbuild.1'; setEnv(f, 'ENABLE_POD_ENI', 'true'); }));
    expect(idsOf(managed)).toContain('v1.19.4-custom-networking-sgp');
    const selfManaged = evaluateFindings(facts((f) => { f.addon.managed = false; f.addon.version = 'v1.19.4-eksbuild.1'; setEnv(f, 'ENABLE_POD_ENI', 'true'); }));
    expect(idsOf(selfManaged)).not.toContain('v1.19.4-custom-networking-sgp');
  });

  it('sorts error, warning, info and keeps one finding per id', () => {
    const found = evaluateFindings(facts((f) => {
      f.cluster.kubernetesVersion = '1.30';
      f.metricsHelperVersion = 'v1.18.6';
      f.oidcProviderArns = [];
    }));
    expect(found.map((f) => f.severity)).toEqual(['error', 'warning', 'info']);
    expect(sortFindings([
      { id: 'a', severity: 'info', message: 'm' },
      { id: 'b', severity: 'warning', message: 'm' },
      { id: 'a', severity: 'error', message: 'm' },
    ]).map((f) => `${f.id}:${f.severity}`)).toEqual(['a:error', 'b:warning']);
  });
});

describe('advisoryContextFrom', () => {
  it('reads the aws-node env and the node agent container', () => {
    expect(advisoryContextFrom(facts())).toMatchObject({
      kubernetesVersion: '1.28',
      customNetworking: false,
      podEni: false,
      nodeAgentImageTag: 'v1.2.1-eksbuild.1',
      nodeAgentPresent: true,
      networkPolicyEnforcingModeSet: true,
      // Unknown without the gathered modern facts (it was a hard-coded false, so its advisory could never fire).
      prometheusAdapterPresent: null,
      managed: true,
      roleAllows: {},
    });
    const custom = advisoryContextFrom(facts((f) => { customNetworking(f); setEnv(f, 'ENABLE_POD_ENI', 'TRUE'); dropNodeAgent(f); setEnv(f, 'NETWORK_POLICY_ENFORCING_MODE', ''); }));
    expect(custom).toMatchObject({ customNetworking: true, podEni: true, nodeAgentPresent: false, nodeAgentImageTag: null, networkPolicyEnforcingModeSet: false });
  });
  it.each([
    [`${ECR}/amazon/aws-network-policy-agent:v1.4.1`, 'v1.4.1'],
    ['registry.local:5000/mirror/aws-network-policy-agent:v1.3.5@sha256:abcd', 'v1.3.5'],
    ['registry.local:5000/mirror/aws-network-policy-agent@sha256:abcd', null],
  ])('imageTag(%s) = %s', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });
});

describe('checkReadiness', () => {
  const SMALL = [
    entry('v1.15.5-eksbuild.1', ['1.27', '1.28']),
    entry('v1.14.1-eksbuild.1', ['1.27', '1.28']),
    entry('v1.14.0-eksbuild.3', ['1.26', '1.27']),
    entry('v1.13.4-eksbuild.1', ['1.26', '1.27']),
    entry('v1.12.6-eksbuild.2', ['1.26', '1.27']),
  ];

  it('passes for a healthy add-on offered for the target', () => {
    expect(checkReadiness(facts(), '1.31')).toEqual({ pass: true, kubernetesVersion: '1.31', findings: [], suggestedUpgrade: null });
  });

  it('passes with warnings and info only', () => {
    const result = checkReadiness(facts((f) => { f.metricsHelperVersion = 'v1.18.6'; f.role = null; }), 'v1.29');
    expect(result.pass).toBe(true);
    expect(result.kubernetesVersion).toBe('1.29');
  });

  it('fails and says why when no path reaches a version offered for both (the catalogue lacks 1.15 – 1.18 for 1.27)', () => {
    const result = checkReadiness(facts((f) => { f.cluster.kubernetesVersion = '1.27'; setVersion(f, 'v1.12.6-eksbuild.2'); }), '1.28');
    expect(result.pass).toBe(false);
    expect(result.suggestedUpgrade).toBeNull();
    const finding = result.findings.find((f) => f.id === 'not-offered-for-target');
    expect(finding?.severity).toBe('error');
    expect(finding?.message).toContain('EKS offers no v1.15 version for Kubernetes 1.27');
  });

  it('fails with a path when the catalogue allows one, listing each step', () => {
    const result = checkReadiness(facts((f) => { f.catalogue = SMALL; f.cluster.kubernetesVersion = '1.27'; setVersion(f, 'v1.12.6-eksbuild.2'); }), '1.28');
    expect(result.pass).toBe(false);
    expect(result.suggestedUpgrade).toEqual({
      to: 'v1.15.5-eksbuild.1',
      steps: [
        { from: 'v1.12.6-eksbuild.2', to: 'v1.13.4-eksbuild.1', action: 'update' },
        { from: 'v1.13.4-eksbuild.1', to: 'v1.14.1-eksbuild.1', action: 'update' },
        { from: 'v1.14.1-eksbuild.1', to: 'v1.15.5-eksbuild.1', action: 'update' },
      ],
    });
    expect(result.findings.find((f) => f.id === 'not-offered-for-target')?.remediation).toContain(
      'v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.1-eksbuild.1 → v1.15.5-eksbuild.1',
    );
  });

  it('suggests a create step for a self-managed install', () => {
    const result = checkReadiness(facts((f) => {
      f.catalogue = SMALL;
      f.cluster.kubernetesVersion = '1.27';
      f.addon = { managed: false, version: null, status: null, health: [], serviceAccountRoleArn: null, configurationValues: null };
      setVersion(f, 'v1.14.0');
    }), '1.28');
    expect(result.pass).toBe(false);
    expect(result.suggestedUpgrade?.steps[0]).toMatchObject({ from: 'v1.14.0', action: 'create' });
  });

  it('fails without a suggestion when no version is offered for both', () => {
    const result = checkReadiness(facts((f) => { f.cluster.kubernetesVersion = '1.27'; setVersion(f, 'v1.14.0-eksbuild.3'); }), '1.33');
    expect(result.pass).toBe(false);
    expect(result.suggestedUpgrade).toBeNull();
    expect(result.findings.find((f) => f.id === 'not-offered-for-target')?.message).toMatch(/no upgrade path to a version offered for both Kubernetes 1\.27 and 1\.33/);
  });

  it.each<[string, (f: ClusterFacts) => void]>([
    ['UPDATING', (f) => { f.addon.status = 'UPDATING'; }],
    ['health issues', (f) => { f.addon.health = [{ code: 'ConfigurationConflict', message: 'Conflicts found', resourceIds: [] }]; }],
    ['rollout', (f) => { if (f.daemonSet) f.daemonSet.available = 1; }],
  ])('fails when the add-on is not healthy (%s)', (_name, change) => {
    const result = checkReadiness(facts(change), '1.31');
    expect(result.pass).toBe(false);
    expect(idsOf(result.findings)).toContain('addon-not-ready');
  });

  it('fails on an error finding (advisory for the target Kubernetes version)', () => {
    const result = checkReadiness(facts((f) => { setVersion(f, 'v1.19.4-eksbuild.1'); setEnv(f, 'ENABLE_POD_ENI', 'true'); }), '1.29');
    expect(result.pass).toBe(false);
    expect(result.suggestedUpgrade).toBeNull();
  });

  it('rejects a malformed Kubernetes version', () => {
    expect(() => checkReadiness(facts(), '1.30.1')).toThrow(UsageError);
  });
});
