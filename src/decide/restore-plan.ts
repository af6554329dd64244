/**
 * What `vpccni restore` would change: a pure, generic deep diff of the live aws-node DaemonSet against the
 * one in a backup, as one line per differing field, and the same per object for the `amazon-vpc-cni`
 * ConfigMap (its data) and the ENIConfigs (their spec). No I/O.
 */
import { stripServerFields } from '../act/backup.js';
import { sameValue } from '../formats/json.js';
import { parseImage, type KubeObject } from './manifests.js';
import { liveInstall, settingLeaves, type SettingLeaves } from './settings/index.js';
import { sameSetting } from './settings/leaves.js';

/**
 * One field that restore changes. `path` names it readably (`spec.template.spec.containers[aws-node].env.WARM_IP_TARGET`);
 * `live` and `backup` are the JSON values, null when the field is absent on that side.
 */
export interface RestoreChange {
  path: string;
  live: unknown;
  backup: unknown;
}

/** What restore does to one object: create it (missing live) or replace it (it differs), with its changes. */
export interface ObjectRestore {
  /** `daemonset/aws-node`, `configmap/amazon-vpc-cni` or `eniconfig/<name>`. */
  object: string;
  action: 'create' | 'replace';
  /** Paths relative to the object (`data.WARM_IP_TARGET`, `spec.subnet`); for a create, every field it gets. */
  changes: RestoreChange[];
}

/** The ENIConfigs to put back, and the live ones the backup does not hold (which restore leaves alone). */
export interface EniConfigRestorePlan {
  objects: ObjectRestore[];
  /** `eniconfig/<name>` of each live ENIConfig missing from the backup, sorted; never deleted. */
  notInBackup: string[];
}

type Json = Record<string, unknown>;

export const CONFIGMAP_OBJECT = 'configmap/amazon-vpc-cni';

/** Lists whose elements are matched by a key rather than by position (the Kubernetes merge keys). */
const LIST_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
};

/**
 * The fields in which `live` differs from `backup`: metadata labels and annotations, and a deep diff of the
 * whole `spec` (images, env of every container and init container, resources, affinity, tolerations, volumes,
 * anything else). Server-owned fields and status are ignored. Env vars are matched by name, containers by
 * name, other lists of objects by their merge key; any other list is compared as one value.
 */
export function planRestore(live: KubeObject, backup: KubeObject): RestoreChange[] {
  const a = stripServerFields(live);
  const b = stripServerFields(backup);
  const changes: RestoreChange[] = [];
  const metaA = a.metadata as Json;
  const metaB = b.metadata as Json;
  for (const key of ['labels', 'annotations']) {
    diffValue(`metadata.${key}`, metaA[key] ?? {}, metaB[key] ?? {}, key, changes);
  }
  diffValue('spec', a.spec ?? {}, b.spec ?? {}, 'spec', changes);
  return changes;
}

/**
 * The `amazon-vpc-cni` ConfigMap: null when the backup holds none (a live one is then left alone) or when
 * its `data` (and `binaryData`) already match; else one change per differing key, or a create when missing live.
 */
export function planConfigMapRestore(live: KubeObject | null, backup: KubeObject | null): ObjectRestore | null {
  if (!backup) return null;
  const changes: RestoreChange[] = [];
  for (const key of ['data', 'binaryData']) diffValue(key, live?.[key] ?? {}, backup[key] ?? {}, key, changes);
  if (!live) return { object: CONFIGMAP_OBJECT, action: 'create', changes };
  return changes.length > 0 ? { object: CONFIGMAP_OBJECT, action: 'replace', changes } : null;
}

/**
 * The ENIConfigs (cluster-scoped, matched by name): one entry per backup ENIConfig whose `spec` differs from
 * the live one (field by field) or that is missing live (a create), in name order. Live ENIConfigs the backup
 * does not hold are only named in `notInBackup`: restore never deletes one (pods and nodes may use it).
 */
