/**
 * `upgrade --atomic`'s way back: after a failed step, walks the add-on back to the version the run started
 * from with the settings of the run's backup (the plan is src/decide/rollback-plan.ts), waits for every
 * rollout, and checks where the cluster ended. Never throws: a failure is the report's outcome `failed`.
 */
import { readBackup, type BackupDocument } from '../backup.js';
import { runRestore } from '../restore.js';
import { daemonSetInfo } from '../../gather/facts.js';
import { planRollback, sameValues, type RollbackStart, type RollbackStep } from '../../decide/rollback-plan.js';
import type { Ui } from '../../render/ui.js';
import type { Runtime } from '../../runtime.js';
import { sameRelease, tryParseAddonVersion } from '../../upgrade-planner/version.js';
import type { Journal } from './journal.js';
import { forgetAddon } from './forget.js';
import { eksReport } from './grace.js';
import { rolloutOutcome } from './walk.js';
import { pollUntil } from './wait.js';
import { BUSY } from './resume.js';

/** The `rollback` object of `upgrade --output json`. */
export interface RollbackReport {
  from: string;
  to: string;
  steps: RollbackStep[];
  outcome: 'returned' | 'failed';
  /** Why the way back stopped (a step, or the check of where it ended), when it failed. */
  error?: string;
}

const same = (a: string | null | undefined, b: string | null | undefined): boolean => {
  const x = a ? tryParseAddonVersion(a) : null;
  const y = b ? tryParseAddonVersion(b) : null;
  return Boolean(x && y && sameRelease(x, y));
};

/** Where the run started, from its journal and its backup. */
export function startOf(journal: Journal, doc: BackupDocument): RollbackStart {
  const values = doc.addon?.configurationValues;
  return {
    version: journal.steps[0]?.from ?? journal.to,
    managed: doc.addon !== null,
    configurationValues: typeof values === 'string' && values.trim() !== '' ? values : null,
  };
}

/** Walks back to the run's start; `timeoutMs` for each step (and for a change still in flight to settle). */
export async function walkBack(runtime: Runtime, journal: Journal, timeoutMs: number): Promise<RollbackReport> {
  const report: RollbackReport = { from: '?', to: journal.steps[0]?.from ?? '?', steps: [], outcome: 'failed' };
  try {
    if (!journal.backup) throw new Error('the run has no backup to go back to');
    const doc = await readBackup(journal.backup);
    const start = startOf(journal, doc);
    report.to = start.version;
    // A change EKS is still applying is waited for: nothing can be sent over it.
    const settled = await pollUntil(async () => {
      const a = await runtime.eks.describeAddon();
      return a.status && BUSY.has(a.status) ? undefined : a;
    }, { deadline: Date.now() + timeoutMs });
    if (!settled) throw new Error(`the add-on was still ${(await runtime.eks.describeAddon()).status ?? 'busy'} when the timeout ran out, so nothing could be sent`);
    const ds = await runtime.kube.getDaemonSet();
    const running = ds ? daemonSetInfo(ds).version : null;
    const now = { managed: settled.managed, version: settled.version, status: settled.status, configurationValues: settled.configurationValues, running };
    report.from = settled.managed && settled.version ? settled.version : (running ?? '?');
    report.steps = planRollback(journal.steps, start, now);
    for (const step of report.steps) {
      runtime.ui.info(`Walking back: ${describeStep(step)}`);
      try {
        await runBack(runtime, step, start, doc, journal.backup, timeoutMs);
        step.result = 'succeeded';
      } catch (error) {
        step.result = 'failed';
        step.error = error instanceof Error ? error.message : String(error);
        throw new Error(`${describeStep(step)} failed: ${step.error}`, { cause: error });
      }
    }
    const where = await arrived(runtime, start, timeoutMs);
    if (where) throw new Error(`the walk back ended, but ${where}`);
    report.outcome = 'returned';
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
  }
  return report;
}

