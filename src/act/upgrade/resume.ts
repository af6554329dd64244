/**
 * What a resumed walk trusts: the journal of the stopped run, checked against the flags given now, and the
 * cluster as it is now (a change still in flight is waited for, never sent again).
 */
import { daemonSetInfo, gatherFacts, type GatheredFacts } from '../../gather/facts.js';
import { UpgradeStoppedError, UsageError } from '../../errors.js';
import type { Runtime } from '../../runtime.js';
import { sameRelease, tryParseAddonVersion, versionMatches } from '../../upgrade-planner/version.js';
import { journalPath, loadJournal, type Journal, type JournalStep } from './journal.js';
import { notReadyClause } from '../../gather/pods.js';
import { rolloutOutcome } from './walk.js';
import { parseDuration, pollUntil } from './wait.js';
import { awaitRecovery, DEFAULT_GRACE } from './grace.js';

/** The cluster read again after a wait, with the journal's role for the role checks. */
function readAgain(runtime: Runtime, journal: Journal): Promise<GatheredFacts> {
  return gatherFacts(runtime, journal.serviceAccountRoleArn ? { roleArn: journal.serviceAccountRoleArn } : {});
}

/**
 * A resume that stops before its walk (a change still in flight, a rollout the stopped run left stuck, an add-on
 * still DEGRADED): exit 4, and under --atomic the walk back runs (./stop.ts).
 */
export class ResumeStop extends UpgradeStoppedError {}

/** The add-on states in which EKS is still applying a change. */
export const BUSY = new Set(['CREATING', 'UPDATING', 'DELETING']);

/**
 * Where the journal of this run lives (its lock sits next to it). An in-process sandbox lives as long as this
 * process: its journal goes with it, never next to real ones.
 */
export function journalFileOf(runtime: Pick<Runtime, 'sandbox' | 'clusterName' | 'region'>, backupDir: string): string {
  return journalPath(runtime.sandbox ? runtime.sandbox.dir : backupDir, runtime.clusterName, runtime.region);
}

/** The journal file of this cluster and, with --resume, the stopped run to continue. */
export async function openJournal(
  runtime: Runtime,
  o: { backupDir: string; resume?: boolean; dryRun?: boolean; to?: string },
): Promise<{ journalFile: string; resumed: Journal | null }> {
  const journalFile = journalFileOf(runtime, o.backupDir);
  const previous = await loadJournal(journalFile);
  if (o.resume && (!previous || previous.finished)) {
    throw new UsageError(`There is no stopped upgrade of ${runtime.clusterName} to resume (no open journal at ${journalFile}); start one with --to.`);
  }
  if (!o.resume && previous && !previous.finished && !o.dryRun) {
    throw new UsageError(`An upgrade of ${runtime.clusterName} to ${previous.to} stopped part-way (journal ${journalFile}); run \`vpccni upgrade --resume\` to finish it, or delete the journal to start over.`);
  }
  const asked = o.to ? tryParseAddonVersion(o.to) : null;
  const journalTarget = previous ? tryParseAddonVersion(previous.to) : null;
  if (o.resume && previous && o.to && !(asked && journalTarget && versionMatches(asked, journalTarget))) {
    throw new UsageError(`The stopped upgrade goes to ${previous.to}, not ${o.to}; run \`vpccni upgrade --resume\` without --to.`);
  }
  return { journalFile, resumed: o.resume ? previous : null };
}

/**
 * The journal's steps that are done: those it recorded as succeeded, and the one that was in flight when
 * the walk stopped once EKS reports its version ACTIVE (its rollout is checked with the next step, or by
 * `confirmRolledOut` when it was the last). `settled` tells whether that in-flight step was counted.
 */
export function stepsDone(resumed: Journal | null, facts: GatheredFacts, installed: string): { done: JournalStep[]; settled: boolean } {
  // An EKS step settles when EKS reports its version ACTIVE; a manifest step when the DaemonSet carries it.
  const settledIndex =
    resumed && facts.addon.managed && facts.addon.status === 'ACTIVE'
      ? resumed.steps.findIndex((s) => s.result !== 'succeeded' && s.result !== 'planned' && s.to === installed)
      : resumed && !facts.addon.managed
        ? resumed.steps.findIndex((s) => s.action === 'apply' && s.result !== 'succeeded' && s.result !== 'planned' && s.to === installed)
        : -1;
  const done: JournalStep[] = (resumed?.steps ?? []).flatMap((s, i) => {
    if (s.result === 'succeeded') return [s];
    if (i !== settledIndex) return [];
    const { error: _error, ...rest } = s;
    return [{ ...rest, result: 'succeeded' as const }];
  });
  return { done, settled: settledIndex >= 0 };
}

/** Waits for the in-flight change of a stopped walk to settle, then reads the cluster again. */
export async function settleInFlight(runtime: Runtime, journal: Journal, facts: GatheredFacts, timeoutMs: number): Promise<GatheredFacts> {
  const pending = journal.steps.find((s) => s.result === 'started' || s.result === 'failed');
  runtime.ui.info(`The add-on is ${facts.addon.status}; waiting for the change already in flight${pending ? ` (${pending.to})` : ''} instead of calling again.`);
  const settled = await pollUntil(
    async () => {
      const a = await runtime.eks.describeAddon();
      return a.status && BUSY.has(a.status) ? undefined : a;
    },
    { deadline: Date.now() + timeoutMs },
  );
  if (!settled) throw new ResumeStop(`The add-on is still ${facts.addon.status} after the timeout; check it with vpccni status and resume later.`);
  return readAgain(runtime, journal);
}

