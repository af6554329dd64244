/**
 * Restore's apply: the backup is checked against the cluster (name, region, ARN) before anything is read or
 * changed; the live objects are compared with it (src/decide/restore-plan.ts); what differs is shown, confirmed
 * and replaced with its live resourceVersion, then the rollout is waited for. Objects that already match are
 * not touched, and live ENIConfigs the backup does not hold are left alone.
 */
import { notReadyClause } from '../gather/pods.js';
import { stripServerFields, assertSameCluster, backupDocumentFrom, sandboxBackupDir, writeBackup, type BackupDocument } from './backup.js';
import { clusterFlags, shellWord } from './next-command.js';
import { UnreachableError, UpgradeStoppedError, UsageError } from '../errors.js';
import { daemonSetInfo } from '../gather/facts.js';
import { assertContextMatches, firstLine, isConnectionError } from '../gateways/kubectl.js';
import { sameApiServer } from '../gateways/kubeconfig.js';
import type { KubeObject } from '../decide/manifests.js';
import { foreignImages, imageRegistries } from '../decide/backup-checks.js';
import {
  CONFIGMAP_OBJECT,
  eniConfigObject,
  formatObjectRestore,
  planConfigMapRestore,
  planEniConfigRestore,
  planRestore,
  formatSettingRestore,
  settingsRestored,
  type ObjectRestore,
  type RestoreChange,
  type SettingRestore,
} from '../decide/restore-plan.js';
import type { Runtime } from '../runtime.js';
import { confirm } from '../render/ui.js';

const DAEMONSET_OBJECT = 'daemonset/aws-node';

/** One object of the restore report: what restore does (or did) to it. */
export interface RestoreObjectReport extends ObjectRestore {
  /** True once this object was replaced or created. */
  applied: boolean;
}

/** The `restore --output json` document (schemas/restore.schema.json). */
export interface RestoreReport {
  schemaVersion: 1;
  backup: string;
  cluster: string;
  dryRun: boolean;
  /** The fields of the aws-node DaemonSet that differ (as before per-object changes existed). */
  changes: RestoreChange[];
  /** Every object that differs from the backup, in the order restore applies them: DaemonSet, ConfigMap, ENIConfigs. */
  objects: RestoreObjectReport[];
  /** Live objects the backup does not hold (`eniconfig/<name>`, `configmap/amazon-vpc-cni`): left as they are. */
  kept: string[];
  /** Every setting restore changes back, named as the settings model names it (the same paths as upgrade's). */
  settings: SettingRestore[];
  applied: boolean;
  /** True when the rollout finished, false when it did not in time, null when the DaemonSet was not applied. */
  rolledOut: boolean | null;
  managed: boolean;
  /** The backup of the live objects restore wrote before its first change; null when it changed nothing (or no DaemonSet was live). */
  backupBefore: string | null;
}

