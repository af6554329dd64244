/**
 * `vpccni restore <backup-file> [--dry-run] [--yes] [--backup-dir <dir>]`: puts the aws-node DaemonSet of a backup back, and the
 * `amazon-vpc-cni` ConfigMap's data and the ENIConfigs' spec with it (src/act/restore.ts).
 */
import { assertBackupDir, readBackup } from '../act/backup.js';
import { runRestore } from '../act/restore.js';
import { parseDuration } from '../act/upgrade/wait.js';
import { UsageError } from '../errors.js';
import type { GlobalOptions } from '../runtime.js';
import { withRuntime } from './shared.js';

/** Reads the backup, shows what would change, and (confirmed) re-applies what differs; exit 0 when done. */
export async function restoreCommand(options: Record<string, unknown>, globals: GlobalOptions, args: string[]): Promise<number> {
  const file = args[0];
  if (!file) throw new UsageError('Name the backup file to restore, e.g. vpccni restore .vpccni/backups/aws-node-<cluster>-<time>.yaml.');
  const doc = await readBackup(file);
  const dryRun = Boolean(options.dryRun);
  const timeoutSeconds = Math.round(parseDuration(String(options.timeout ?? '5m')) / 1000);
  const yes = Boolean(options.yes);
  const backupDir = typeof options.backupDir === 'string' && options.backupDir !== '' ? options.backupDir : '.vpccni/backups';
  assertBackupDir(backupDir);
  return withRuntime(globals, (runtime) => runRestore(runtime, file, doc, { dryRun, yes, timeoutSeconds, backupDir }));
}