/**
 * Waits for the aws-node rollout of a step that settled while no walk was watching (or that a stopped walk
 * left stuck), and checks its images: a resume never sends the next step over a rollout that is not done.
 * Stops (exit 4, resumable) naming the rollout, pods updated and available out of desired.
 */
export async function confirmRolledOut(runtime: Runtime, version: string, timeoutMs: number, next?: string): Promise<void> {
  const line = runtime.ui.progress('Waiting for the aws-node rollout');
  const { done, running } = await rolloutOutcome(runtime.kube, Date.now() + timeoutMs, line).finally(() => line.stop());
  const want = tryParseAddonVersion(version);
  const got = running ? tryParseAddonVersion(running) : null;
  if (done && want && got && sameRelease(want, got)) return;
  const retry = `check it with vpccni status (kubectl -n kube-system get pods -l k8s-app=aws-node) and run \`vpccni upgrade --resume\` again.`;
  if (done) throw new ResumeStop(`EKS reports ${version}, but the aws-node DaemonSet runs ${running ?? 'no readable version'}; ${retry}`);
  const ds = await runtime.kube.getDaemonSet();
  const info = ds ? daemonSetInfo(ds) : null;
  const pods = info ? `${info.updated}/${info.desired} pods updated, ${info.available}/${info.desired} available` : 'the DaemonSet unreadable';
  throw new ResumeStop(
    `The aws-node rollout of ${version} is stuck (${pods}) after the ${Math.round(timeoutMs / 1000)}s timeout${await notReadyClause(runtime.kube)}${next ? `; ${next} was not sent` : ''}; ${retry}`,
  );
}

/** The grace of a run: --grace, or the default. */
export function graceOf(o: { graceMs?: number }): number {
  return o.graceMs ?? parseDuration(DEFAULT_GRACE, '--grace', 0);
}

/**
 * A resume that finds the add-on DEGRADED gives it the grace to recover (showing what EKS reports) before
 * anything else; when it does not, stops (exit 4, resumable) naming EKS's last report.
 */
export async function recoverOnResume(runtime: Runtime, journal: Journal, facts: GatheredFacts, graceMs: number): Promise<GatheredFacts> {
  const version = facts.addon.version ?? journal.to;
  const line = runtime.ui.progress('Waiting for EKS to recover');
  const { recovered, report } = await awaitRecovery({ eks: runtime.eks, version, graceMs, progress: (t) => runtime.ui.info(t), line }).finally(() => line.stop());
  if (!recovered) {
    throw new ResumeStop(
      `EKS still reports ${report} after the ${Math.round(graceMs / 1000)}s grace; fix the cause (vpccni status names EKS's health issues) and run \`vpccni upgrade --resume\` again, with a longer --grace if it is still recovering.`,
    );
  }
  return readAgain(runtime, journal);
}

/**
 * What a resume does about a step EKS failed, said before anything else. After CREATE_FAILED the resume
 * plans from the cluster as the first run found it (no add-on: the baseline of its backup), and the walk
 * deletes the failed record with `preserve` before it creates again; returns true then. After UPDATE_FAILED
 * (nothing of the update applied) the update is sent again.
 */
export function announceRetry(runtime: Runtime, journal: Journal, facts: GatheredFacts): boolean {
  const failed = journal.steps.find((s) => s.result === 'failed');
  const status = facts.addon.status;
  if (!failed || (status !== 'CREATE_FAILED' && status !== 'UPDATE_FAILED')) return false;
  const call = { create: 'CreateAddon', update: 'UpdateAddon', apply: 'the manifest apply' }[failed.action];
  const what = `Step ${journal.steps.indexOf(failed) + 1} of the stopped run (${failed.from} → ${failed.to}, ${call}) failed: ${failed.error ?? 'no reason was recorded'}.`;
  if (status === 'CREATE_FAILED' && failed.action === 'create') {
    runtime.ui.info(
      `${what} EKS keeps the add-on CREATE_FAILED at ${facts.addon.version ?? '?'}: vpccni plans from the cluster as the first run found it (no add-on; backup ${journal.backup ?? 'none'}), deletes the failed record with DeleteAddon --preserve (aws-node stays as it runs) and creates the add-on again.`,
    );
    return true;
  }
  runtime.ui.info(`${what} EKS reports the add-on ${status} at ${facts.addon.version ?? '?'} (the change was not applied): vpccni sends it again.`);
  return false;
}

/** The facts as the first run of an adoption saw them: aws-node as it runs, and no EKS add-on record. */
export function withoutFailedRecord(facts: GatheredFacts): GatheredFacts {
  return {
    ...facts,
    addon: { ...facts.addon, managed: false, version: null, status: null, health: [], serviceAccountRoleArn: null, configurationValues: null },
    raw: { ...facts.raw, addon: null },
  };
}