/** Checks the backup against the cluster, plans per object, confirms, replaces, waits for the rollout. */
export async function runRestore(
  runtime: Runtime,
  file: string,
  doc: BackupDocument,
  o: { dryRun: boolean; yes: boolean; timeoutSeconds: number; /** Where the backup of the live objects goes; null: take none (upgrade's walk back, whose own backup is the way back). */ backupDir: string | null },
): Promise<number> {
  const { ui } = runtime;
  const { timeoutSeconds } = o;
  const cluster = await ui.step(`Checking that the backup is of ${runtime.clusterName}`, () => runtime.eks.describeCluster());
  assertSameCluster(doc, cluster);
  assertContextMatches(runtime.kubeContext, cluster, sameApiServer);
  const [live, addon, liveConfigMap, liveEniConfigs] = await ui.step(
    'Reading the live aws-node DaemonSet, amazon-vpc-cni ConfigMap and ENIConfigs',
    () =>
      Promise.all([
        runtime.kube.getDaemonSet(),
        runtime.eks.describeAddon(),
        runtime.kube.getJson(['configmap', 'amazon-vpc-cni', '-n', 'kube-system']),
        runtime.kube.listEniConfigs(),
      ]),
  );

  // The backup's images must come from an EKS registry or from a registry aws-node pulls from now.
  const allowed = new Set(live ? imageRegistries(live).map((i) => i.registry) : []);
  const foreign = foreignImages(doc.daemonSet, allowed);
  if (foreign.length > 0) {
    throw new UsageError(
      `The backup pulls ${foreign.map((f) => `${f.container} from ${f.image}`).join(', ')}, which is neither an EKS registry nor one aws-node uses now; it was edited, so it is refused. Nothing was changed.`,
    );
  }
  const changes: RestoreChange[] = live
    ? planRestore(live, doc.daemonSet)
    : [{ path: DAEMONSET_OBJECT, live: null, backup: `(the whole DaemonSet, ${backupVersion(doc) ?? 'unknown version'})` }];
  const configMap = planConfigMapRestore(liveConfigMap, doc.configMap);
  const eniConfigs = planEniConfigRestore(liveEniConfigs ?? [], doc.eniConfigs);
  const planned: ObjectRestore[] = [
    ...(changes.length > 0 ? [{ object: DAEMONSET_OBJECT, action: live ? ('replace' as const) : ('create' as const), changes }] : []),
    ...(configMap ? [configMap] : []),
    ...eniConfigs.objects,
  ];
  const kept = [...(doc.configMap === null && liveConfigMap ? [CONFIGMAP_OBJECT] : []), ...eniConfigs.notInBackup];
  const report: RestoreReport = {
    schemaVersion: 1,
    backup: file,
    cluster: cluster.name,
    dryRun: o.dryRun,
    changes,
    objects: planned.map((p) => ({ ...p, applied: false })),
    kept,
    settings: settingsRestored(
      { daemonSet: live, configMap: liveConfigMap, eniConfigs: liveEniConfigs ?? [] },
      { daemonSet: doc.daemonSet, configMap: doc.configMap, eniConfigs: doc.eniConfigs },
    ),
    applied: false,
    rolledOut: null,
    managed: addon.managed,
    backupBefore: null,
  };
  const text = ui.format === 'text';
  const taken = `backup of ${doc.cluster.name} taken ${doc.createdAt}`;
  const keptNote = kept.length
    ? `Left as they are (live, but not in the backup; restore never deletes): ${joinList(kept)}.`
    : '';

  if (planned.length === 0) {
    if (text) {
      const held = ['the aws-node DaemonSet', doc.configMap ? 'the amazon-vpc-cni ConfigMap' : '', doc.eniConfigs.length ? `${doc.eniConfigs.length} ENIConfig(s)` : ''].filter(Boolean);
      ui.out(`Nothing to restore: ${joinList(held)} of ${cluster.name} already ${held.length === 1 ? 'matches' : 'match'} the ${taken}.`);
      if (keptNote) ui.out(keptNote);
    } else ui.json(report);
    return 0;
  }
  if (liveEniConfigs === null && eniConfigs.objects.length > 0) {
    throw new UnreachableError(
      `Cluster ${cluster.name} has no ENIConfig resource type (the eniconfigs.crd.k8s.amazonaws.com CRD), so the backup's ENIConfigs cannot be put back; install the CRD from the aws-node manifest and run vpccni restore again. Nothing was changed.`,
    );
  }
  if (text) {
    const verb = o.dryRun ? 'Restoring would change' : 'Restoring changes';
    const fields = (p: ObjectRestore) => (p.action === 'create' ? 'create' : `${p.changes.length} field(s)`);
    ui.out(`${verb} ${planned.map((p) => `${p.object} (${fields(p)})`).join(', ')} on ${cluster.name} (live → backup, ${taken}):`);
    for (const p of planned) {
      const lines =
        p.object === DAEMONSET_OBJECT && p.action === 'create'
          ? [`${DAEMONSET_OBJECT}: (absent) → (create), the whole DaemonSet of the backup (${backupVersion(doc) ?? 'unknown version'})`]
          : formatObjectRestore(p);
      for (const line of lines) ui.out(`  ${line}`);
    }
    if (report.settings.length > 0) {
      ui.out(`The settings it changes back (${report.settings.length}, live → backup):`);
      for (const setting of report.settings) ui.out(`  ${formatSettingRestore(setting)}`);
    }
    if (keptNote) ui.out(keptNote);
  }
  if (addon.managed && planned.some((p) => p.object === DAEMONSET_OBJECT || p.object === CONFIGMAP_OBJECT)) {
    warnManaged(runtime, addon.version);
  }

  if (o.dryRun) {
    if (text) ui.out('Dry run: nothing was changed.');
    else ui.json(report);
    return 0;
  }
  if (!o.yes && !(await confirm(`Put the ${planned.length} object(s) listed above on ${cluster.name} back as they are in the backup?`))) {
    throw new UsageError(
      'Restoring replaces or creates the objects listed above and needs confirmation; pass --yes to go on, or --dry-run to only see the changes.',
    );
  }

  // Before the first change, a backup of the live objects as they are: the way back (`go back:` of a stop).
  const backupDir = o.backupDir;
  if (live && backupDir !== null) {
    const before = backupDocumentFrom(cluster, { daemonSet: live, configMap: liveConfigMap, eniConfigs: liveEniConfigs ?? [] }, addon.managed ? addon.raw : null);
    report.backupBefore = await ui.step('Backing up the live objects', () => writeBackup(sandboxBackupDir(runtime, backupDir), before));
    if (text) ui.info(`Backup of the live objects: ${report.backupBefore}`);
  } else if (!live && text) ui.info('No backup of the live objects: there is no live aws-node DaemonSet to back up.');

  // Replace exactly what we compared, with its live resourceVersion: an object changed meanwhile makes the API
  // server refuse (409), and an object created meanwhile makes the create refuse.
  const lives = new Map<string, KubeObject | null>([
    [DAEMONSET_OBJECT, live],
    [CONFIGMAP_OBJECT, liveConfigMap],
    ...(liveEniConfigs ?? []).map((e): [string, KubeObject] => [eniConfigObject(e.metadata.name), e]),
  ]);
  const backups = new Map<string, KubeObject>([
    [DAEMONSET_OBJECT, doc.daemonSet],
    ...(doc.configMap ? [[CONFIGMAP_OBJECT, doc.configMap] as [string, KubeObject]] : []),
    ...doc.eniConfigs.map((e): [string, KubeObject] => [eniConfigObject(e.metadata.name), e]),
  ]);
  for (const entry of report.objects) {
    const current = lives.get(entry.object) ?? null;
    const desired = desiredObject(entry.object, current, backups.get(entry.object)!);
    const failure = await ui.step(`${entry.action === 'create' ? 'Creating' : 'Replacing'} ${entry.object} from the backup`, () =>
      replace(runtime, desired, current !== null),
    );
    if (failure) throw stopped(report, entry, failure, runtime, file);
    entry.applied = true;
    report.applied = true;
  }
  const daemonSetApplied = report.objects.some((e) => e.object === DAEMONSET_OBJECT && e.applied);
  if (daemonSetApplied) {
    const line = ui.progress('Waiting for the aws-node rollout');
    try {
      report.rolledOut = await runtime.kube.rolloutStatus(timeoutSeconds, (pods) => line.update({ pods }));
    } finally {
      line.stop();
    }
  }
  if (!text) ui.json(report);
  if (daemonSetApplied && !report.rolledOut) {
    throw new UpgradeStoppedError(
      `The aws-node DaemonSet was restored from ${file}, but its rollout did not finish within ${timeoutSeconds} s${await notReadyClause(runtime.kube)}; watch it with \`kubectl rollout status daemonset aws-node -n kube-system\` and check the pods' events, then ${restoreNextCommands(runtime, file, report.backupBefore)}`,
    );
  }
  if (text) {
    if (daemonSetApplied) {
      const now = await runtime.kube.getDaemonSet().catch(() => null);
      const version = now ? daemonSetInfo(now).version : backupVersion(doc);
      ui.out(`Restored daemonset/aws-node on ${cluster.name} from ${file}; it runs ${version ?? 'an unreadable version'} and has rolled out.`);
    }
    const others = report.objects.filter((e) => e.object !== DAEMONSET_OBJECT).map((e) => `${e.object}${e.action === 'create' ? ' (created)' : ''}`);
    if (others.length > 0) ui.out(`Restored ${joinList(others)} on ${cluster.name} from ${file}.`);
  }
  return 0;
}

