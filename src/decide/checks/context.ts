/** Shared readers over ClusterFacts: the installed version, aws-node env vars, the advisory context. */
import type { ClusterFacts, ContainerSpec, Finding, Severity } from '../../domain.js';
import { parseImage } from '../manifests.js';
import type { AdvisoryContext } from '../../upgrade-planner/advisories.js';
import { modernAdvisoryContext } from './modern-context.js';

/** The name of the network policy agent container in the aws-node DaemonSet. */
export const NODE_AGENT_CONTAINER = 'aws-eks-nodeagent';

/** The version decisions are made on: the add-on's version when managed, else the DaemonSet's image tag. */
export function installedVersion(facts: ClusterFacts): string | null {
  return facts.addon.managed ? (facts.addon.version ?? facts.daemonSet?.version ?? null) : (facts.daemonSet?.version ?? null);
}

/** The `aws-node` container of the DaemonSet, if read. */
export function awsNodeContainer(facts: ClusterFacts): ContainerSpec | undefined {
  return facts.daemonSet?.containers.find((c) => c.name === 'aws-node');
}

/** The literal value of an env var on the aws-node container; `''` when set through valueFrom; null when absent. */
export function awsNodeEnv(facts: ClusterFacts, name: string): string | null {
  const env = awsNodeContainer(facts)?.env.find((e) => e.name === name);
  if (!env) return null;
  return env.value ?? (env.valueFrom !== undefined ? '' : null);
}

/** True when the aws-node env var is the string `true` (case-insensitive). */
export function awsNodeFlag(facts: ClusterFacts, name: string): boolean {
  return (awsNodeEnv(facts, name) ?? '').trim().toLowerCase() === 'true';
}

/** The tag of an image reference (`repo/name:tag@sha256:…` → `tag`), or null when it has none. */
export function imageTag(image: string): string | null {
  return parseImage(image).tag;
}

/** True when aws-node sets NETWORK_POLICY_ENFORCING_MODE to a non-empty value (or through valueFrom). */
export function networkPolicyModeSet(facts: ClusterFacts): boolean {
  const env = awsNodeContainer(facts)?.env.find((e) => e.name === 'NETWORK_POLICY_ENFORCING_MODE');
  return env !== undefined && ((env.value ?? '').trim() !== '' || env.valueFrom !== undefined);
}

/** The advisory context of the cluster as it runs now, with the advisories in force. */
export function advisoryContextFrom(facts: ClusterFacts): AdvisoryContext {
  const agent = facts.daemonSet?.containers.find((c) => c.name === NODE_AGENT_CONTAINER);
  return {
    kubernetesVersion: facts.cluster.kubernetesVersion,
    customNetworking: awsNodeFlag(facts, 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG'),
    podEni: awsNodeFlag(facts, 'ENABLE_POD_ENI'),
    nodeAgentImageTag: agent ? imageTag(agent.image) : null,
    nodeAgentPresent: agent !== undefined,
    networkPolicyEnforcingModeSet: networkPolicyModeSet(facts),
    ...modernAdvisoryContext(facts),
  };
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Sorts findings error, warning, info (stable) and keeps one finding per id, the most severe. */
export function sortFindings(findings: Finding[]): Finding[] {
  const byId = new Map<string, Finding>();
  for (const f of findings) {
    const seen = byId.get(f.id);
    if (!seen || RANK[f.severity] < RANK[seen.severity]) byId.set(f.id, f);
  }
  const kept = findings.filter((f) => byId.get(f.id) === f);
  return kept.map((f, i) => ({ f, i })).sort((a, b) => RANK[a.f.severity] - RANK[b.f.severity] || a.i - b.i).map((x) => x.f);
}

/** `a, b, c and 3 more` for a list of names. */
export function listNames(names: string[], max = 5): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