/** A step back in words. */
export function describeStep(step: RollbackStep): string {
  if (step.action === 'update') return `UpdateAddon vpc-cni ${step.from} → ${step.to} (resolve conflicts PRESERVE)`;
  if (step.action === 'forget') return `DeleteAddon vpc-cni --preserve (EKS forgets the ${step.from} add-on; aws-node stays)`;
  return `the backup's aws-node DaemonSet, ConfigMap and ENIConfigs put back (${step.from} → ${step.to})`;
}

async function runBack(runtime: Runtime, step: RollbackStep, start: RollbackStart, doc: BackupDocument, backup: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (step.action === 'forget') {
    if (!(await forgetAddon(runtime.eks, deadline))) throw new Error('EKS still had the add-on record (DELETING) when the timeout ran out');
    return;
  }
  if (step.action === 'restore') {
    await runRestore({ ...runtime, ui: quiet(runtime.ui) }, backup, doc, { dryRun: false, yes: true, timeoutSeconds: Math.max(1, Math.round(timeoutMs / 1000)), backupDir: null });
    return;
  }
  const role = typeof doc.addon?.serviceAccountRoleArn === 'string' ? doc.addon.serviceAccountRoleArn : undefined;
  const id = await runtime.eks.updateAddon({
    version: step.to,
    resolveConflicts: 'PRESERVE',
    // A managed start gets its own values back on every step ('{}' when it had none: back to the defaults).
    ...(start.managed ? { configurationValues: start.configurationValues ?? '{}' } : {}),
    ...(start.managed && role ? { serviceAccountRoleArn: role } : {}),
  });
  const update = await pollUntil(async () => {
    const u = await runtime.eks.describeUpdate(id);
    return u.status === 'InProgress' ? undefined : u;
  }, { deadline });
  if (!update) throw new Error(`update ${id} was still InProgress when the timeout ran out`);
  if (update.status !== 'Successful') throw new Error(`EKS reported ${eksReport(await runtime.eks.describeAddon(), update)}`);
  const line = runtime.ui.progress('Waiting for the aws-node rollout');
  const { done, running } = await rolloutOutcome(runtime.kube, deadline, line).finally(() => line.stop());
  if (!done) throw new Error('the aws-node DaemonSet had not rolled out when the timeout ran out');
  if (!same(running, step.to)) throw new Error(`the aws-node DaemonSet runs ${running ?? 'no readable version'} instead of ${step.to}`);
}

/** Why the cluster is not back at the start, or null: the add-on (or its absence), its values, aws-node's version and rollout. */
async function arrived(runtime: Runtime, start: RollbackStart, timeoutMs: number): Promise<string | null> {
  const addon = await runtime.eks.describeAddon();
  if (start.managed) {
    if (!addon.managed || addon.status !== 'ACTIVE' || !same(addon.version, start.version)) {
      return `EKS reports ${addon.managed ? eksReport(addon) : 'no add-on'} instead of ACTIVE at ${start.version}`;
    }
    if (!sameValues(addon.configurationValues, start.configurationValues)) return "the add-on's configuration values differ from the backup's";
  } else if (addon.managed) {
    return `EKS still has the add-on (${eksReport(addon)})`;
  }
  const { done, running } = await rolloutOutcome(runtime.kube, Date.now() + timeoutMs);
  if (!same(running, start.version)) return `aws-node runs ${running ?? 'no readable version'} instead of ${start.version}`;
  return done ? null : 'the aws-node rollout had not finished when the timeout ran out';
}

/** The run's UI with restore's result lines turned into progress (the upgrade prints the one result). */
function quiet(ui: Ui): Ui {
  return {
    format: ui.format,
    color: ui.color,
    out: (text) => ui.info(text),
    json: () => undefined,
    info: (text) => ui.info(text),
    warn: (text) => ui.warn(text),
    debug: (text) => ui.debug(text),
    step: (title, task) => ui.step(title, task),
    style: (format, text) => ui.style(format, text),
    progress: (title) => ui.progress(title),
  };
}