/**
 * The object to send: for a create the backup's object; for a replace the live object (server fields stripped,
 * its resourceVersion kept) with only what restore compares taken from the backup: the whole DaemonSet, the
 * ConfigMap's data and binaryData, an ENIConfig's spec.
 */
function desiredObject(object: string, live: KubeObject | null, backup: KubeObject): KubeObject {
  if (!live || object === DAEMONSET_OBJECT) {
    const desired = stripServerFields(backup);
    if (live) (desired.metadata as Record<string, unknown>).resourceVersion = live.metadata.resourceVersion;
    return desired;
  }
  const desired = stripServerFields(live);
  desired.apiVersion = backup.apiVersion;
  desired.kind = backup.kind;
  const fields = object === CONFIGMAP_OBJECT ? ['data', 'binaryData'] : ['spec'];
  for (const field of fields) {
    if (backup[field] === undefined) delete desired[field];
    else desired[field] = structuredClone(backup[field]);
  }
  (desired.metadata as Record<string, unknown>).resourceVersion = live.metadata.resourceVersion;
  return desired;
}

/** The error for a replace or create that was refused: nothing changed (exit 3), or part of the restore done (exit 4). */
function stopped(report: RestoreReport, failed: RestoreObjectReport, refusal: Refusal, runtime: Runtime, file: string): Error {
  const done = report.objects.filter((e) => e.applied).map((e) => e.object);
  const left = report.objects.filter((e) => !e.applied).map((e) => e.object);
  if (done.length === 0) return new UnreachableError(`${refusal.why}; nothing was changed, ${refusal.next}.`);
  if (runtime.ui.format === 'json') runtime.ui.json(report);
  const rollout = done.includes(DAEMONSET_OBJECT) ? ' (watch its rollout with `kubectl rollout status daemonset aws-node -n kube-system`)' : '';
  return new UpgradeStoppedError(
    `Restore stopped part-way at ${failed.object}: ${refusal.why}. Restored: ${joinList(done)}${rollout}; not restored: ${joinList(left)}; ${refusal.next}. ${restoreNextCommands(runtime, file, report.backupBefore)}`,
  );
}