export function planEniConfigRestore(live: KubeObject[], backup: KubeObject[]): EniConfigRestorePlan {
  const liveByName = new Map(live.map((o) => [o.metadata.name, o]));
  const backupNames = new Set(backup.map((o) => o.metadata.name));
  const objects: ObjectRestore[] = [];
  for (const wanted of [...backup].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const current = liveByName.get(wanted.metadata.name);
    const changes: RestoreChange[] = [];
    diffValue('spec', current?.spec ?? {}, wanted.spec ?? {}, 'spec', changes);
    const object = eniConfigObject(wanted.metadata.name);
    if (!current) objects.push({ object, action: 'create', changes });
    else if (changes.length > 0) objects.push({ object, action: 'replace', changes });
  }
  const notInBackup = live
    .map((o) => o.metadata.name)
    .filter((name) => !backupNames.has(name))
    .sort()
    .map(eniConfigObject);
  return { objects, notInBackup };
}

/** `eniconfig/<name>`. */
export function eniConfigObject(name: string): string {
  return `eniconfig/${name}`;
}

/**
 * The text lines of one object's changes: `<object> <path>: live → backup` each, led for a create by
 * `<object>: (absent) → (create)`.
 */
export function formatObjectRestore(restore: ObjectRestore): string[] {
  const lines = restore.action === 'create' ? [`${restore.object}: (absent) → (create)`] : [];
  for (const change of restore.changes) lines.push(`${restore.action === 'create' ? '  ' : ''}${restore.object} ${formatChange(change)}`);
  return lines;
}

/** One change as a text line: `path: live → backup`, absent sides shown as `(absent)`. */
export function formatChange(change: RestoreChange): string {
  return `${change.path}: ${shown(change.live)} → ${shown(change.backup)}`;
}

