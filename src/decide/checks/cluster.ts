/** Findings about the install itself: health, rollout, self-managed, versions, metrics helper, hybrid nodes. */
import type { ClusterFacts, Finding } from '../../domain.js';
import { defaultFor, isOffered, latestFor, versionsFor } from '../../upgrade-planner/catalogue.js';
import {
  compareAddonVersions,
  minorIndex,
  sameRelease,
  tryParseAddonVersion,
  type AddonVersion,
} from '../../upgrade-planner/version.js';
import { installedVersion, listNames, NODE_AGENT_CONTAINER, networkPolicyModeSet } from './context.js';
import { COMPUTE_TYPE_LABEL } from './custom-networking.js';

const FAILED = new Set(['DEGRADED', 'CREATE_FAILED', 'UPDATE_FAILED', 'DELETE_FAILED']);
const IN_PROGRESS = new Set(['UPDATING', 'CREATING', 'DELETING']);

/** Compares by release only when either side has no build (a self-managed `v1.12.6` equals `v1.12.6-eksbuild.2`). */
function compareLoose(a: AddonVersion, b: AddonVersion): number {
  if (a.build === null || b.build === null) return compareAddonVersions({ ...a, build: null }, { ...b, build: null });
  return compareAddonVersions(a, b);
}

/** True when the add-on is healthy: managed → ACTIVE without health issues; both → DaemonSet rolled out. */
export function isHealthy(facts: ClusterFacts): boolean {
  if (facts.addon.managed && (facts.addon.status !== 'ACTIVE' || facts.addon.health.length > 0)) return false;
  return facts.daemonSet !== null && isRolledOut(facts);
}

/** True when the aws-node DaemonSet has observed its generation and every pod is updated and available. */
export function isRolledOut(facts: ClusterFacts): boolean {
  const ds = facts.daemonSet;
  if (!ds) return false;
  return ds.observedGeneration >= ds.generation && ds.updated >= ds.desired && ds.available >= ds.desired;
}

/** Add-on status, health issues, a missing DaemonSet and an incomplete rollout. */
export function healthFindings(facts: ClusterFacts): Finding[] {
  const findings: Finding[] = [];
  const { addon } = facts;
  if (addon.managed && addon.status !== 'ACTIVE') {
    const status = addon.status ?? 'unknown';
    const failed = FAILED.has(status);
    findings.push({
      id: 'addon-not-active',
      severity: IN_PROGRESS.has(status) && !failed ? 'warning' : 'error',
      message: `The vpc-cni add-on is ${status}, not ACTIVE.`,
      remediation: IN_PROGRESS.has(status)
        ? 'Wait for the operation to finish (`aws eks describe-addon --addon-name vpc-cni`) and run the command again.'
        : 'Inspect `aws eks describe-addon --addon-name vpc-cni` (health.issues) and the aws-node pods; fix the cause, then update the add-on again.',
    });
  }
  if (addon.managed && addon.health.length > 0) {
    const codes = [...new Set(addon.health.map((h) => h.code))];
    findings.push({
      id: 'addon-health-issues',
      severity: 'error',
      message: `EKS reports health issues for the vpc-cni add-on: ${addon.health.map((h) => `${h.code}: ${h.message.trim().replace(/\.$/, '')}`).join('; ')}.`,
      remediation: codes.includes('ConfigurationConflict')
        ? 'Resolve the conflict: update with `--resolve-conflicts PRESERVE` (keeps your values) or OVERWRITE after `vpccni backup`.'
        : 'Inspect the aws-node pods (`kubectl -n kube-system get pods -l k8s-app=aws-node`) and fix the reported issue.',
    });
  }
  if (facts.daemonSet === null) {
    findings.push({
      id: 'daemonset-missing',
      severity: 'error',
      message: 'The aws-node DaemonSet was not found in kube-system; pods get no VPC networking.',
      remediation: 'Install the add-on: `vpccni upgrade --to default` (creates the EKS add-on).',
    });
  } else if (!isRolledOut(facts)) {
    const ds = facts.daemonSet;
    findings.push({
      id: 'daemonset-not-rolled-out',
      severity: 'warning',
      message: `The aws-node DaemonSet is not fully rolled out: ${ds.updated}/${ds.desired} updated, ${ds.available}/${ds.desired} available (generation ${ds.observedGeneration}/${ds.generation}).`,
      remediation: 'Wait for the rollout (`kubectl -n kube-system rollout status daemonset aws-node`) and look at pods that are not ready.',
    });
  }
  return findings;
}

