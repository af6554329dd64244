/**
 * How an upgrade stops (exit 4): what failed, the cluster as it is now, the backup, and, last, the exact
 * command that continues and the one that goes back. With `--atomic` the walk back runs first
 * (./rollback.ts) and the stop names where it returned to, or why it could not.
 */
import { InterruptedError, UpgradeStoppedError } from '../../errors.js';
import { describeState, type UpgradeReport } from '../../render/upgrade-report.js';
import type { Runtime } from '../../runtime.js';
import { clusterFlags, shellWord } from '../next-command.js';
import { loadJournal, saveJournal, type Journal, type JournalStep } from './journal.js';
import { journalFileOf, ResumeStop } from './resume.js';
import { describeStep, walkBack, type RollbackReport } from './rollback.js';
import { StepFailure } from './walk.js';

/**
 * The two commands a stop ends with: `continue:` (resume the journal, or, once the walk back returned and the
 * journal is closed, start the upgrade again) and `go back:` (restore the run's backup).
 */
export function nextCommands(
  runtime: Pick<Runtime, 'kubeContext' | 'clusterName' | 'region'>,
  backupDir: string,
  backup: string | null,
  restart?: Journal,
): string {
  const where = clusterFlags(runtime);
  // After a walk back that returned, the journal is closed: the run starts again with the flags it had.
  const again = restart
    ? [
        '--to', restart.to,
        ...(restart.resolveConflicts ? ['--resolve-conflicts', restart.resolveConflicts] : []),
        ...(restart.configurationValues ? ['--configuration-values', restart.configurationValues] : []),
        ...(restart.serviceAccountRoleArn ? ['--service-account-role-arn', restart.serviceAccountRoleArn] : []),
        ...(restart.podIdentityRoleArn ? ['--pod-identity-role-arn', restart.podIdentityRoleArn] : []),
        ...(restart.selfManaged ? ['--self-managed'] : []),
        ...(restart.jump ? ['--jump'] : []),
        '--atomic',
      ].map(shellWord).join(' ')
    : '';
  const go = restart ? `vpccni upgrade ${again}` : 'vpccni upgrade --resume';
  const back = backup ? `vpccni restore ${shellWord(backup)} ${where}` : 'nothing to go back to (no backup was taken)';
  return `continue: ${go} ${where} --backup-dir ${shellWord(backupDir)}; go back: ${back}`;
}

/** What the stopped walk needs to say where it stopped and, with --atomic, to walk back. */
export interface StoppedWalk {
  report: UpgradeReport;
  journal: Journal;
  journalFile: string;
  backupDir: string;
  timeoutMs: number;
}

/** The walk's `stopped`: walks back under --atomic (not after Ctrl-C, nor when nothing was sent), then throws the stop. */
export async function stopUpgrade(runtime: Runtime, w: StoppedWalk, error: unknown, current: JournalStep | undefined, interrupted: boolean): Promise<never> {
  const { ui } = runtime;
  const { report, journal } = w;
  const i = current ? journal.steps.indexOf(current) : -1;
  const call = { create: 'CreateAddon', update: 'UpdateAddon', apply: 'server-side apply of the upstream manifest' } as const;
  const which = current ? `step ${i + 1} of ${journal.steps.length} (${current.from} → ${current.to}, ${call[current.action]})` : 'the upgrade';
  const backup = journal.backup ?? report.backup;
  const stale = error instanceof StepFailure && error.kind === 'stale';
  if (journal.atomic && !interrupted && !stale) {
    ui.warn(`The upgrade stopped at ${which}: ${current?.error ?? 'see above'}. --atomic: walking back to ${journal.steps[0]?.from ?? 'the start'} with the settings of the backup ${backup}.`);
    const back = await walkBack(runtime, journal, w.timeoutMs);
    report.rollback = back;
    journal.rollback = back;
    if (back.outcome === 'returned') journal.finished = true;
    await saveJournal(w.journalFile, journal);
  }
  if (ui.format === 'json') ui.json(report);
  const state = await describeState(runtime);
  const back = report.rollback;
  if (back?.outcome === 'returned') {
    throw new UpgradeStoppedError(
      `The upgrade stopped at ${which}: ${current?.error}. --atomic walked back ${walkedText(back)} and returned to ${back.to}: ${state}. Backup: ${backup}. ${nextCommands(runtime, w.backupDir, backup, journal)}`,
    );
  }
  const tail = `The cluster now: ${state}. Backup: ${backup}. Fix the cause, then ${nextCommands(runtime, w.backupDir, backup)}`;
  if (back) throw new UpgradeStoppedError(`The upgrade stopped at ${which}: ${current?.error}. --atomic could not walk back to ${back.to}: ${back.error}; the journal is kept. ${tail}`);
  if (interrupted) throw new InterruptedError(`Interrupted while waiting on ${which}; EKS may still be applying it. ${tail}`);
  throw new UpgradeStoppedError(`The upgrade stopped at ${which}: ${current?.error}. ${tail}`);
}

/**
 * An exit-4 stop made outside the walk gains the two commands when a journal is open; a resume's stop before
 * its walk (ResumeStop) walks back first under --atomic, and prints the JSON document with the `rollback`.
 */
export async function withNextCommands(runtime: Runtime, o: { backupDir: string; timeoutMs: number }, error: unknown): Promise<unknown> {
  if (!(error instanceof UpgradeStoppedError) || / continue: vpccni /.test(error.message)) return error;
  const journalFile = journalFileOf(runtime, o.backupDir);
  const journal = await loadJournal(journalFile).catch(() => null);
  if (!journal || journal.finished) return error;
  const said = error.message.replace(/\s*$/, '');
  if (!(error instanceof ResumeStop) || !journal.atomic) return new UpgradeStoppedError(`${said} ${nextCommands(runtime, o.backupDir, journal.backup)}`, { cause: error.cause });
  runtime.ui.warn(`${said} --atomic: walking back to ${journal.steps[0]?.from ?? 'the start'} with the settings of the backup ${journal.backup ?? '(none)'}.`);
  const back = await walkBack(runtime, journal, o.timeoutMs);
  journal.rollback = back;
  if (back.outcome === 'returned') journal.finished = true;
  await saveJournal(journalFile, journal);
  if (runtime.ui.format === 'json') {
    const report: UpgradeReport = { schemaVersion: 1, from: journal.steps[0]?.from ?? journal.to, to: journal.to, backup: journal.backup, dryRun: false, steps: journal.steps as UpgradeReport['steps'], findings: [], rollback: back };
    runtime.ui.json(report);
  }
  const state = await describeState(runtime);
  if (back.outcome === 'returned') {
    return new UpgradeStoppedError(`${said} --atomic walked back ${walkedText(back)} and returned to ${back.to}: ${state}. Backup: ${journal.backup}. ${nextCommands(runtime, o.backupDir, journal.backup, journal)}`);
  }
  return new UpgradeStoppedError(`${said} --atomic could not walk back to ${back.to}: ${back.error}; the journal is kept. The cluster now: ${state}. Fix the cause, then ${nextCommands(runtime, o.backupDir, journal.backup)}`);
}

/** The steps of a walk back that returned, in words. */
function walkedText(back: RollbackReport): string {
  return back.steps.length > 0 ? `in ${back.steps.length} step(s) (${back.steps.map(describeStep).join('; ')})` : 'with nothing to undo';
}