/**
 * The two commands an exit-4 stop of restore ends with: `continue:` (the same restore again, with the run's
 * cluster flags) and `go back:` (restore the backup of the live objects taken before the first change).
 */
export function restoreNextCommands(runtime: Pick<Runtime, 'kubeContext' | 'clusterName' | 'region'>, file: string, backupBefore: string | null): string {
  const where = clusterFlags(runtime);
  const back = backupBefore ? `vpccni restore ${shellWord(backupBefore)} --yes ${where}` : 'nothing to go back to (no backup of the live objects was taken)';
  return `continue: vpccni restore ${shellWord(file)} --yes ${where}; go back: ${back}`;
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

/** Why one replace or create was refused, and what to do next; both sentence fragments. */
interface Refusal {
  why: string;
  next: string;
}

/** Replaces (or creates) one object; null when done, else why it was refused. */
async function replace(runtime: Runtime, object: KubeObject, exists: boolean): Promise<Refusal | null> {
  const what = object.kind === 'DaemonSet' ? 'The aws-node DaemonSet' : `${object.kind.toLowerCase()}/${object.metadata.name}`;
  const result = await runtime.kube.run([exists ? 'replace' : 'create', '-f', '-', '-o', 'name'], { input: JSON.stringify(object) });
  if (result.exitCode === 0) return null;
  const message = firstLine(result.stderr) || `kubectl exited with ${result.exitCode}`;
  if (/the object has been modified|Conflict|AlreadyExists|already exists/i.test(message)) {
    return {
      why: `${what} changed while restore was running, so it was not ${exists ? 'replaced' : 'created'}`,
      next: 'run vpccni restore again to see the new differences',
    };
  }
  return {
    why: `Kubernetes refused to ${exists ? 'replace' : 'create'} ${what.replace(/^The/, 'the')}: ${message.replace(/[.;]$/, '')}`,
    next: isConnectionError(result.stderr) ? 'check the kube context and your network, then run vpccni restore again' : 'fix the cause (RBAC permissions, admission webhooks) and run vpccni restore again',
  };
}

/** `a`, `a and b`, `a, b and c`. */
function joinList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function backupVersion(doc: BackupDocument): string | null {
  return daemonSetInfo(doc.daemonSet).version;
}
