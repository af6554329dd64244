/** Pure checks over ClusterFacts, shared by status, plan, upgrade and check. */
import type { ClusterFacts, Finding, PlanStep } from '../../domain.js';
import { UsageError } from '../../errors.js';
import { advisoriesFor, isExcluded } from '../../upgrade-planner/advisories.js';
import { isOffered, versionsFor } from '../../upgrade-planner/catalogue.js';
import { planUpgrade, shippedContext } from '../../upgrade-planner/plan.js';
import { formatKubernetesVersion } from '../../upgrade-planner/version.js';
import { healthFindings, hybridFindings, isHealthy, isRolledOut, metricsHelperFindings, networkPolicyFindings, versionFindings } from './cluster.js';
import { advisoryContextFrom, installedVersion, sortFindings } from './context.js';
import { customNetworkingFindings } from './custom-networking.js';
import { irsaFindings } from './irsa.js';
import { insightFindings, refreshedText } from './insights.js';
import { networkingModeFindings, unreadFindings, vpcCniNotUsed } from './networking-mode.js';
import { permissionFindings } from './permissions.js';
import { podIdentityFindings, awsNodeAssociations } from './pod-identity.js';

export { advisoryContextFrom, installedVersion, sortFindings } from './context.js';
export { isHealthy, isRolledOut } from './cluster.js';
export { oidcProviderArnFor, trustAllowsAwsNode } from './irsa.js';
export { vpcCniNotUsed } from './networking-mode.js';
export { concernsAddons } from './insights.js';
export { podIdentityMoveSteps, trustAllowsPodIdentity } from './pod-identity.js';

/** Findings that make no sense on a cluster that needs no aws-node (Auto Mode, another CNI). */
const NOT_FOR_OTHER_NETWORKING = new Set(['daemonset-missing', 'irsa-not-configured']);

/** IRSA's "no role" info is wrong when Pod Identity gives aws-node its credentials. */
function withoutSuperseded(facts: ClusterFacts, findings: Finding[]): Finding[] {
  const notUsed = vpcCniNotUsed(facts) !== null;
  const podIdentity = awsNodeAssociations(facts).length > 0;
  return findings.filter((f) => !(notUsed && NOT_FOR_OTHER_NETWORKING.has(f.id)) && !(podIdentity && f.id === 'irsa-not-configured'));
}

/** Every finding about the cluster as it runs now, sorted error, warning, info, one per id. */
export function evaluateFindings(facts: ClusterFacts): Finding[] {
  const version = installedVersion(facts);
  return sortFindings(withoutSuperseded(facts, [
    ...(version ? advisoriesFor(version, advisoryContextFrom(facts)) : []),
    ...networkingModeFindings(facts),
    ...unreadFindings(facts),
    ...podIdentityFindings(facts),
    ...permissionFindings(facts),
    ...insightFindings(facts, null),
    ...networkPolicyFindings(facts),
    ...customNetworkingFindings(facts),
    ...hybridFindings(facts),
    ...metricsHelperFindings(facts),
    ...irsaFindings(facts),
    ...healthFindings(facts),
    ...versionFindings(facts),
  ]));
}

/** The verdict of `vpccni check --kubernetes-version`. */
export interface Readiness {
  pass: boolean;
  kubernetesVersion: string;
  findings: Finding[];
  suggestedUpgrade: { to: string; steps: PlanStep[] } | null;
  /** When the EKS upgrade insights were last refreshed, as a sentence; null when they could not be read. */
  insights?: string;
}

function arrow(from: string, steps: PlanStep[]): string {
  return [from, ...steps.map((s) => s.to)].join(' → ');
}

/**
 * Decides whether the add-on is ready for a control-plane upgrade to `targetKubernetesVersion`: the installed
 * version must be offered for it, the add-on healthy, and no error finding apply. Otherwise suggests the newest
 * version offered for both Kubernetes versions, with its path.
 */
