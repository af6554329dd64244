/**
 * Deciding and shaping what `status` and `plan` report: pure functions from gathered facts to the one
 * result object that both the text and the JSON output are rendered from.
 */
import { evaluateFindings, installedVersion, advisoryContextFrom, sortFindings, isRolledOut } from './checks/index.js';
import type { ClusterFacts, Finding, PlanStep } from '../domain.js';
import { UsageError, VpccniError } from '../errors.js';
import { parseStoredConfigurationValues } from './config/values.js';
import { defaultFor, latestFor } from '../upgrade-planner/catalogue.js';
import { planSelfManaged, planUpgrade, type UpgradePlan } from '../upgrade-planner/plan.js';
import { shippedReleases } from './manifests.js';

/** How the user wants a self-managed install moved: stay self-managed, or adopt it in one jump. */
export interface PlanMode {
  selfManaged?: boolean;
  jump?: boolean;
}

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
export function planFromFacts(facts: ClusterFacts, installed: string, target: string, mode: PlanMode = {}): UpgradePlan {
  const input = {
    installed,
    managed: facts.addon.managed,
    target,
    catalogue: facts.catalogue,
    kubernetesVersion: facts.cluster.kubernetesVersion,
    context: advisoryContextFrom(facts),
    manifests: shippedReleases(),
    jump: mode.jump,
  };
  return mode.selfManaged ? planSelfManaged(input) : planUpgrade(input);
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
