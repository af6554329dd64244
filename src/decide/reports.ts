/**
 * Deciding and shaping what `status`, `plan` and `check` report: pure functions from gathered facts to the one
 * result object that both the text and the JSON output are rendered from.
 */
import { checkReadiness, evaluateFindings, installedVersion, advisoryContextFrom, sortFindings, isRolledOut } from './checks/index.js';
import type { ClusterFacts, DaemonSetSummary, Finding, PlanStep, PodIdentityAssociationInfo, RolePermissions, UpgradeInsightInfo } from '../domain.js';
import { podIdentityMoveSteps, vpcCniNotUsed } from './checks/index.js';
import { UsageError, VpccniError } from '../errors.js';
import { parseStoredConfigurationValues } from './config/values.js';
import { defaultFor, latestFor } from '../upgrade-planner/catalogue.js';
import { planSelfManaged, planUpgrade, type UpgradePlan } from '../upgrade-planner/plan.js';
import { shippedReleases } from './manifests.js';
import { ownerFinding, ownerOf, ownerUpgradeInstruction, withOwnerRemediation } from './owner.js';
import type { AddonOwner } from '../domain.js';

/** How the user wants a self-managed install moved: stay self-managed, or adopt it in one jump. */
export interface PlanMode {
  selfManaged?: boolean;
  jump?: boolean;
}

/** The `status --output json` document (schemas/status.schema.json). */
export interface StatusReport {
  schemaVersion: 1;
  cluster: {
    name: string;
    region: string;
    kubernetesVersion: string;
    arn: string | null;
    ipFamily: 'ipv4' | 'ipv6';
    /** EKS Auto Mode (computeConfig.enabled). */
    autoMode?: boolean;
    /** Who runs pod networking: the VPC CNI (aws-node), EKS Auto Mode, or another CNI. */
    networking?: 'vpc-cni' | 'auto-mode' | 'other-cni';
    otherCnis?: string[];
  };
  addon: {
    managed: boolean;
    version: string | null;
    status: string | null;
    health: Array<{ code: string; message: string; resourceIds: string[] }>;
    serviceAccountRoleArn: string | null;
    configurationValues: Record<string, unknown> | null;
    /** The Pod Identity associations of kube-system/aws-node; null when they could not be read. */
    podIdentityAssociations?: PodIdentityAssociationInfo[] | null;
    /** The eks-pod-identity-agent DaemonSet, null when absent. */
    podIdentityAgent?: DaemonSetSummary | null;
    /** What the role aws-node uses allows of the CNI's actions; null when not read. */
    rolePermissions?: RolePermissions | null;
  };
  /** The UPGRADE_READINESS insights (about add-ons, with details); null when they could not be read. */
  upgradeInsights?: { readAt: string; items: UpgradeInsightInfo[] } | null;
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
  /** Who owns the add-on (its tags, `--owner-tag`); null when nothing says (docs/domain.md). */
  owner: AddonOwner | null;
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
      autoMode: facts.cluster.autoMode === true,
      networking: vpcCniNotUsed(facts) ?? 'vpc-cni',
      otherCnis: facts.modern?.otherCnis ?? [],
    },
    addon: {
      managed: facts.addon.managed,
      version: installedVersion(facts),
      status: facts.addon.status,
      health: facts.addon.health,
      serviceAccountRoleArn: facts.addon.serviceAccountRoleArn,
      configurationValues: storedConfigurationValues(facts.addon.configurationValues),
      podIdentityAssociations: facts.modern ? facts.modern.podIdentityAssociations : null,
      podIdentityAgent: facts.modern?.podIdentityAgent ?? null,
      rolePermissions: facts.modern?.rolePermissions ?? null,
    },
    upgradeInsights: facts.modern?.insights ?? null,
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
    owner: ownerOf(facts),
    findings: mergeFindings(evaluateFindings(facts), planFindings, ownerFinding(ownerOf(facts))),
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
    findings: mergeFindings(plan.findings, evaluateFindings(facts), podIdentityMove(facts, plan.to)),
  };
}