/** The version the user should adopt a self-managed install at: the newest offered build of the running release. */
function adoptionTarget(facts: ClusterFacts, running: AddonVersion | null): string | null {
  const k8s = facts.cluster.kubernetesVersion;
  const offered = versionsFor(facts.catalogue, k8s);
  if (running) {
    const same = offered.find((e) => {
      const p = tryParseAddonVersion(e.version);
      return p !== null && sameRelease(p, running);
    });
    if (same) return same.version;
    const sameMinor = offered.find((e) => {
      const p = tryParseAddonVersion(e.version);
      return p !== null && minorIndex(p) === minorIndex(running);
    });
    if (sameMinor) return sameMinor.version;
  }
  return defaultFor(facts.catalogue, k8s) ?? latestFor(facts.catalogue, k8s);
}

/** Self-managed install, unreadable version, version not offered, behind latest, below default. */
export function versionFindings(facts: ClusterFacts): Finding[] {
  const findings: Finding[] = [];
  const k8s = facts.cluster.kubernetesVersion;
  const text = installedVersion(facts);
  const running = tryParseAddonVersion(text ?? '');
  if (!facts.addon.managed && facts.daemonSet !== null) {
    const to = adoptionTarget(facts, running);
    findings.push({
      id: 'self-managed',
      severity: 'warning',
      message: `vpc-cni${text ? ` ${text}` : ''} is self-managed (no EKS add-on); AWS recommends the EKS add-on.`,
      remediation: to
        ? `Adopt it as an EKS add-on, keeping your settings: \`vpccni upgrade --to ${to}\`.`
        : 'Adopt it as an EKS add-on with `vpccni upgrade --to <version>` once EKS offers a version for this Kubernetes version.',
    });
  }
  if (facts.daemonSet !== null && !running) {
    findings.push({
      id: 'version-unreadable',
      severity: 'warning',
      message: `The installed vpc-cni version could not be read${text ? ` ("${text}" is not a version)` : ''}.`,
      remediation: 'Check the amazon-k8s-cni image tag of the aws-node container.',
    });
  }
  if (!running || text === null) return findings;
  if (!isOffered(facts.catalogue, text, k8s)) {
    findings.push({
      id: 'version-not-offered',
      severity: 'warning',
      message: `${text} is not among the vpc-cni versions EKS offers for Kubernetes ${k8s}.`,
      remediation: 'Move to an offered version: `vpccni plan --to latest`.',
    });
  }
  const latest = latestFor(facts.catalogue, k8s);
  const def = defaultFor(facts.catalogue, k8s);
  const latestParsed = tryParseAddonVersion(latest ?? '');
  const defParsed = tryParseAddonVersion(def ?? '');
  if (defParsed && compareLoose(running, defParsed) < 0) {
    findings.push({
      id: 'below-default-version',
      severity: 'warning',
      message: `${text} is older than ${def}, the version EKS installs by default for Kubernetes ${k8s}.`,
      remediation: `Upgrade: \`vpccni plan --to ${latest ?? def}\`, then \`vpccni upgrade --to ${latest ?? def}\`.`,
    });
  } else if (latestParsed && compareLoose(running, latestParsed) < 0) {
    findings.push({
      id: 'newer-version-available',
      severity: 'info',
      message: `${latest} is the newest vpc-cni version for Kubernetes ${k8s}; the cluster runs ${text}.`,
      remediation: `See the path with \`vpccni plan --to latest\`.`,
    });
  }
  return findings;
}

