/** Findings about custom networking (ENIConfig per zone or per node) and the IP family. */
import type { ClusterFacts, Finding } from '../../domain.js';
import { compareAddonVersions, tryParseAddonVersion } from '../../upgrade-planner/version.js';
import { awsNodeEnv, awsNodeFlag, installedVersion, listNames } from './context.js';

/** The node label of the compute type; aws-node does not run on hybrid, Fargate or Auto Mode nodes. */
export const COMPUTE_TYPE_LABEL = 'eks.amazonaws.com/compute-type';
const NOT_AWS_NODE = new Set(['hybrid', 'fargate', 'auto']);
const ZONE_LABELS = new Set(['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone']);
const DEFAULT_ANNOTATION = 'k8s.amazonaws.com/eniConfig';

/** Findings of custom networking: IPv6 cluster, missing ENIConfigs for zones or annotations, too old a version. */
export function customNetworkingFindings(facts: ClusterFacts): Finding[] {
  if (!awsNodeFlag(facts, 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG')) return [];
  const findings: Finding[] = [];
  if (facts.cluster.ipFamily === 'ipv6') {
    findings.push({
      id: 'custom-networking-ipv6',
      severity: 'error',
      message: 'Custom networking (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true) is on, but the cluster uses IPv6, where custom networking is not possible.',
      remediation: 'Set AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG to false on aws-node (IPv6 pods take addresses from the node\'s subnet).',
    });
  }
  const known = new Set(facts.eniConfigs.map((e) => e.name));
  const nodes = facts.nodes.filter((n) => !NOT_AWS_NODE.has(n.labels[COMPUTE_TYPE_LABEL] ?? ''));
  const annotation = (awsNodeEnv(facts, 'ENI_CONFIG_ANNOTATION_DEF') ?? '').trim() || DEFAULT_ANNOTATION;
  const annotated = nodes.filter((n) => (n.annotations[annotation] ?? '') !== '');
  const badAnnotations = annotated.filter((n) => !known.has(n.annotations[annotation] ?? ''));
  if (badAnnotations.length > 0) {
    const missing = [...new Set(badAnnotations.map((n) => n.annotations[annotation] ?? ''))];
    findings.push({
      id: 'eniconfig-missing-for-annotation',
      severity: 'error',
      message: `Node(s) ${listNames(badAnnotations.map((n) => n.name))} are annotated ${annotation} with ENIConfig(s) ${listNames(missing)} that do not exist; aws-node cannot attach ENIs there.`,
      remediation: `Create the ENIConfig(s) ${listNames(missing)} (crd.k8s.amazonaws.com/v1alpha1, spec.subnet and spec.securityGroups) or fix the node annotation.`,
    });
  }
  const labelDef = (awsNodeEnv(facts, 'ENI_CONFIG_LABEL_DEF') ?? '').trim();
  if (ZONE_LABELS.has(labelDef)) {
    const byLabel = nodes.filter((n) => (n.annotations[annotation] ?? '') === '' && (n.labels[labelDef] ?? '') !== '');
    const bad = byLabel.filter((n) => !known.has(n.labels[labelDef] ?? ''));
    if (bad.length > 0) {
      const zones = [...new Set(bad.map((n) => n.labels[labelDef] ?? ''))].sort();
      findings.push({
        id: 'eniconfig-missing-for-zone',
        severity: 'error',
        message: `Custom networking selects ENIConfigs by ${labelDef}, but there is no ENIConfig named ${listNames(zones)} for node(s) ${listNames(bad.map((n) => n.name))}; those nodes fail to initialise.`,
        remediation: `Create one ENIConfig per zone named after the zone (${listNames(zones)}), with the subnet of that zone and its security groups.`,
      });
    }
  }
  const version = tryParseAddonVersion(installedVersion(facts) ?? '');
  if (version && compareAddonVersions({ ...version, build: null }, { major: 1, minor: 6, patch: 3, build: null }) < 0) {
    findings.push({
      id: 'custom-networking-version-too-old',
      severity: 'error',
      message: `Custom networking needs vpc-cni v1.6.3-eksbuild.2 or newer; the cluster runs ${installedVersion(facts) ?? 'an unknown version'}.`,
      remediation: 'Upgrade the add-on one minor version at a time with `vpccni plan --to latest` and `vpccni upgrade`.',
    });
  }
  return findings;
}