export function checkReadiness(facts: ClusterFacts, targetKubernetesVersion: string): Readiness {
  const target = formatKubernetesVersion(targetKubernetesVersion);
  const current = formatKubernetesVersion(facts.cluster.kubernetesVersion);
  const version = installedVersion(facts);
  const context = advisoryContextFrom(facts);
  const targetContext = { ...context, kubernetesVersion: target };
  const findings: Finding[] = [...evaluateFindings(facts).filter((f) => !f.id.startsWith('upgrade-insight-')), ...insightFindings(facts, target)];
  if (version) findings.push(...advisoriesFor(version, targetContext));
  const insights = facts.modern?.insights ? refreshedText(facts) : null;
  if (vpcCniNotUsed(facts) !== null) {
    // No aws-node by design: nothing of the add-on gates the upgrade; insights and other errors still do.
    const sorted = sortFindings(findings);
    return { pass: !sorted.some((f) => f.severity === 'error'), kubernetesVersion: target, findings: sorted, suggestedUpgrade: null, ...(insights !== null ? { insights } : {}) };
  }

  const offered = version !== null && isOffered(facts.catalogue, version, target);
  let suggestedUpgrade: Readiness['suggestedUpgrade'] = null;
  if (!offered) {
    const candidates = versionsFor(facts.catalogue, current)
      .map((e) => e.version)
      .filter((v) => isOffered(facts.catalogue, v, target) && !isExcluded(v, shippedContext(context)) && !isExcluded(v, shippedContext(targetContext)));
    let reason = '';
    for (const candidate of version ? candidates : []) {
      try {
        const plan = planUpgrade({
          installed: version ?? '',
          managed: facts.addon.managed,
          target: candidate,
          catalogue: facts.catalogue,
          kubernetesVersion: current,
          context,
        });
        suggestedUpgrade = { to: plan.to, steps: plan.steps };
        break;
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        reason ||= error.message;
      }
    }
    const shown = version ?? 'The installed vpc-cni version (unreadable)';
    if (suggestedUpgrade) {
      findings.push({
        id: 'not-offered-for-target',
        severity: 'error',
        message: `${shown} is not offered for Kubernetes ${target}.`,
        remediation: `Before upgrading the cluster, run \`vpccni upgrade --to ${suggestedUpgrade.to}\` (${arrow(version ?? '', suggestedUpgrade.steps)}), the newest version offered for both Kubernetes ${current} and ${target}.`,
      });
    } else {
      findings.push({
        id: 'not-offered-for-target',
        severity: 'error',
        message: `${shown} is not offered for Kubernetes ${target}, and no upgrade path to a version offered for both Kubernetes ${current} and ${target} was found${reason ? ` (${reason.replace(/\.$/, '')})` : candidates.length === 0 ? ' (EKS offers no such version)' : ''}.`,
        remediation: `List the versions with \`aws eks describe-addon-versions --addon-name vpc-cni --kubernetes-version ${target}\` and move the add-on to one of them one minor at a time, or upgrade Kubernetes in smaller steps.`,
      });
    }
  }
  if (!isHealthy(facts)) {
    findings.push({
      id: 'addon-not-ready',
      severity: 'error',
      message: `The vpc-cni add-on is not healthy (${facts.addon.managed ? `status ${facts.addon.status ?? 'unknown'}, ${facts.addon.health.length} health issue(s), ` : ''}aws-node ${facts.daemonSet === null ? 'DaemonSet missing' : isRolledOut(facts) ? 'rolled out' : 'rollout incomplete'}); the gate needs a healthy add-on before a cluster upgrade.`,
      remediation: 'Fix the findings above, wait until `vpccni status` shows ACTIVE and a complete rollout, then run the check again.',
    });
    // The rollout can be incomplete without anything else being an error; keep the gate explicit.
  }
  const sorted = sortFindings(findings);
  const pass = offered && isHealthy(facts) && !sorted.some((f) => f.severity === 'error');
  return { pass, kubernetesVersion: target, findings: sorted, suggestedUpgrade, ...(insights !== null ? { insights } : {}) };
}
