/**
 * Backups of the aws-node DaemonSet (and the objects around it) as one YAML file each, written atomically
 * and never over an existing file, and read back for `restore`.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Document, parseDocument } from 'yaml';
import { UnreachableError, UsageError } from '../errors.js';
import type { GatheredFacts } from '../gather/facts.js';
import type { KubeObject } from '../decide/manifests.js';

/** What one backup file holds. */
export interface BackupDocument {
  schemaVersion: 1;
  kind: 'VpccniBackup';
  createdAt: string;
  cluster: { name: string; region: string; arn: string | null; endpoint: string | null };
  /** The DaemonSet as `kubectl get daemonset aws-node -n kube-system -o yaml` shows it, server fields stripped. */
  daemonSet: KubeObject;
  configMap: KubeObject | null;
  eniConfigs: KubeObject[];
  /** DescribeAddon's `addon` record, or null for a self-managed install. */
  addon: Record<string, unknown> | null;
}

const SERVER_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink'];
const SERVER_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deprecated.daemonset.template.generation'];

/** `20261121T235959Z` for a date (UTC, seconds). */
export function backupTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * Writes `doc` to `dir` (created with mode 0700 if missing) as `aws-node-<cluster>-<timestamp>.yaml`, or
 * `…-2.yaml`, `…-3.yaml` when taken: temp file, fsync, hard link to the free name (never overwriting),
 * fsync of the directory. Returns the absolute path; a UsageError says why the file could not be written.
 */
export async function writeBackup(dir: string, doc: BackupDocument, now: Date = new Date()): Promise<string> {
  const directory = resolve(dir);
  const base = `aws-node-${safeName(doc.cluster.name)}-${backupTimestamp(now)}`;
  const text = toYaml(doc);
  const temp = join(directory, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    let target = '';
    for (let n = 1; ; n++) {
      target = join(directory, n === 1 ? `${base}.yaml` : `${base}-${n}.yaml`);
      try {
        await link(temp, target);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') continue;
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
          // No hard links on this file system: create the name exclusively instead.
          if (await writeExclusive(target, text)) break;
          continue;
        }
        throw error;
      }
    }
    await unlink(temp).catch(() => undefined);
    await syncDirectory(directory);
    return target;
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `Could not write the backup to ${directory} (${code ?? (error as Error).message}); choose a writable directory with --backup-dir or --out.`,
      { cause: error },
    );
  }
}

