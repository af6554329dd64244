/**
 * EKS cluster insights of one sandbox cluster (ListInsights, DescribeInsight; eks-service-2.json `Insight`).
 * Unless the scenario fixes its insights, the cluster has the UPGRADE_READINESS check EKS runs on add-ons:
 * is the installed vpc-cni version compatible with the next Kubernetes version? ERROR when not, with the
 * compatible versions in `categorySpecificSummary.addonCompatibilityDetails`; PASSING when it is; UNKNOWN
 * when the catalogue knows nothing of the next version. Computed on every call, so it follows upgrades;
 * `lastTransitionTime` moves when the status does.
 * https://docs.aws.amazon.com/eks/latest/userguide/cluster-insights.html
 */
import { createHash } from 'node:crypto';
import type { AddonRecord } from './addon-controller.js';
import type { ResolvedScenario } from './scenario.js';
import type { ScenarioInsight } from './scenario-types.js';

/** An insight as DescribeInsight returns it (timestamps in epoch seconds). */
export interface Insight {
  id: string;
  name: string;
  category: 'UPGRADE_READINESS' | 'MISCONFIGURATION';
  kubernetesVersion: string;
  lastRefreshTime: number;
  lastTransitionTime: number;
  description: string;
  insightStatus: { status: 'PASSING' | 'WARNING' | 'ERROR' | 'UNKNOWN'; reason: string };
  recommendation: string;
  additionalInfo: Record<string, string>;
  resources: Array<{ insightStatus: { status: string; reason: string }; arn?: string; kubernetesResourceUri?: string }>;
  categorySpecificSummary: {
    addonCompatibilityDetails?: Array<{ name: string; compatibleVersions: string[] }>;
    deprecationDetails?: unknown[];
  };
}

/** The fields ListInsights returns per insight. */
export function insightSummary(insight: Insight): Record<string, unknown> {
  const { id, name, category, kubernetesVersion, lastRefreshTime, lastTransitionTime, description, insightStatus } = insight;
  return { id, name, category, kubernetesVersion, lastRefreshTime, lastTransitionTime, description, insightStatus };
}

/** A UUID derived from text, stable across runs. */
function stableUuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The Kubernetes minor after `version` (`1.31` → `1.32`). */
export function nextKubernetesVersion(version: string): string {
  const [major, minor] = version.split('.').map(Number);
  return `${major ?? 1}.${(minor ?? 0) + 1}`;
}

const ADDON_CHECK = 'EKS add-on version compatibility';

/** The insights of one cluster. */
export class ClusterInsights {
  private readonly startedAt = Math.floor(Date.now() / 1000);
  private readonly transitions = new Map<string, { status: string; at: number }>();

  constructor(
    private readonly scenario: ResolvedScenario,
    private readonly addon: () => AddonRecord | null,
  ) {}

  /** Every insight, now. */
  all(): Insight[] {
    const fixed = this.scenario.insights;
    const insights = fixed ? fixed.map((i) => this.fromScenario(i)) : [this.addonCompatibility()];
    for (const insight of insights) {
      const seen = this.transitions.get(insight.id);
      const status = insight.insightStatus.status;
      if (!seen) this.transitions.set(insight.id, { status, at: this.startedAt - 3 * 86_400 });
      else if (seen.status !== status) this.transitions.set(insight.id, { status, at: Math.floor(Date.now() / 1000) });
      insight.lastTransitionTime = this.transitions.get(insight.id)?.at ?? this.startedAt;
    }
    return insights;
  }

  get(id: string): Insight | undefined {
    return this.all().find((i) => i.id === id);
  }

  private base(name: string, kubernetesVersion: string): Pick<Insight, 'id' | 'name' | 'category' | 'kubernetesVersion' | 'lastRefreshTime' | 'lastTransitionTime' | 'additionalInfo'> {
    return {
      id: stableUuid(`${this.scenario.cluster.accountId}/${this.scenario.cluster.region}/${this.scenario.cluster.name}/${name}`),
      name,
      category: 'UPGRADE_READINESS',
      kubernetesVersion,
      lastRefreshTime: this.startedAt - 3600,
      lastTransitionTime: this.startedAt,
      additionalInfo: { 'EKS update cluster documentation': 'https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html' },
    };
  }

  private fromScenario(i: ScenarioInsight): Insight {
    const next = i.kubernetesVersion ?? nextKubernetesVersion(this.scenario.cluster.kubernetesVersion);
    const base = this.base(i.name, next);
    const reason = i.reason ?? '';
    return {
      ...base,
      id: i.id ?? base.id,
      category: i.category ?? 'UPGRADE_READINESS',
      description: i.description ?? i.name,
      insightStatus: { status: i.status, reason },
      recommendation: i.recommendation ?? '',
      resources: i.addonCompatibilityDetails ? this.addonResources(i.status, reason) : [],
      categorySpecificSummary: i.addonCompatibilityDetails ? { addonCompatibilityDetails: structuredClone(i.addonCompatibilityDetails) } : {},
    };
  }

  private addonResources(status: string, reason: string): Insight['resources'] {
    const addon = this.addon();
    return addon ? [{ insightStatus: { status, reason }, arn: addon.addonArn }] : [];
  }

  private addonCompatibility(): Insight {
    const next = nextKubernetesVersion(this.scenario.cluster.kubernetesVersion);
    const base = this.base(ADDON_CHECK, next);
    const addon = this.addon();
    const compatible = this.scenario.catalogue
      .filter((e) => e.compatibilities.some((c) => c.clusterVersion === next))
      .map((e) => e.version);
    let status: Insight['insightStatus']['status'];
    let reason: string;
    if (!addon) {
      status = 'PASSING';
      reason = 'No EKS add-ons are installed on the cluster.';
    } else if (compatible.length === 0) {
      status = 'UNKNOWN';
      reason = `Compatibility of the installed add-on versions with Kubernetes ${next} is not known yet.`;
    } else if (compatible.includes(addon.addonVersion)) {
      status = 'PASSING';
      reason = `All installed add-on versions are compatible with Kubernetes ${next}.`;
    } else {
      status = 'ERROR';
      reason = `Add-on ${addon.addonName} version ${addon.addonVersion} is not compatible with Kubernetes ${next}.`;
    }
    return {
      ...base,
      description: `Checks version of installed EKS add-ons to ensure they are compatible with the next version of Kubernetes.`,
      insightStatus: { status, reason },
      recommendation: 'Upgrade your EKS add-on to a version that is compatible with the next Kubernetes version before you upgrade the cluster.',
      resources: this.addonResources(status, reason),
      categorySpecificSummary: addon ? { addonCompatibilityDetails: [{ name: addon.addonName, compatibleVersions: compatible }] } : {},
    };
  }
}
