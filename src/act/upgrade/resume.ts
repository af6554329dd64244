/**
 * What a resumed walk trusts: the journal of the stopped run, checked against the flags given now, and the
 * cluster as it is now (a change still in flight is waited for, never sent again).
 */
import { gatherFacts, type GatheredFacts } from '../../gather/facts.js';
import { UpgradeStoppedError, UsageError } from '../../errors.js';
import type { Runtime } from '../../runtime.js';
import { tryParseAddonVersion, versionMatches } from '../../upgrade-planner/version.js';
import { journalPath, loadJournal, type Journal, type JournalStep } from './journal.js';
import { rolloutOutcome } from './walk.js';
import { pollUntil } from './wait.js';

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
  if (!settled) throw new UpgradeStoppedError(`The add-on is still ${facts.addon.status} after the timeout; check it with vpccni status and resume later.`);
  return gatherFacts(runtime, journal.serviceAccountRoleArn ? { roleArn: journal.serviceAccountRoleArn } : {});
}

/** Waits for the aws-node rollout of a step that settled while no walk was watching, and checks its images. */
export async function confirmRolledOut(runtime: Runtime, version: string, timeoutMs: number): Promise<void> {
  const line = runtime.ui.progress('Waiting for the aws-node rollout');
  const { done, running } = await rolloutOutcome(runtime.kube, Date.now() + timeoutMs, line).finally(() => line.stop());
  if (!done || running !== version) {
    throw new UpgradeStoppedError(`EKS reports ${version}, but the aws-node DaemonSet ${done ? `runs ${running ?? 'no readable version'}` : 'has not rolled out'}; check it with vpccni status and run \`vpccni upgrade --resume\` again.`);
  }
}