/** Reads a backup file; a UsageError when it is missing, unreadable, not YAML, or not a vpccni backup. */
export async function readBackup(path: string): Promise<BackupDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (error as Error).message})`;
    throw new UsageError(`The backup file ${path} ${why}; pass the path that vpccni backup printed.`, { cause: error });
  }
  const parsed = parseDocument(text, { prettyErrors: false });
  if (parsed.errors.length > 0) {
    throw new UsageError(
      `The backup file ${path} is not valid YAML (${parsed.errors[0]?.message.replace(/\s+/g, ' ')}); it may be truncated or edited, so use another backup.`,
    );
  }
  const doc = parsed.toJS() as unknown;
  const problem = backupProblem(doc);
  if (problem) throw new UsageError(`The file ${path} is not a vpccni backup: ${problem}.`);
  return doc as BackupDocument;
}

/** A copy of `obj` without the fields the API server owns (uid, resourceVersion, status, managedFields, …). */
export function stripServerFields(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj);
  delete copy.status;
  const metadata = copy.metadata as Record<string, unknown>;
  for (const field of SERVER_METADATA) delete metadata[field];
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations) {
    for (const key of SERVER_ANNOTATIONS) delete annotations[key];
    if (Object.keys(annotations).length === 0) delete metadata.annotations;
  }
  const template = (copy.spec as { template?: { metadata?: Record<string, unknown> } } | undefined)?.template;
  if (template?.metadata && template.metadata.creationTimestamp == null) delete template.metadata.creationTimestamp;
  return copy;
}

/** The backup as one YAML document, with a comment saying what it is and how to restore it. */
export function toYaml(doc: BackupDocument): string {
  const yaml = new Document(doc, { aliasDuplicateObjects: false });
  yaml.commentBefore =
    ` vpccni backup of the aws-node DaemonSet of EKS cluster ${doc.cluster.name} (${doc.cluster.region}), taken ${doc.createdAt}.\n` +
    ` Restore with: vpccni restore <this file>`;
  return yaml.toString({ lineWidth: 0 });
}

/** Throws a UsageError unless `doc` was taken from `cluster` (same ARN when both are known, else name and region). */
export function assertSameCluster(
  doc: BackupDocument,
  cluster: { name: string; region: string; arn: string | null },
): void {
  const sameArn = doc.cluster.arn && cluster.arn ? doc.cluster.arn === cluster.arn : null;
  const sameNameAndRegion = doc.cluster.name === cluster.name && doc.cluster.region === cluster.region;
  if (sameArn === true || (sameArn === null && sameNameAndRegion)) return;
  const from = sameNameAndRegion ? `${doc.cluster.arn}` : `${doc.cluster.name} in ${doc.cluster.region}`;
  const here = sameNameAndRegion ? `${cluster.arn}` : `${cluster.name} in ${cluster.region}`;
  throw new UsageError(`This backup is of cluster ${from}, not of ${here}; refusing to restore it here.`);
}

function backupProblem(doc: unknown): string | null {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'it holds no YAML mapping';
  const d = doc as Record<string, unknown>;
  if (d.kind !== 'VpccniBackup') {
    const kind = typeof d.kind === 'string' ? d.kind : 'none';
    return d.kind === 'DaemonSet'
      ? 'it is a plain DaemonSet manifest (kind DaemonSet), not a file written by vpccni backup'
      : `its kind is ${kind}, not VpccniBackup`;
  }
  if (d.schemaVersion !== 1) {
    return typeof d.schemaVersion === 'number' && d.schemaVersion > 1
      ? `it has schemaVersion ${d.schemaVersion}, written by a newer vpccni; upgrade vpccni to restore it`
      : 'its schemaVersion is missing or not 1';
  }
  const cluster = d.cluster as Record<string, unknown> | undefined;
  if (!cluster || typeof cluster.name !== 'string' || typeof cluster.region !== 'string') return 'it names no cluster and region';
  const ds = d.daemonSet as Record<string, unknown> | undefined;
  if (!ds || ds.kind !== 'DaemonSet' || typeof (ds.metadata as Record<string, unknown> | undefined)?.name !== 'string') {
    return 'it holds no DaemonSet';
  }
  if (d.configMap !== null && d.configMap !== undefined && typeof d.configMap !== 'object') return 'its configMap is not an object';
  if (d.eniConfigs !== undefined && !Array.isArray(d.eniConfigs)) return 'its eniConfigs is not a list';
  if (d.addon !== null && d.addon !== undefined && typeof d.addon !== 'object') return 'its addon is not an object';
  if (d.configMap === undefined) d.configMap = null;
  if (d.eniConfigs === undefined) d.eniConfigs = [];
  if (d.addon === undefined) d.addon = null;
  if (cluster.arn === undefined) cluster.arn = null;
  if (cluster.endpoint === undefined) cluster.endpoint = null;
  return null;
}

async function writeExclusive(target: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the file itself is synced.
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '-') || 'cluster';
}

/** The backup document of what was gathered; an UnreachableError when there is no aws-node DaemonSet. */
export function backupDocumentOf(facts: GatheredFacts, now: Date = new Date()): BackupDocument {
  const { objects } = facts.raw;
  if (!objects.daemonSet) {
    throw new UnreachableError(
      `Cluster "${facts.cluster.name}" has no aws-node DaemonSet in kube-system, so there is nothing to back up; check the kube context with \`kubectl get daemonset aws-node -n kube-system\`.`,
    );
  }
  return {
    schemaVersion: 1,
    kind: 'VpccniBackup',
    createdAt: now.toISOString(),
    cluster: { name: facts.cluster.name, region: facts.cluster.region, arn: facts.cluster.arn, endpoint: facts.cluster.endpoint },
    daemonSet: stripServerFields(objects.daemonSet),
    configMap: objects.configMap ? stripServerFields(objects.configMap) : null,
    eniConfigs: objects.eniConfigs.map(stripServerFields),
    addon: facts.addon.managed ? facts.raw.addon : null,
  };
}

/** In-process sandbox runs keep their backups apart from real ones, unless a directory was named. */
export function sandboxBackupDir(runtime: { sandbox: unknown }, dir: string): string {
  return runtime.sandbox && dir === '.vpccni/backups' ? '.vpccni/sandbox/backups' : dir;
}
