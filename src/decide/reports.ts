/**
 * Deciding and shaping what `status`, `plan` and `check` report: pure functions from gathered facts to the one
 * result object that both the text and the JSON output are rendered from.
 */
import { checkReadiness, evaluateFindings, installedVersion, advisoryContextFrom, sortFindings, isRolledOut } from './checks/index.js';
import type { ClusterFacts, Finding, PlanStep } from '../domain.js';
import { UsageError, VpccniError } from '../errors.js';
import { parseStoredConfigurationValues } from './config/values.js';
import { defaultFor, latestFor } from '../upgrade-planner/catalogue.js';
import { planUpgrade, type UpgradePlan } from '../upgrade-planner/plan.js';

/** The `status --output json` document (schemas/status.schema.json). */
export interface StatusReport {
  schemaVersion: 1;
  cluster: { name: string; region: string; kubernetesVersion: string; arn: string | null; ipFamily: 'ipv4' | 'ipv6' };
  addon: {
    managed: boolean;
    version: string | null;
    status: string | null;
    health: Array<{ code: string; message: string; resourceIds: string[] }>;
    serviceAccountRoleArn: string | null;
    configurationValues: Record<string, unknown> | null;
  };
  daemonSet: {
    version: string | null;
    images: Record<string, string>;
    desired: number;
    updated: number;
    available: number;
    rolledOut: boolean;
  } | null;
  versions: { latest: string | null; default: string | null };
  upgradePath: string[];
  findings: Finding[];
}

/** The configuration values EKS stores, as an object; null when there are none, `{ raw }` when unreadable. */
export function storedConfigurationValues(text: string | null): Record<string, unknown> | null {
  if (text === null || text.trim() === '') return null;
  try {
    return parseStoredConfigurationValues(text);
  } catch (error) {
    if (error instanceof UsageError) return { raw: text };
    throw error;
  }
}

/** Merges finding lists: one per id (the most severe), sorted by severity, as `sortFindings` does. */
export function mergeFindings(...lists: Finding[][]): Finding[] {
  return sortFindings(lists.flat());
}

/** Plans from the running version `installed` to `target` over the facts' catalogue and advisories. */
export function planFromFacts(facts: ClusterFacts, installed: string, target: string): UpgradePlan {
  return planUpgrade({
    installed,
    managed: facts.addon.managed,
    target,
    catalogue: facts.catalogue,
    kubernetesVersion: facts.cluster.kubernetesVersion,
    context: advisoryContextFrom(facts),
  });
}

/** Plans from the running version, or null with a finding saying why there is no path. */
export function tryPlan(facts: ClusterFacts, target: string): { plan: UpgradePlan | null; findings: Finding[] } {
  const installed = installedVersion(facts);
  if (!installed) return { plan: null, findings: [] };
  try {
    const plan = planFromFacts(facts, installed, target);
    return { plan, findings: plan.findings };
  } catch (error) {
    if (!(error instanceof VpccniError)) throw error;
    return {
      plan: null,
      findings: [{ id: 'no-upgrade-path', severity: 'warning', message: error.message }],
    };
  }
}

/** Builds the status report from the facts. */
export function buildStatusReport(facts: ClusterFacts): StatusReport {
  const k8s = facts.cluster.kubernetesVersion;
  const { plan, findings: planFindings } = tryPlan(facts, 'latest');
  const ds = facts.daemonSet;
  return {
    schemaVersion: 1,
    cluster: {
      name: facts.cluster.name,
      region: facts.cluster.region,
      kubernetesVersion: k8s,
      arn: facts.cluster.arn,
      ipFamily: facts.cluster.ipFamily,
    },
    addon: {
      managed: facts.addon.managed,
      version: installedVersion(facts),
      status: facts.addon.status,
      health: facts.addon.health,
      serviceAccountRoleArn: facts.addon.serviceAccountRoleArn,
      configurationValues: storedConfigurationValues(facts.addon.configurationValues),
    },
    daemonSet: ds
      ? {
          version: ds.version,
          images: ds.images,
          desired: ds.desired,
          updated: ds.updated,
          available: ds.available,
          rolledOut: isRolledOut(facts),
        }
      : null,
    versions: { latest: latestFor(facts.catalogue, k8s), default: defaultFor(facts.catalogue, k8s) },
    upgradePath: plan ? plan.steps.map((s) => s.to) : [],
    findings: mergeFindings(evaluateFindings(facts), planFindings),
  };
}

/** The `plan --output json` document (schemas/plan.schema.json). */
export interface PlanReport {
  schemaVersion: 1;
  from: string;
  to: string;
  steps: PlanStep[];
  findings: Finding[];
}

/** Builds the plan report: the plan's steps, and every finding on the cluster and on the target. */
export function buildPlanReport(facts: ClusterFacts, plan: UpgradePlan): PlanReport {
  return {
    schemaVersion: 1,
    from: plan.from,
    to: plan.to,
    steps: plan.steps,
    findings: mergeFindings(plan.findings, evaluateFindings(facts)),
  };
}

/** The `check --output json` document (schemas/check.schema.json). */
export interface CheckReport {
  schemaVersion: 1;
  pass: boolean;
  kubernetesVersion: string;
  currentKubernetesVersion: string;
  installedVersion: string | null;
  suggestedUpgrade: { to: string; command: string; steps: PlanStep[] } | null;
  findings: Finding[];
}

/** `check`'s verdict over the facts for a target Kubernetes version. */
export function buildCheckReport(facts: ClusterFacts, target: string): CheckReport {
  const readiness = checkReadiness(facts, target);
  return {
    schemaVersion: 1,
    pass: readiness.pass,
    kubernetesVersion: readiness.kubernetesVersion,
    currentKubernetesVersion: facts.cluster.kubernetesVersion,
    installedVersion: installedVersion(facts),
    suggestedUpgrade: readiness.suggestedUpgrade
      ? { ...readiness.suggestedUpgrade, command: `vpccni upgrade --to ${readiness.suggestedUpgrade.to}` }
      : null,
    findings: readiness.findings,
  };
}

/** The one-line verdict of a check report and the upgrade that fixes it (with its path), for people. */
export function checkVerdict(report: CheckReport, clusterName: string): { verdict: string; fix: { command: string; path: string } | null } {
  const verdict = report.pass
    ? `PASS: vpc-cni ${report.installedVersion} on ${clusterName} is ready for Kubernetes ${report.kubernetesVersion}.`
    : `FAIL: vpc-cni ${report.installedVersion ?? '(unknown version)'} on ${clusterName} is not ready for Kubernetes ${report.kubernetesVersion}.`;
  const fix = report.suggestedUpgrade
    ? {
        command: report.suggestedUpgrade.command,
        path: [report.installedVersion ?? '?', ...report.suggestedUpgrade.steps.map((s) => s.to)].join(' → '),
      }
    : null;
  return { verdict, fix };
}
