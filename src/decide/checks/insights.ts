/**
 * EKS upgrade insights (UPGRADE_READINESS): EKS can refuse UpdateClusterVersion while one is in ERROR (unless
 * forced; the enforcement is temporarily rolled back, containers-roadmap #2570), and an ERROR means the next
 * version is affected, so the gate reads them too. EKS refreshes them every 24 hours (EKS UG cluster-insights.adoc);
 * their age is part of the finding.
 */
import type { ClusterFacts, Finding, UpgradeInsightInfo } from '../../domain.js';

/** True when an insight is about add-ons or the VPC CNI (so DescribeInsight is worth its call). */
export function concernsAddons(name: string, description: string): boolean {
  return /add-?on|vpc-cni|\bCNI\b/i.test(`${name} ${description}`);
}

/** True when the insight names vpc-cni or is about add-on version compatibility. */
export function concernsVpcCni(insight: UpgradeInsightInfo): boolean {
  return insight.addons.some((a) => a.name === 'vpc-cni') || concernsAddons(insight.name, insight.description ?? '');
}

/** Whole hours from `from` to `to` (ISO times), or null. */
function hoursBetween(from: string | null, to: string): number | null {
  if (!from) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, Math.floor(ms / 3_600_000)) : null;
}

/** `refreshed 2026-11-28T09:00:00Z (26 h before this read)` for the newest refresh time of the insights. */
export function refreshedText(facts: ClusterFacts): string {
  const insights = facts.modern?.insights;
  if (!insights || insights.items.length === 0) return 'no upgrade insights were returned';
  const newest = insights.items.map((i) => i.lastRefreshTime).filter((t): t is string => t !== null).sort().at(-1) ?? null;
  if (!newest) return 'the upgrade insights carry no refresh time';
  const hours = hoursBetween(newest, insights.readAt);
  return `the upgrade insights were last refreshed at ${newest}${hours !== null ? ` (${hours} h before this read; EKS refreshes them every 24 hours)` : ''}`;
}

/** The insights that gate an upgrade to `target` (those for that version, or for no stated version). */
function forTarget(items: UpgradeInsightInfo[], target: string | null): UpgradeInsightInfo[] {
  return items.filter((i) => target === null || i.kubernetesVersion === null || i.kubernetesVersion === target);
}

/**
 * Insight findings: an insight about add-ons/vpc-cni in ERROR is an error (EKS will refuse the upgrade), in WARNING
 * a warning; another insight in ERROR is a warning (EKS refuses the upgrade, but not because of the CNI).
 */
export function insightFindings(facts: ClusterFacts, target: string | null): Finding[] {
  const insights = facts.modern?.insights;
  if (!insights) return [];
  const findings: Finding[] = [];
  for (const insight of forTarget(insights.items, target)) {
    const status = insight.status.toUpperCase();
    if (status !== 'ERROR' && status !== 'WARNING') continue;
    const ours = concernsVpcCni(insight);
    const vpcCni = insight.addons.find((a) => a.name === 'vpc-cni');
    const age = hoursBetween(insight.lastRefreshTime, insights.readAt);
    const refreshed = insight.lastRefreshTime ? ` (refreshed ${insight.lastRefreshTime}${age !== null ? `, ${age} h before this read` : ''})` : '';
    findings.push({
      id: ours ? 'upgrade-insight-error' : 'upgrade-insight-other',
      // In status (no target) an ERROR insight is a warning: it gates the next upgrade, not the cluster as it runs.
      severity: status === 'ERROR' && ours && target !== null ? 'error' : 'warning',
      message: `EKS upgrade insight "${insight.name}"${insight.kubernetesVersion ? ` for Kubernetes ${insight.kubernetesVersion}` : ''} is ${status}${insight.reason ? `: ${insight.reason.replace(/\.$/, '')}` : ''}${refreshed}${status === 'ERROR' ? '; EKS can refuse UpdateClusterVersion while an upgrade insight is in ERROR (unless forced)' : ''}.`,
      remediation: [
        insight.recommendation?.replace(/\.?$/, '.') ?? '',
        vpcCni && vpcCni.compatibleVersions.length > 0 ? `Versions of vpc-cni compatible with Kubernetes ${insight.kubernetesVersion ?? 'the target'}: ${vpcCni.compatibleVersions.join(', ')}.` : '',
        `See it with \`aws eks describe-insight --cluster-name ${facts.cluster.name} --id ${insight.id}\`; EKS refreshes insights every 24 hours, so a fix shows there up to a day later.`,
      ]
        .filter(Boolean)
        .join(' '),
    });
  }
  return findings;
}
