/** `vpccni backup [--out DIR]`: writes the aws-node DaemonSet and the objects around it to one new file. */
import { assertBackupDir, backupDocumentOf, sandboxBackupDir, writeBackup } from '../act/backup.js';
import { gatherFacts } from '../gather/facts.js';
import type { GlobalOptions } from '../runtime.js';
import { withRuntime } from './shared.js';

/** The `backup --output json` document (schemas/backup-output.schema.json). */
export interface BackupReport {
  schemaVersion: 1;
  backup: string;
  cluster: string;
  daemonSetVersion: string | null;
}

/** Gathers (the kube context must match the cluster), writes the backup, prints its path; exit 0. */
export async function backupCommand(options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  const dir = typeof options.out === 'string' && options.out !== '' ? options.out : '.vpccni/backups';
  assertBackupDir(dir, '--out');
  return withRuntime(globals, async (runtime) => {
    const { ui } = runtime;
    const facts = await ui.step(`Reading the aws-node DaemonSet of ${runtime.clusterName}`, () => gatherFacts(runtime));
    const doc = backupDocumentOf(facts);
    const path = await ui.step('Writing the backup', () => writeBackup(sandboxBackupDir(runtime, dir), doc));
    const report: BackupReport = {
      schemaVersion: 1,
      backup: path,
      cluster: facts.cluster.name,
      daemonSetVersion: facts.daemonSet?.version ?? null,
    };
    if (ui.format === 'json') {
      ui.json(report);
    } else {
      ui.out(path);
      ui.info(
        `Backed up aws-node ${report.daemonSetVersion ?? '(unknown version)'} of ${facts.cluster.name}` +
          `${doc.configMap ? ', the amazon-vpc-cni ConfigMap' : ''}${doc.eniConfigs.length ? `, ${doc.eniConfigs.length} ENIConfig(s)` : ''}` +
          `${doc.addon ? ' and the EKS add-on record' : ''}. Restore with: vpccni restore ${path}`,
      );
    }
    return 0;
  });
}
