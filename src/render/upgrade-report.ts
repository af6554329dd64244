/**
 * What an upgrade reports: the JSON document, the state of the cluster when a walk stops, and the calls a
 * dry run would make.
 */
import type { Finding } from '../domain.js';
import { daemonSetInfo } from '../gather/facts.js';
import type { Runtime } from '../runtime.js';
import type { JournalStep } from '../act/upgrade/journal.js';
import type { RollbackReport } from '../act/upgrade/rollback.js';

/** The `upgrade --output json` document (schemas/upgrade.schema.json). */
export interface UpgradeReport {
  schemaVersion: 1;
  from: string;
  to: string;
  backup: string | null;
  dryRun: boolean;
  steps: Array<JournalStep & { result: 'succeeded' | 'failed' | 'skipped' | 'planned' }>;
  findings: Finding[];
  /** `--atomic`: the walk back after a failed step (null when there was none). */
  rollback: RollbackReport | null;
  carriedSettings?: Array<{ path: string; value: unknown }>;
  droppedSettings?: Array<{ path: string; value: unknown; reason: string; step?: number }>;
  /** Custom settings that stay as they are (EKS does not own them, PRESERVE keeps them, or NONE conflicts). */
  keptSettings?: Array<{ path: string; value: unknown; reason: string }>;
  resetByOverwrite?: Array<{ field: string; current: string; after: string | null }>;
  /** Self-managed (`apply`) steps: the custom settings each carries, and where its images come from. */
  manifestSettings?: string[];
  imageRegistry?: string;
}

/** One line of what the add-on and the DaemonSet are now, read fresh (unreadable parts said so). */
export async function describeState(runtime: Runtime): Promise<string> {
  const [addon, ds] = await Promise.all([
    runtime.eks.describeAddon().catch(() => null),
    runtime.kube.getDaemonSet().then((d) => (d ? d : null)).catch(() => null),
  ]);
  const addonText = addon
    ? addon.managed
      ? `EKS add-on ${addon.version ?? '?'} ${addon.status ?? ''}${addon.health.length ? ` with ${addon.health.map((h) => h.code).join(', ')}` : ''}`
      : 'no EKS add-on'
    : 'EKS unreadable';
  const dsText = ds ? `aws-node runs ${daemonSetInfo(ds).version ?? 'an unreadable version'}` : 'aws-node unreadable';
  return `${addonText.trim()}, ${dsText}`;
}

/** Prints the calls the upgrade would make, in order (or the JSON report). */
export function printDryRun(runtime: Runtime, report: UpgradeReport, valuesText: string | undefined, roleArn: string | undefined, backupDir: string, podIdentityRoleArn?: string): void {
  const { ui } = runtime;
  if (ui.format === 'json') {
    ui.json(report);
    return;
  }
  const c = runtime.clusterName;
  const lines = [
    `Dry run: these are the calls \`vpccni upgrade\` would make on ${c}, in order. Nothing was changed.`,
    `  1. kubectl get daemonset aws-node -n kube-system -o yaml (and the ConfigMap, ENIConfigs, DescribeAddon) → a backup in ${backupDir}`,
  ];
  let n = 2;
  for (const step of report.steps) {
    if (step.result === 'succeeded') continue;
    if (step.action === 'apply') {
      lines.push(`  ${n++}. kubectl apply --server-side --field-manager=vpccni --force-conflicts -f <the upstream ${step.to} manifest, images from ${report.imageRegistry ?? 'the regional registry'}, custom settings carried over>`);
      lines.push(`  ${n++}. kubectl rollout status daemonset aws-node -n kube-system, then check its images carry ${step.to}`);
      if (step.diff) lines.push(...step.diff.trimEnd().split('\n').map((l) => `       ${l}`));
      else if (step.diff === '') lines.push('       (no change to the manifest)');
      continue;
    }
    const vals = (step.action === 'create' ? valuesText : undefined) ?? (step.action === 'update' && valuesText && !report.carriedSettings ? valuesText : undefined);
    const args = [
      `--cluster-name ${c}`,
      '--addon-name vpc-cni',
      `--addon-version ${step.to}`,
      `--resolve-conflicts ${step.resolveConflicts}`,
      ...(vals ? [`--configuration-values '${vals}'`] : []),
      ...(roleArn ? [`--service-account-role-arn ${roleArn}`] : []),
      ...(podIdentityRoleArn ? [`--pod-identity-associations serviceAccount=aws-node,roleArn=${podIdentityRoleArn}`] : []),
    ].join(' ');
    lines.push(`  ${n++}. aws eks ${step.action === 'create' ? 'create-addon' : 'update-addon'} ${args}`);
    lines.push(
      step.action === 'create'
        ? `  ${n++}. aws eks describe-addon --cluster-name ${c} --addon-name vpc-cni, until ACTIVE (or CREATE_FAILED)`
        : `  ${n++}. aws eks describe-update --name ${c} --addon-name vpc-cni --update-id <id>, until Successful (or Failed/Cancelled)`,
    );
    lines.push(`  ${n++}. kubectl rollout status daemonset aws-node -n kube-system, then check its images carry ${step.to}`);
  }
  for (const line of lines) ui.out(line);
}