/** The guided move from IRSA to EKS Pod Identity, as an info finding, when aws-node uses IRSA and no association. */
export function podIdentityMove(facts: ClusterFacts, to: string): Finding[] {
  if (!facts.addon.managed || !facts.addon.serviceAccountRoleArn || !facts.modern?.podIdentityAssociations) return [];
  if (facts.modern.podIdentityAssociations.length > 0) return [];
  const steps = podIdentityMoveSteps(facts, null).map((s, i) => `${i + 1}. ${s.replace('<version>', to)}`);
  return [
    {
      id: 'irsa-to-pod-identity',
      severity: 'info',
      message: `aws-node uses IRSA (${facts.addon.serviceAccountRoleArn}); EKS Pod Identity needs no OIDC provider and can be set with the add-on update.`,
      remediation: steps.join(' '),
    },
  ];
}

/** The `check --output json` document (schemas/check.schema.json). */
export interface CheckReport {
  schemaVersion: 1;
  pass: boolean;
  kubernetesVersion: string;
  currentKubernetesVersion: string;
  installedVersion: string | null;
  /**
   * The upgrade that makes the add-on ready. For an add-on owned by infrastructure code `command` is the
   * `vpccni plan … --output <owner>` that prints the owner's pins, and `pin` says which pin to change, step by step.
   */
  suggestedUpgrade: { to: string; command: string; steps: PlanStep[]; pin?: string } | null;
  /** Who owns the add-on; null when nothing says. */
  owner: AddonOwner | null;
  findings: Finding[];
  /** When EKS last refreshed its upgrade insights (they gate the upgrade too), as a sentence; null when not read. */
  upgradeInsights?: string | null;
  /** Who runs pod networking; without aws-node by design (Auto Mode, another CNI) the gate does not need it. */
  networking?: 'vpc-cni' | 'auto-mode' | 'other-cni';
}

/** `check`'s verdict over the facts for a target Kubernetes version. */
export function buildCheckReport(facts: ClusterFacts, target: string): CheckReport {
  const readiness = checkReadiness(facts, target);
  const owner = ownerOf(facts);
  const suggested = readiness.suggestedUpgrade;
  return {
    schemaVersion: 1,
    pass: readiness.pass,
    kubernetesVersion: readiness.kubernetesVersion,
    currentKubernetesVersion: facts.cluster.kubernetesVersion,
    installedVersion: installedVersion(facts),
    suggestedUpgrade: !suggested
      ? null
      : owner
        ? {
            ...suggested,
            // An owned add-on moves in its owner: the plan prints the owner's pins (`--output`, branch iacplan).
            command: `vpccni plan --to ${suggested.to}${owner.kind === 'tag' ? '' : ` --output ${owner.kind}`}`,
            pin: ownerUpgradeInstruction(owner, suggested.steps.map((s) => s.to)),
          }
        : { ...suggested, command: `vpccni upgrade --to ${suggested.to}` },
    owner,
    findings: readiness.pass
      ? readiness.findings
      : mergeFindings(withOwnerRemediation(readiness.findings, owner, suggested?.steps.map((s) => s.to) ?? []), ownerFinding(owner)),
    upgradeInsights: readiness.insights ?? null,
    networking: vpcCniNotUsed(facts) ?? 'vpc-cni',
  };
}

/** The one-line verdict of a check report and the upgrade that fixes it (with its path), for people. */
export function checkVerdict(report: CheckReport, clusterName: string): { verdict: string; fix: { command: string; path: string; pin?: string } | null } {
  const what =
    report.networking === 'auto-mode'
      ? 'EKS Auto Mode (no vpc-cni add-on needed)'
      : report.networking === 'other-cni'
        ? 'another CNI (no vpc-cni add-on)'
        : `vpc-cni ${report.installedVersion ?? '(unknown version)'}`;
  const verdict = report.pass
    ? `PASS: ${what} on ${clusterName} is ready for Kubernetes ${report.kubernetesVersion}.`
    : `FAIL: ${what} on ${clusterName} is not ready for Kubernetes ${report.kubernetesVersion}.`;
  const fix = report.suggestedUpgrade
    ? {
        command: report.suggestedUpgrade.command,
        ...(report.suggestedUpgrade.pin ? { pin: report.suggestedUpgrade.pin } : {}),
        path: [report.installedVersion ?? '?', ...report.suggestedUpgrade.steps.map((s) => s.to)].join(' → '),
      }
    : null;
  return { verdict, fix };
}
