/** `vpccni check --kubernetes-version X.Y`: the CI gate before a control-plane upgrade. */
import { checkReadiness, installedVersion, vpcCniNotUsed } from '../decide/checks/index.js';
import { gatherFacts } from '../gather/facts.js';
import { publishToGitHub } from '../render/github.js';
import type { GlobalOptions } from '../runtime.js';
import { parseKubernetesVersion } from '../upgrade-planner/version.js';
import type { PlanStep, Finding } from '../domain.js';
import { renderFindings, withRuntime } from './shared.js';

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
    const readiness = checkReadiness(facts, target);
    const report: CheckReport = {
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
    const ui = runtime.ui;
    const notUsed = vpcCniNotUsed(facts);
    const what = notUsed === null ? `vpc-cni ${report.installedVersion ?? '(unknown version)'}` : `${notUsed === 'auto-mode' ? 'EKS Auto Mode (no vpc-cni add-on needed)' : 'another CNI (no vpc-cni add-on)'}`;
    const verdict = report.pass
      ? `PASS: ${what} on ${facts.cluster.name} is ready for Kubernetes ${report.kubernetesVersion}.`
      : `FAIL: ${what} on ${facts.cluster.name} is not ready for Kubernetes ${report.kubernetesVersion}.`;
    const fix = report.suggestedUpgrade
      ? {
          command: report.suggestedUpgrade.command,
          path: [report.installedVersion ?? '?', ...report.suggestedUpgrade.steps.map((s) => s.to)].join(' → '),
        }
      : null;
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
      if (fix) ui.out(`Upgrade first: ${fix.command}  (${fix.path})`);
      ui.out(ui.style('bold', 'Findings'));
      for (const line of renderFindings(ui, report.findings)) ui.out(line);
    }
    return report.pass ? 0 : 1;
  });
}
