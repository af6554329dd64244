/**
 * Known-bad vpc-cni versions as data (sources quoted from fixtures/known-issues.md and docs/domain.md).
 * Each advisory decides, from the cluster context, whether it applies and how severe it is.
 */
import type { Finding, Severity } from '../domain.js';
import { compareAddonVersions, tryParseAddonVersion, type AddonVersion } from './version.js';

/** What the advisories decide on: the cluster's settings, as gathered now. */
export interface AdvisoryContext {
  kubernetesVersion: string;
  customNetworking: boolean;
  podEni: boolean;
  /** Tag of the `aws-network-policy-agent` image (e.g. `v1.3.5`), null when unknown or absent. */
  nodeAgentImageTag: string | null;
  nodeAgentPresent: boolean;
  networkPolicyEnforcingModeSet: boolean;
  prometheusAdapterPresent?: boolean;
  roleAllowsDescribeSubnetsAndSecurityGroups?: boolean | null;
}

/** One known issue of one or more versions. */
export interface Advisory {
  /** Stable kebab-case id, used as the finding id. */
  id: string;
  /** Human description of the affected versions, e.g. `v1.16.0 – v1.16.1`. */
  versions: string;
  /** True when the (parsed) version is affected. */
  affects: (version: AddonVersion) => boolean;
  /** The severity in this context, or null when the advisory does not apply here. */
  severity: (context: AdvisoryContext) => Severity | null;
  message: string;
  remediation: string;
  /** Where the knowledge comes from (a quote or a URL). */
  source: string;
}

const release =
  (...releases: string[]) =>
  (v: AddonVersion): boolean =>
    releases.includes(`${v.major}.${v.minor}.${v.patch}`);

const atLeast =
  (major: number, minor: number, patch: number) =>
  (v: AddonVersion): boolean =>
    compareAddonVersions({ major: v.major, minor: v.minor, patch: v.patch, build: null }, { major, minor, patch, build: null }) >= 0;