function shown(value: unknown): string {
  if (value === null || value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function diffValue(path: string, a: unknown, b: unknown, key: string, out: RestoreChange[]): void {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) diffValue(`${path}.${k}`, a[k], b[k], k, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (key === 'env' && isNamedList(a, 'name') && isNamedList(b, 'name')) {
      diffKeyed(path, a, b, 'name', (p, name) => `${p}.${name}`, envValue, false, out);
      return;
    }
    const listKey = LIST_KEYS[key];
    if (listKey && isNamedList(a, listKey) && isNamedList(b, listKey)) {
      diffKeyed(path, a, b, listKey, (p, name) => `${p}[${name}]`, (e) => e, true, out);
      return;
    }
  }
  if (!sameValue(a, b)) out.push({ path, live: a, backup: b });
}

function diffKeyed(
  path: string,
  a: Json[],
  b: Json[],
  listKey: string,
  name: (path: string, key: string) => string,
  value: (element: Json) => unknown,
  recurse: boolean,
  out: RestoreChange[],
): void {
  const byKey = (list: Json[]) => new Map(list.map((e) => [String(e[listKey]), e]));
  const mapA = byKey(a);
  const mapB = byKey(b);
  const keys = [...new Set([...mapA.keys(), ...mapB.keys()])];
  for (const k of keys) {
    const ea = mapA.get(k);
    const eb = mapB.get(k);
    const p = name(path, k);
    if (ea && eb) {
      if (recurse) diffValue(p, ea, eb, '', out);
      else if (!sameValue(value(ea), value(eb))) out.push({ path: p, live: value(ea), backup: value(eb) });
    } else {
      out.push({ path: p, live: ea ? value(ea) : null, backup: eb ? value(eb) : null });
    }
  }
  // Same elements in another order: the order of containers or env can matter (env references earlier vars).
  const orderA = a.map((e) => String(e[listKey])).filter((k) => mapB.has(k));
  const orderB = b.map((e) => String(e[listKey])).filter((k) => mapA.has(k));
  if (!sameValue(orderA, orderB)) out.push({ path: `${path} (order)`, live: orderA, backup: orderB });
}

function isNamedList(list: unknown[], key: string): list is Json[] {
  const seen = new Set<string>();
  for (const e of list) {
    if (!isObject(e)) return false;
    const k = e[key];
    if (typeof k !== 'string' && typeof k !== 'number') return false;
    if (seen.has(String(k))) return false;
    seen.add(String(k));
  }
  return true;
}

function envValue(env: Json): unknown {
  return env.valueFrom !== undefined ? { valueFrom: env.valueFrom } : (env.value ?? '');
}

/** One setting restore changes back, named as the settings model names it (src/decide/settings/leaves.ts). */
export interface SettingRestore {
  /** e.g. `containers[aws-node].env.WARM_IP_TARGET`, `containers[aws-node].image.digest`, `updateStrategy`, `configMap.enable-windows-ipam`. */
  path: string;
  /** The value on the cluster now, null when absent. */
  live: unknown;
  /** The backup's value, null when absent (restore removes it). */
  backup: unknown;
}

/** What restore reads and puts back, as objects. */
export interface RestoreObjects {
  daemonSet: KubeObject | null;
  configMap: KubeObject | null;
  eniConfigs: KubeObject[];
}

/**
 * Every setting restore changes back, in the vocabulary of the settings model that adoption, the OVERWRITE
 * preview and PRESERVE drift use: env, args, image registries, digests and versions (tags) of every
 * container, nodeSelector, updateStrategy, pod-template annotations and labels, a sidecar as a whole, the
 * ConfigMap keys (when the backup holds the ConfigMap) and the ENIConfigs the backup holds (a live ENIConfig
 * the backup does not hold is left alone, so it is not named). Sorted by path.
 */
export function settingsRestored(live: RestoreObjects, backup: RestoreObjects): SettingRestore[] {
  if (!backup.daemonSet) return [];
  const names = (ds: KubeObject | null) => {
    const pod = ((ds?.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec ?? {});
    return new Set(['containers', 'initContainers'].flatMap((k) => ((pod[k] as Array<{ name: string }> | undefined) ?? []).map((c) => c.name)));
  };
  const liveNames = names(live.daemonSet);
  // Containers on both sides compare field by field; one on a single side (a sidecar) as a whole.
  const knownContainers = new Set([...names(backup.daemonSet)].filter((n) => liveNames.has(n)));
  const backupNames = new Set(backup.eniConfigs.map((e) => e.metadata.name));
  const leavesOf = (o: RestoreObjects, configMap: boolean): SettingLeaves => {
    const install = o.daemonSet
      ? liveInstall({ daemonSet: o.daemonSet, configMap: configMap ? o.configMap : null, eniConfigs: o.eniConfigs.filter((e) => backupNames.has(e.metadata.name)) })
      : null;
    const leaves = install ? settingLeaves(install, { knownContainers }) : new Map<string, unknown>();
    for (const [path, tag] of imageTags(o.daemonSet)) if (knownContainers.has(path.slice(path.indexOf('[') + 1, path.indexOf(']')))) leaves.set(path, tag);
    return leaves;
  };
  const withConfigMap = backup.configMap !== null;
  const a = leavesOf(live, withConfigMap);
  const b = leavesOf(backup, withConfigMap);
  return [...new Set([...a.keys(), ...b.keys()])]
    .filter((path) => !sameSetting(a.get(path), b.get(path)))
    .sort()
    .map((path) => ({ path, live: a.get(path) ?? null, backup: b.get(path) ?? null }));
}

/** `containers[C].image.tag` → tag for every container (the version: restore may move it too). */
function imageTags(ds: KubeObject | null): Map<string, string> {
  const out = new Map<string, string>();
  const pod = ((ds?.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec ?? {});
  for (const key of ['containers', 'initContainers']) {
    for (const c of (pod[key] as Array<{ name: string; image?: string }> | undefined) ?? []) {
      if (!c.image) continue;
      const tag = parseImage(c.image).tag;
      if (tag) out.set(`${key}[${c.name}].image.tag`, tag);
    }
  }
  return out;
}

/** One restored setting as a text line: `path: live → backup`. */
export function formatSettingRestore(s: SettingRestore): string {
  return `${s.path}: ${shown(s.live)} → ${shown(s.backup)}`;
}
