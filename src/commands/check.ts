/** `vpccni check --kubernetes-version X.Y`: the CI gate before a control-plane upgrade. */
import { buildCheckReport, checkVerdict } from '../decide/reports.js';
import { gatherFacts } from '../gather/facts.js';
import { publishToGitHub } from '../render/github.js';
import type { GlobalOptions } from '../runtime.js';
import { parseKubernetesVersion } from '../upgrade-planner/version.js';
import { renderFindings, withRuntime } from './shared.js';

export type { CheckReport } from '../decide/reports.js';

/** The next minor of a Kubernetes version (`1.29` → `1.30`). */
export function nextMinor(version: string): string {
  const { major, minor } = parseKubernetesVersion(version);
  return `${major}.${minor + 1}`;
}

/** Exit 0 when ready for the Kubernetes version, 1 when not. */
export async function checkCommand(options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  const asked = typeof options.kubernetesVersion === 'string' ? options.kubernetesVersion : undefined;
  if (asked !== undefined) parseKubernetesVersion(asked); // refuse a bad value before any call
  return withRuntime(globals, async (runtime) => {
    const facts = await runtime.ui.step(`Reading the vpc-cni add-on of ${runtime.clusterName}`, () => gatherFacts(runtime));
    const target = asked ?? nextMinor(facts.cluster.kubernetesVersion);
    const report = buildCheckReport(facts, target);
    const ui = runtime.ui;
    const { verdict, fix } = checkVerdict(report, facts.cluster.name);
    publishToGitHub({
      title: `vpccni check: ${facts.cluster.name} → Kubernetes ${report.kubernetesVersion}`,
      pass: report.pass,
      verdict,
      fix,
      findings: report.findings,
    });
    if (ui.format === 'json') {
      ui.json(report);
    } else {
      ui.out(ui.style(report.pass ? 'green' : 'red', verdict));
      if (fix?.pin) ui.out(`Change the owner's pin first: ${fix.pin}  (${fix.path})`);
      else if (fix) ui.out(`Upgrade first: ${fix.command}  (${fix.path})`);
      if (report.upgradeInsights) ui.out(`EKS upgrade insights: ${report.upgradeInsights}.`);
      ui.out(ui.style('bold', 'Findings'));
      for (const line of renderFindings(ui, report.findings)) ui.out(line);
    }
    return report.pass ? 0 : 1;
  });
}