function kubernetesMinor(text: string): { major: number; minor: number } | null {
  const match = /^v?(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : null;
}

function nodeAgentOlderThan(tag: string | null, major: number, minor: number, patch: number): boolean {
  if (tag === null) return false;
  const parsed = tryParseAddonVersion(tag);
  if (!parsed) return false;
  return compareAddonVersions({ ...parsed, build: null }, { major, minor, patch, build: null }) < 0;
}

/** Every advisory we know, newest version first. */
export const ADVISORIES: readonly Advisory[] = [
  {
    id: 'v1.23-node-agent-v1.4.1-required',
    versions: 'v1.23.0 and later',
    affects: atLeast(1, 23, 0),
    severity: (c) => (c.nodeAgentPresent && nodeAgentOlderThan(c.nodeAgentImageTag, 1, 4, 1) ? 'error' : null),
    message:
      'vpc-cni v1.23.0 and later must run with Network Policy Agent v1.4.1 or newer (IPAMD gRPC moved to a Unix socket), and the aws-eks-nodeagent container runs an older agent.',
    remediation:
      'Run the aws-eks-nodeagent container at amazon/aws-network-policy-agent:v1.4.1 or newer (the v1.23.0 manifest pins it), or stay below v1.23.0.',
    source:
      'CHANGELOG v1.23.0: "This release must be run with Network Policy Agent `v1.4.1`. #3739 moves the IPAMD gRPC server from a TCP port to a Unix domain socket"',
  },
  {
    id: 'v1.22.1-security-group-discovery',
    versions: 'v1.22.1',
    affects: release('1.22.1'),
    severity: (c) => (c.roleAllowsDescribeSubnetsAndSecurityGroups === false ? 'error' : 'warning'),
    message:
      'vpc-cni v1.22.1 ships Security Group Discovery (reverted in v1.22.2) and crash-loops unless its role allows ec2:DescribeSubnets and ec2:DescribeSecurityGroups.',
    remediation:
      'Use v1.22.2 or later, or allow ec2:DescribeSubnets and ec2:DescribeSecurityGroups to the aws-node role first.',
    source: 'CHANGELOG v1.22.2: "Reverting Security Group Discovery feature in https://github.com/aws/amazon-vpc-cni-k8s/pull/3720"',
  },
  {
    id: 'v1.19.4-custom-networking-sgp',
    versions: 'v1.19.4',
    affects: release('1.19.4'),
    severity: (c) => (c.customNetworking || c.podEni ? 'error' : null),
    message:
      'vpc-cni v1.19.4 fails node initialisation when custom networking or security groups for pods (ENABLE_POD_ENI) is on.',
    remediation: 'Go to v1.19.5 or later, or stay on v1.19.3.',
    source:
      'CHANGELOG v1.19.5: "Fix - fixed node init failure when using custom networking and SGPP @oliviassss in #3277"; https://github.com/aws/amazon-vpc-cni-k8s/issues/3271',
  },
  {
    id: 'network-policy-enforcing-mode-without-agent',
    versions: 'v1.19.4 and later',
    affects: atLeast(1, 19, 4),
    severity: (c) => (c.networkPolicyEnforcingModeSet && !c.nodeAgentPresent ? 'error' : null),
    message:
      'NETWORK_POLICY_ENFORCING_MODE is set on aws-node while the aws-eks-nodeagent container is absent; vpc-cni v1.19.4 and later fail pod creation in this state.',
    remediation:
      'Unset NETWORK_POLICY_ENFORCING_MODE on the aws-node container, or put the aws-eks-nodeagent container back.',
    source:
      'README@v1.19.4: "If you remove the Network Policy Agent container from the aws-node DaemonSet, you must also ensure that NETWORK_POLICY_ENFORCING_MODE environment variable is not set."',
  },
  {
    id: 'v1.16.3-livelock',
    versions: 'v1.16.3',
    affects: release('1.16.3'),
    severity: () => 'warning',
    message:
      'vpc-cni v1.16.3 carries "Faster eni scaleup" (#2744), which can livelock when the datastore pool grows (high CPU); it was reverted in v1.16.4.',
    remediation: 'Use v1.16.4 or later.',
    source:
      'CHANGELOG v1.16.4: "Bug - [Revert #2744 to prevent livelock when attempting to increase datastore pool](https://github.com/aws/amazon-vpc-cni-k8s/pull/2810)"',
  },
  {
    id: 'v1.16.0-cni-spec-kubernetes-1.23',
    versions: 'v1.16.0 – v1.16.1',
    affects: release('1.16.0', '1.16.1'),
    severity: (c) => {
      const k = kubernetesMinor(c.kubernetesVersion);
      return k !== null && (k.major < 1 || (k.major === 1 && k.minor <= 23)) ? 'error' : null;
    },
    message:
      'vpc-cni v1.16.0 – v1.16.1 implement CNI spec v1.0.0, which Kubernetes 1.23 and earlier do not support.',
    remediation: 'Use v1.16.2 or later (it restores CNI spec v0.4.0), or upgrade Kubernetes to 1.24 or later first.',
    source:
      'EKS UG eks-networking-add-ons.adoc: "Amazon VPC CNI plugin for Kubernetes versions `v1.16.0` to `v1.16.1` removed compatibility with Kubernetes versions `1.23` and earlier."',
  },
  {
    id: 'v1.15.0-cninode-crd',
    versions: 'v1.15.0',
    affects: release('1.15.0'),
    severity: () => 'warning',
    message:
      'vpc-cni v1.15.0 needs the VPC Resource Controller\'s CNINode CRD (vpcresources.k8s.aws/v1alpha1) and fails to initialise without it, notably with custom networking.',
    remediation: 'Use v1.15.1 or later (v1.15.5 adds the CNINode watch permission).',
    source:
      'https://github.com/aws/amazon-vpc-cni-k8s/issues/2584: "Initialization failure: failed to get API group resources: unable to retrieve the complete list of server APIs: vpcresources.k8s.aws/v1alpha1"',
  },
  {
    id: 'v1.14.0-node-agent-port-8080',
    versions: 'v1.14.0',
    affects: release('1.14.0'),
    severity: () => 'warning',
    message:
      'vpc-cni v1.14.0 adds the aws-eks-nodeagent container, which binds host port 8080 by default and crash-loops when another process uses it.',
    remediation: 'Check that host port 8080 is free on the nodes or change the node agent\'s port; v1.14.1 ships a fixed agent.',
    source:
      'https://github.com/aws/amazon-vpc-cni-k8s/issues/2540: "please do check if port `8080` on host is used by any other process/container in your worker nodes"',
  },
  {
    id: 'v1.12-prometheus-adapter-kubernetes-1.27',
    versions: 'v1.12.5 – v1.12.6',
    affects: release('1.12.5', '1.12.6'),
    severity: (c) => {
      const k = kubernetesMinor(c.kubernetesVersion);
      return c.prometheusAdapterPresent === true && k !== null && k.major === 1 && k.minor === 27 ? 'error' : null;
    },
    message: 'vpc-cni v1.12.5 – v1.12.6 are broken on Kubernetes 1.27 when prometheus-adapter runs in the cluster.',
    remediation: 'Move to v1.13 or later before running on Kubernetes 1.27 (or before upgrading the cluster to 1.27).',
    source: 'docs/domain.md, "Known-bad versions": "v1.12.5, v1.12.6 on Kubernetes 1.27 with prometheus-adapter: broken."',
  },
];

/** The findings of every advisory that applies to `version` in `context` (none for an unparseable version). */
export function advisoriesFor(version: string, context: AdvisoryContext): Finding[] {
  const parsed = tryParseAddonVersion(version);
  if (!parsed) return [];
  const findings: Finding[] = [];
  for (const advisory of ADVISORIES) {
    if (!advisory.affects(parsed)) continue;
    const severity = advisory.severity(context);
    if (severity === null) continue;
    findings.push({
      id: advisory.id,
      severity,
      message: `${version}: ${advisory.message}`,
      remediation: advisory.remediation,
    });
  }
  return findings;
}

/** True when an advisory of severity error applies to `version` in `context`: never plan through it. */
export function isExcluded(version: string, context: AdvisoryContext): boolean {
  return advisoriesFor(version, context).some((f) => f.severity === 'error');
}
