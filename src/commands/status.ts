/** `vpccni status`: one read-only report of the add-on on the cluster. */
import { gatherFacts } from '../gather/facts.js';
import { buildStatusReport, type StatusReport } from '../decide/reports.js';
import type { GlobalOptions } from '../runtime.js';
import { ownerUpgradeInstruction } from '../decide/owner.js';
import type { Ui } from '../render/ui.js';
import { exitCodeFor, renderFindings, withRuntime } from './shared.js';

/** Gathers, decides, renders; exit 1 when an error finding applies. */
export async function statusCommand(_options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  return withRuntime(globals, async (runtime) => {
    const facts = await runtime.ui.step(`Reading the vpc-cni add-on of ${runtime.clusterName}`, () => gatherFacts(runtime));
    const report = buildStatusReport(facts);
    if (runtime.ui.format === 'json') runtime.ui.json(report);
    else renderStatus(runtime.ui, report);
    return exitCodeFor(report.findings);
  });
}

/** The text form of a status report. */
export function renderStatus(ui: Ui, r: StatusReport): void {
  const label = (text: string) => ui.style('bold', text.padEnd(12));
  const addon = r.addon.managed
    ? `vpc-cni ${r.addon.version ?? 'unknown'}, managed by EKS, ${r.addon.status ?? 'status unknown'}${
        r.addon.health.length ? `, ${r.addon.health.length} health issue(s)` : ''
      }`
    : `${r.addon.version ?? 'no aws-node DaemonSet'}, self-managed (no EKS add-on)`;
  ui.out(`${label('Cluster')}${r.cluster.name} (${r.cluster.region}), Kubernetes ${r.cluster.kubernetesVersion}`);
  ui.out(`${label('Add-on')}${addon}`);
  for (const issue of r.addon.health) ui.out(`${' '.repeat(12)}${issue.code}: ${issue.message}`);
  if (r.owner) ui.out(`${label('Owner')}${r.owner.kind}: ${r.owner.detail} (change the version there, or its next run takes it back)`);
  if (r.cluster.networking === 'auto-mode') ui.out(`${label('Networking')}EKS Auto Mode (no aws-node needed)`);
  else if (r.cluster.networking === 'other-cni') ui.out(`${label('Networking')}another CNI: ${(r.cluster.otherCnis ?? []).join(', ')}`);
  const associations = r.addon.podIdentityAssociations ?? [];
  const byNode = associations.length === 0 && !r.addon.serviceAccountRoleArn;
  ui.out(`${label('IRSA role')}${r.addon.serviceAccountRoleArn ?? (byNode ? 'none (the node role is used)' : 'none')}`);
  for (const a of associations) {
    const agent = r.addon.podIdentityAgent;
    ui.out(`${label('PodIdentity')}${a.roleArn} (association ${a.associationId}${a.ownerArn ? ', owned by the add-on' : ''}); agent ${agent ? `${agent.ready}/${agent.desired} ready` : 'not installed'}`);
  }
  if (r.upgradeInsights) {
    const shown = r.upgradeInsights.items.map((i) => `${i.name}${i.kubernetesVersion ? ` (${i.kubernetesVersion})` : ''}: ${i.status}`);
    ui.out(`${label('Insights')}${shown.length ? shown.join('; ') : 'none'}`);
  }
  if (r.addon.configurationValues) {
    ui.out(`${label('Config')}${JSON.stringify(r.addon.configurationValues)}`);
  }
  if (r.daemonSet) {
    const ds = r.daemonSet;
    ui.out(
      `${label('DaemonSet')}aws-node ${ds.version ?? 'unknown version'}, ${ds.updated}/${ds.desired} updated, ${ds.available}/${ds.desired} available${ds.rolledOut ? '' : ' (rolling out)'}`,
    );
    for (const [name, image] of Object.entries(ds.images)) ui.out(`${' '.repeat(14)}${name.padEnd(20)} ${image}`);
  } else {
    ui.out(`${label('DaemonSet')}aws-node not found in kube-system`);
  }
  ui.out(
    `${label('Versions')}latest ${r.versions.latest ?? 'none'}, default ${r.versions.default ?? 'none'} (for Kubernetes ${r.cluster.kubernetesVersion})`,
  );
  if (r.upgradePath.length > 0) {
    ui.out(`${label('Path')}${[r.addon.version, ...r.upgradePath].join(' → ')} (${r.upgradePath.length} step${r.upgradePath.length > 1 ? 's' : ''})`);
    ui.out(`${' '.repeat(12)}${r.owner ? `owned: ${ownerUpgradeInstruction(r.owner, r.upgradePath)}` : `run: vpccni upgrade --to ${r.upgradePath.at(-1)}`}`);
  } else {
    ui.out(`${label('Path')}${r.versions.latest && r.addon.version === r.versions.latest ? 'up to date' : 'none'}`);
  }
  ui.out(ui.style('bold', 'Findings'));
  for (const line of renderFindings(ui, r.findings)) ui.out(line);
}
