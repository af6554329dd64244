/** `vpccni plan --to …`: the path, one minor version per step. Read-only. */
import { installedVersion } from '../decide/checks/index.js';
import { UnreachableError, UsageError } from '../errors.js';
import { gatherFacts } from '../gather/facts.js';
import { buildPlanReport, planFromFacts, type PlanReport } from '../decide/reports.js';
import type { GlobalOptions } from '../runtime.js';
import type { Ui } from '../render/ui.js';
import { exitCodeFor, renderFindings, withRuntime } from './shared.js';
import { isIacFormat } from '../render/iac.js';

/** Plans from the running version to `--to`; exit 1 when an error finding applies. */
export async function planCommand(options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  const target = String(options.to);
  if (options.selfManaged && options.jump) throw new UsageError('--self-managed stays self-managed and --jump adopts the install into EKS; choose one.');
  if (isIacFormat(globals.output)) {
    const { planAsCode } = await import('./plan-as-code.js');
    return planAsCode(globals.output, target, { selfManaged: Boolean(options.selfManaged), jump: Boolean(options.jump) }, globals);
  }
  return withRuntime(globals, async (runtime) => {
    const facts = await runtime.ui.step(`Reading the vpc-cni add-on of ${runtime.clusterName}`, () => gatherFacts(runtime));
    const installed = installedVersion(facts);
    if (!installed) {
      throw new UnreachableError(
        `Cluster "${facts.cluster.name}" has neither a vpc-cni add-on nor an aws-node DaemonSet with a readable version; there is nothing to plan from.`,
      );
    }
    const mode = { selfManaged: Boolean(options.selfManaged), jump: Boolean(options.jump) };
    const plan = planFromFacts(facts, installed, target, mode);
    const report = buildPlanReport(facts, plan);
    if (runtime.ui.format === 'json') runtime.ui.json(report);
    else renderPlan(runtime.ui, report, facts.cluster.name);
    return exitCodeFor(report.findings);
  });
}

/** The text form of a plan. */
export function renderPlan(ui: Ui, r: PlanReport, cluster: string): void {
  if (r.steps.length === 0) {
    ui.out(`vpc-cni on ${cluster} is at ${r.from} already; nothing to do.`);
  } else {
    ui.out(`Plan for ${cluster}: ${r.from} → ${r.to} in ${r.steps.length} step${r.steps.length > 1 ? 's' : ''} (${r.findings.some((f) => f.id === 'jump-skips-minors') ? 'one CreateAddon, skipping minors' : 'one minor version at a time'})`);
    r.steps.forEach((step, i) => {
      const call = { create: 'CreateAddon (adopt the self-managed install)', update: 'UpdateAddon', apply: 'server-side apply of the upstream manifest (self-managed)' }[step.action];
      ui.out(`  ${i + 1}. ${step.from} → ${step.to}  ${ui.style('dim', call)}`);
    });
    const flags = r.steps.every((s) => s.action === 'apply') ? ' --self-managed' : r.steps.length === 1 && r.steps[0]?.action === 'create' && r.findings.some((f) => f.id === 'jump-skips-minors') ? ' --jump' : '';
    ui.out(`Run: vpccni upgrade --to ${r.to}${flags}`);
  }
  ui.out(ui.style('bold', 'Findings'));
  for (const line of renderFindings(ui, r.findings)) ui.out(line);
}
