/**
 * Backups of the aws-node DaemonSet (and the objects around it) as one YAML file each, written atomically
 * and never over an existing file, and read back for `restore`.
 */
import { randomBytes } from 'node:crypto';
import { constants, realpathSync, statSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Document, parseDocument } from 'yaml';
import { UnreachableError, UsageError } from '../errors.js';
import { assertNesting } from '../formats/nesting.js';
import { readPackageJson } from '../package-files.js';
import type { GatheredFacts } from '../gather/facts.js';
import type { KubeObject } from '../decide/manifests.js';
import { isPseudoFilesystemPath, readRegularFile } from '../gather/input-file.js';
import { forbiddenKey, MAX_YAML_ALIASES } from '../decide/config/values.js';
import { daemonSetProblems } from '../decide/backup-checks.js';

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
  const text = readRegularFile(path, {
    maxBytes: MAX_BACKUP_BYTES,
    what: `The backup file ${path}`,
    hint: 'pass the path that vpccni backup printed',
  });
  assertNesting(text, `The backup file ${path}`, 'vpccni never writes one so deep, so it was edited: use another backup');
  const parsed = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (parsed.errors.length > 0) {
    throw new UsageError(
      `The backup file ${path} is not valid YAML (${parsed.errors[0]?.message.replace(/\s+/g, ' ').slice(0, 200)}); it may be truncated or edited, so use another backup.`,
    );
  }
  const forbidden = forbiddenKey(parsed);
  if (forbidden) throw new UsageError(`The backup file ${path} holds the key "${forbidden.key}", which vpccni never writes; it was edited, so use another backup.`);
  let doc: unknown;
  try {
    doc = parsed.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown;
  } catch (error) {
    throw new UsageError(`The backup file ${path} uses more YAML aliases than vpccni ever writes (${(error as Error).message}); use another backup.`, { cause: error });
  }
  const problem = backupProblem(doc);
  if (problem) throw new UsageError(`The file ${path} is not a vpccni backup: ${problem}.`);
  const schemaProblems = backupSchemaProblems(doc);
  if (schemaProblems.length > 0) {
    throw new UsageError(`The backup file ${path} does not match the backup format (${schemaProblems.slice(0, 3).join('; ')}); it is damaged or edited, so use another backup.`);
  }
  const broken = daemonSetProblems((doc as BackupDocument).daemonSet);
  if (broken.length > 0) {
    throw new UsageError(`The backup file ${path} does not hold a working aws-node DaemonSet: ${broken.join('; ')}; it is cut short or edited, so restoring it would break the CNI. Use another backup. Nothing was changed.`);
  }
  return doc as BackupDocument;
}

/** The largest backup file restore reads (a real one is a few tens of KiB). */
export const MAX_BACKUP_BYTES = 16 * 1024 * 1024;

let backupValidator: ValidateFunction | undefined;

/** Problems of `doc` against schemas/backup-file.schema.json (empty when it matches). */
export function backupSchemaProblems(doc: unknown): string[] {
  if (!backupValidator) {
    const schema = readPackageJson<object>('schemas/backup-file.schema.json');
    backupValidator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  if (backupValidator(doc)) return [];
  return (backupValidator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is not valid'}`);
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
  return backupDocumentFrom(
    facts.cluster,
    { daemonSet: objects.daemonSet, configMap: objects.configMap, eniConfigs: objects.eniConfigs },
    facts.addon.managed ? facts.raw.addon : null,
    now,
  );
}

/** The backup document of objects read live (server fields stripped); `addon` is DescribeAddon's record, or null when self-managed. */
export function backupDocumentFrom(
  cluster: { name: string; region: string; arn: string | null; endpoint: string | null },
  objects: { daemonSet: KubeObject; configMap: KubeObject | null; eniConfigs: KubeObject[] },
  addon: Record<string, unknown> | null,
  now: Date = new Date(),
): BackupDocument {
  return {
    schemaVersion: 1,
    kind: 'VpccniBackup',
    createdAt: now.toISOString(),
    cluster: { name: cluster.name, region: cluster.region, arn: cluster.arn, endpoint: cluster.endpoint },
    daemonSet: stripServerFields(objects.daemonSet),
    configMap: objects.configMap ? stripServerFields(objects.configMap) : null,
    eniConfigs: objects.eniConfigs.map(stripServerFields),
    addon,
  };
}

/** In-process sandbox runs keep their backups apart from real ones, unless a directory was named. */
export function sandboxBackupDir(runtime: { sandbox: unknown }, dir: string): string {
  return runtime.sandbox && dir === '.vpccni/backups' ? '.vpccni/sandbox/backups' : dir;
}

/**
 * Throws a UsageError unless `dir` can hold backups: not on a kernel pseudo-filesystem (/proc, /sys, /dev),
 * and a directory if it exists. Checked before anything is read or called.
 */
export function assertBackupDir(dir: string, flag = '--backup-dir'): void {
  const absolute = resolve(dir);
  let existing = absolute;
  for (;;) {
    try {
      const real = realpathSync(existing);
      if (isPseudoFilesystemPath(real)) throw new UsageError(`${flag} ${dir} is on a kernel pseudo-filesystem (${real}); pass a directory on a real disk.`);
      if (existing === absolute && !statSync(real).isDirectory()) throw new UsageError(`${flag} ${dir} is a file, not a directory; pass a directory for the backups.`);
      if (existing !== absolute && !statSync(real).isDirectory()) throw new UsageError(`${flag} ${dir} lies under ${existing}, which is a file; pass a directory for the backups.`);
      return;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UsageError(`${flag} ${dir} cannot be used (${code ?? (error as Error).message}); pass another directory.`, { cause: error });
      const parent = dirname(existing);
      if (parent === existing) return;
      existing = parent;
    }
  }
}
