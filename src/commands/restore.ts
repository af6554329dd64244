/**
 * `vpccni restore <backup-file> [--dry-run] [--yes]`: puts the aws-node DaemonSet of a backup back. The
 * backup is read and checked against the cluster (name, region, ARN) before anything is read or changed.
 */
import { readBackup, assertSameCluster, stripServerFields, type BackupDocument } from '../backup.js';
import { UnreachableError, UpgradeStoppedError, UsageError } from '../errors.js';
import { daemonSetInfo } from '../facts.js';
import { assertContextMatches } from '../gateways/kubectl.js';
import { sameApiServer } from '../gateways/kubeconfig.js';
import type { KubeObject } from '../manifests.js';
import { formatChange, planRestore, type RestoreChange } from '../restore-plan.js';
import type { GlobalOptions, Runtime } from '../runtime.js';
import { confirm } from '../ui.js';
import { parseDuration } from '../upgrade/wait.js';
import { withRuntime } from './shared.js';

/** The `restore --output json` document (schemas/restore.schema.json). */
export interface RestoreReport {
  schemaVersion: 1;
  backup: string;
  cluster: string;
  dryRun: boolean;
  changes: RestoreChange[];
  applied: boolean;
  /** True when the rollout finished, false when it did not in time, null when nothing was applied. */
  rolledOut: boolean | null;
  managed: boolean;
}



/** Reads the backup, shows what would change, and (confirmed) re-applies its DaemonSet; exit 0 when done. */
export async function restoreCommand(options: Record<string, unknown>, globals: GlobalOptions, args: string[]): Promise<number> {
  const file = args[0];
  if (!file) throw new UsageError('Name the backup file to restore, e.g. vpccni restore .vpccni/backups/aws-node-<cluster>-<time>.yaml.');
  const doc = await readBackup(file);
  const dryRun = Boolean(options.dryRun);
  const timeoutSeconds = Math.round(parseDuration(String(options.timeout ?? '5m')) / 1000);
  const yes = Boolean(options.yes);
  return withRuntime(globals, (runtime) => restore(runtime, file, doc, { dryRun, yes, timeoutSeconds }));
}

async function restore(
  runtime: Runtime,
  file: string,
  doc: BackupDocument,
  o: { dryRun: boolean; yes: boolean; timeoutSeconds: number },
): Promise<number> {
  const { ui } = runtime;
  const { timeoutSeconds } = o;
  const cluster = await ui.step(`Checking that the backup is of ${runtime.clusterName}`, () => runtime.eks.describeCluster());
  assertSameCluster(doc, cluster);
  assertContextMatches(runtime.kubeContext, cluster, sameApiServer);
  const [live, addon] = await ui.step('Reading the live aws-node DaemonSet', () =>
    Promise.all([runtime.kube.getDaemonSet(), runtime.eks.describeAddon()]),
  );

  const changes: RestoreChange[] = live
    ? planRestore(live, doc.daemonSet)
    : [{ path: 'daemonset/aws-node', live: null, backup: `(the whole DaemonSet, ${backupVersion(doc) ?? 'unknown version'})` }];
  const report: RestoreReport = {
    schemaVersion: 1,
    backup: file,
    cluster: cluster.name,
    dryRun: o.dryRun,
    changes,
    applied: false,
    rolledOut: null,
    managed: addon.managed,
  };
  const text = ui.format === 'text';
  const taken = `backup of ${doc.cluster.name} taken ${doc.createdAt}`;

  if (changes.length === 0) {
    if (text) ui.out(`Nothing to restore: the aws-node DaemonSet of ${cluster.name} already matches the ${taken}.`);
    else ui.json(report);
    return 0;
  }
  if (text) {
    ui.out(`${o.dryRun ? 'Restoring would change' : 'Restoring changes'} ${changes.length} field(s) of daemonset/aws-node on ${cluster.name} (live → backup, ${taken}):`);
    for (const change of changes) ui.out(`  ${formatChange(change)}`);
  }
  const extras = [doc.configMap ? 'the amazon-vpc-cni ConfigMap' : '', doc.eniConfigs.length ? `${doc.eniConfigs.length} ENIConfig(s)` : '']
    .filter(Boolean)
    .join(' and ');
  if (extras) ui.info(`The backup also holds ${extras}; restore re-applies only the DaemonSet (they are in the file if you need them).`);
  if (addon.managed) warnManaged(runtime, addon.version);

  if (o.dryRun) {
    if (text) ui.out('Dry run: nothing was changed.');
    else ui.json(report);
    return 0;
  }
  if (!o.yes && !(await confirm(`Replace the live aws-node DaemonSet of ${cluster.name} with the backup?`))) {
    throw new UsageError(
      'Restoring replaces the live aws-node DaemonSet (changes listed above) and needs confirmation; pass --yes to go on, or --dry-run to only see the changes.',
    );
  }

  const desired = stripServerFields(doc.daemonSet);
  if (live) {
    // Replace exactly what we compared: a DaemonSet changed meanwhile makes the API server refuse (409).
    (desired.metadata as Record<string, unknown>).resourceVersion = (live.metadata as Record<string, unknown>).resourceVersion;
  }
  await ui.step('Replacing the aws-node DaemonSet with the backup', () => replace(runtime, desired, live !== null));
  report.applied = true;
  report.rolledOut = await ui.step('Waiting for the aws-node rollout', () => runtime.kube.rolloutStatus(timeoutSeconds));
  if (!text) ui.json(report);
  if (!report.rolledOut) {
    throw new UpgradeStoppedError(
      `The aws-node DaemonSet was restored from ${file}, but its rollout did not finish within ${timeoutSeconds} s; watch it with \`kubectl rollout status daemonset aws-node -n kube-system\` and check the pods' events.`,
    );
  }
  if (text) {
    const now = await runtime.kube.getDaemonSet().catch(() => null);
    const version = now ? daemonSetInfo(now).version : backupVersion(doc);
    ui.out(`Restored daemonset/aws-node on ${cluster.name} from ${file}; it runs ${version ?? 'an unreadable version'} and has rolled out.`);
  }
  return 0;
}

function warnManaged(runtime: Runtime, version: string | null): void {
  const c = runtime.clusterName;
  runtime.ui.warn(
    `The vpc-cni add-on of ${c} is managed by EKS, which may put its own settings back on its next update or reconcile; ` +
      `to keep the restored settings, make them the add-on's configuration values: ` +
      `aws eks update-addon --cluster-name ${c} --addon-name vpc-cni --addon-version ${version ?? '<version>'} --configuration-values '{"env":{…}}', ` +
      `or vpccni upgrade --to <version> --configuration-values '{"env":{…}}' on your next upgrade.`,
  );
}

async function replace(runtime: Runtime, object: KubeObject, exists: boolean): Promise<void> {
  const result = await runtime.kube.run([exists ? 'replace' : 'create', '-f', '-', '-o', 'name'], { input: JSON.stringify(object) });
  if (result.exitCode === 0) return;
  const message = result.stderr.split('\n').map((l) => l.trim()).find(Boolean) ?? `kubectl exited with ${result.exitCode}`;
  if (/the object has been modified|Conflict/i.test(message)) {
    throw new UnreachableError(
      'The aws-node DaemonSet changed while restore was running, so nothing was replaced; run vpccni restore again to see the new differences.',
    );
  }
  throw new UnreachableError(`Kubernetes refused to ${exists ? 'replace' : 'create'} the aws-node DaemonSet: ${message}; nothing was changed.`);
}

function backupVersion(doc: BackupDocument): string | null {
  return daemonSetInfo(doc.daemonSet).version;
}
