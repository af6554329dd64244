/**
 * `vpccni plan --to V --output terraform|eksctl|cloudformation`: the plan as the owner's pins. The steps, their
 * conflict modes and the values each sends come from the upgrade's own dry run, so that the pins say what
 * `vpccni upgrade` would send, step for step. Read-only.
 */
import { runUpgrade, type PlannedUpgrade } from '../act/upgrade/run.js';
import { UsageError } from '../errors.js';
import { iacPlanOf, renderIac, type IacFormat } from '../render/iac.js';
import type { GlobalOptions } from '../runtime.js';
import { renderFindings, withRuntime } from './shared.js';

const RESOURCE: Record<IacFormat, string> = { terraform: 'aws_eks_addon', eksctl: "eksctl's addons", cloudformation: 'AWS::EKS::Addon' };

/** Prints the pins on stdout; notes, carried and lost settings, and findings on stderr. */
export async function planAsCode(format: IacFormat, target: string, mode: { selfManaged: boolean; jump: boolean }, globals: GlobalOptions): Promise<number> {
  if (mode.selfManaged) {
    throw new UsageError(
      `plan --self-managed keeps aws-node self-managed: its steps are server-side applies of the upstream manifests, which ${RESOURCE[format]} cannot express; drop --self-managed to plan the move into the EKS add-on, or use --output text.`,
    );
  }
  return withRuntime({ ...globals, output: 'text' }, async (runtime) => {
    let planned: PlannedUpgrade | null = null;
    let said = '';
    // The dry run's result lines ("… already; nothing to do") go to stderr: stdout holds the code alone.
    const ui = { ...runtime.ui, out: (text: string) => { said = text; runtime.ui.info(text); } };
    await runUpgrade({ ...runtime, ui }, {
      to: target,
      dryRun: true,
      values: null,
      timeoutMs: 0,
      backupDir: '.vpccni/backups',
      ...mode,
      planned: (p) => {
        planned = p;
      },
    });
    const p = planned as PlannedUpgrade | null;
    if (!p) {
      process.stdout.write(`# ${said || `vpc-cni on ${runtime.clusterName} is at ${target} already.`}\n# Nothing to pin.\n`);
      return 0;
    }
    const { facts, report } = p;
    const associations = facts.modern?.podIdentityAssociations ?? null;
    if (facts.addon.managed && associations === null) {
      runtime.ui.warn('The Pod Identity associations of kube-system/aws-node could not be read; keep any pod identity association your code declares for the add-on.');
    }
    const code = renderIac(
      format,
      iacPlanOf({
        cluster: runtime.clusterName,
        region: runtime.region,
        from: report.from,
        to: report.to,
        steps: report.steps,
        storedValues: facts.addon.managed ? facts.addon.configurationValues : null,
        storedRoleArn: facts.addon.managed ? facts.addon.serviceAccountRoleArn : null,
        // Only the associations the add-on owns belong in its resource; others are resources of their own.
        storedAssociations: associations && associations.filter((a) => a.ownerArn).map((a) => ({ serviceAccount: a.serviceAccount, roleArn: a.roleArn })),
        createValues: p.createValues,
        updateValues: p.updateValues,
        serviceAccountRoleArn: p.serviceAccountRoleArn,
        podIdentityRoleArn: p.podIdentityRoleArn,
      }),
    );
    process.stdout.write(code);
    const findings = report.findings.filter((f) => f.severity !== 'info');
    if (findings.length > 0) for (const line of renderFindings(runtime.ui, findings)) runtime.ui.warn(line);
    return 0;
  });
}