/** The cni-metrics-helper version against the CNI's: a different release warns, more than one minor apart errs. */
export function metricsHelperFindings(facts: ClusterFacts): Finding[] {
  const helper = tryParseAddonVersion(facts.metricsHelperVersion ?? '');
  const cni = tryParseAddonVersion(installedVersion(facts) ?? '');
  if (!helper || !cni || sameRelease(helper, cni)) return [];
  const apart = Math.abs(minorIndex(helper) - minorIndex(cni));
  return [
    {
      id: 'metrics-helper-version-mismatch',
      severity: apart > 1 ? 'error' : 'warning',
      message: `cni-metrics-helper runs ${facts.metricsHelperVersion}, the CNI runs ${installedVersion(facts)}${apart > 1 ? ` (${apart} minor versions apart)` : ''}; they should run the same version.`,
      remediation: 'Update cni-metrics-helper to the CNI\'s version, one minor version at a time.',
    },
  ];
}

function excludesHybrid(affinity: unknown): boolean {
  const required = (affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: unknown } } } | null)
    ?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!Array.isArray(required) || required.length === 0) return false;
  // Terms are ORed: every term must keep hybrid nodes out.
  return required.every((term: unknown) => {
    const expressions = (term as { matchExpressions?: unknown } | null)?.matchExpressions;
    if (!Array.isArray(expressions)) return false;
    return expressions.some((e: unknown) => {
      const { key, operator, values } = (e ?? {}) as { key?: unknown; operator?: unknown; values?: unknown };
      if (key !== COMPUTE_TYPE_LABEL) return false;
      const list = Array.isArray(values) ? values : [];
      if (operator === 'NotIn') return list.includes('hybrid');
      if (operator === 'In') return !list.includes('hybrid');
      return operator === 'DoesNotExist';
    });
  });
}

/** Hybrid nodes present while the aws-node DaemonSet's required node affinity lets it schedule on them. */
export function hybridFindings(facts: ClusterFacts): Finding[] {
  const hybrid = facts.nodes.filter((n) => n.labels[COMPUTE_TYPE_LABEL] === 'hybrid');
  if (hybrid.length === 0 || facts.daemonSet === null || excludesHybrid(facts.daemonSet.affinity)) return [];
  return [
    {
      id: 'hybrid-nodes-not-excluded',
      severity: 'error',
      message: `Hybrid node(s) ${listNames(hybrid.map((n) => n.name))} are present, but the aws-node DaemonSet's node affinity does not exclude ${COMPUTE_TYPE_LABEL}=hybrid; the VPC CNI does not run on hybrid nodes.`,
      remediation: `Add "hybrid" to the NotIn values for ${COMPUTE_TYPE_LABEL} in aws-node's required node affinity (upstream manifests do from v1.19), or upgrade to v1.19 or later.`,
    },
  ];
}

/** NETWORK_POLICY_ENFORCING_MODE without the node agent: an error from v1.19.4, a warning before (it will break). */
export function networkPolicyFindings(facts: ClusterFacts): Finding[] {
  const ds = facts.daemonSet;
  if (!ds || !networkPolicyModeSet(facts) || ds.containers.some((c) => c.name === NODE_AGENT_CONTAINER)) return [];
  const running = tryParseAddonVersion(installedVersion(facts) ?? '');
  const breaks = !running || compareAddonVersions({ ...running, build: null }, { major: 1, minor: 19, patch: 4, build: null }) >= 0;
  return [
    {
      id: 'network-policy-enforcing-mode-without-agent',
      severity: breaks ? 'error' : 'warning',
      message: breaks
        ? 'NETWORK_POLICY_ENFORCING_MODE is set on aws-node while the aws-eks-nodeagent container is absent; pod creation can fail.'
        : 'NETWORK_POLICY_ENFORCING_MODE is set on aws-node while the aws-eks-nodeagent container is absent; from v1.19.4 this makes pod creation fail.',
      remediation: 'Unset NETWORK_POLICY_ENFORCING_MODE on the aws-node container, or put the aws-eks-nodeagent container back.',
    },
  ];
}
