/**
 * The upgrade journal: what an upgrade set out to do and how far it got, written after every change of
 * state, so that `vpccni upgrade --resume` can continue from the last finished step and never repeats a
 * mutating call whose outcome it does not know.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResolveConflicts } from '../../domain.js';
import { UsageError } from '../../errors.js';
import { nestingTooDeep } from '../../formats/nesting.js';
import type { RollbackReport } from './rollback.js';

/** One step as the journal records it. */
export interface JournalStep {
  from: string;
  to: string;
  /** `apply`: server-side apply of the upstream manifest of `to` (the install stays self-managed). */
  action: 'create' | 'update' | 'apply';
  /** null for `apply` steps (a server-side apply takes the fields it sets, `--force-conflicts`). */
  resolveConflicts: ResolveConflicts | null;
  /** Why the first EKS step uses its mode (predicted from the live objects' field owners before any change). */
  resolveConflictsReason?: string;
  result: 'succeeded' | 'failed' | 'skipped' | 'planned' | 'started';
  updateId?: string;
  error?: string;
  /** Dry runs of `apply` steps: the manifest diff from the step before. */
  diff?: string;
}

/** The journal of one upgrade of one cluster. */
export interface Journal {
  schemaVersion: 1;
  kind: 'VpccniUpgradeJournal';
  cluster: string;
  region: string;
  to: string;
  resolveConflicts: ResolveConflicts | null;
  configurationValues: string | null;
  serviceAccountRoleArn: string | null;
  /** The role of the Pod Identity association set with every step, when `--pod-identity-role-arn` was given. */
  podIdentityRoleArn?: string;
  /** `upgrade --self-managed` / `--jump`, so that a resumed walk plans the same way (absent: false). */
  selfManaged?: boolean;
  jump?: boolean;
  /** `upgrade --atomic`: a failed step walks back to the start; a resume keeps it (absent: false). */
  atomic?: boolean;
  /** The walk back of an --atomic run that stopped, as `upgrade --output json` reports it. */
  rollback?: RollbackReport;
  /** The backup of the run's first start: the baseline a resume compares against and the way back restores. */
  backup: string | null;
  startedAt: string;
  updatedAt: string;
  finished: boolean;
  steps: JournalStep[];
}

/** Where the journal of a cluster lives: beside its backups. */
export function journalPath(backupDir: string, cluster: string, region: string): string {
  return join(backupDir, `upgrade-journal-${cluster}-${region}.json`);
}

/** Writes the journal atomically (temp file, fsync, rename). */
export async function saveJournal(path: string, journal: Journal): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ ...journal, updatedAt: new Date().toISOString() }, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

/** Reads a journal; null when there is none. */
export async function loadJournal(path: string): Promise<Journal | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    if (nestingTooDeep(text)) throw new Error('nested too deeply');
    const journal = JSON.parse(text) as Journal;
    if (journal.kind !== 'VpccniUpgradeJournal' || !Array.isArray(journal.steps)) throw new Error('not a journal');
    return journal;
  } catch {
    throw new UsageError(`The upgrade journal ${path} is damaged; delete it and start the upgrade again with --to.`);
  }
}
