/**
 * Field ownership as the real API server keeps it (structured-merge-diff, much reduced): `metadata.managedFields`
 * with one entry per manager and operation (`Apply` or `Update`), fieldsV1 down to leaves, lists of containers,
 * env, volumes and the like keyed by their merge keys, other lists atomic. Updates take the fields they change;
 * an apply conflicts with another manager's field whose value it would change, unless forced.
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/
 */
import { canonicalJson } from '../formats/json.js';
import type { KubeObject } from '../formats/kube-object.js';
import { isRecord } from './kube-store.js';

type Json = Record<string, unknown>;

/** Lists merged by key (the others are atomic), with their keys as the API's `x-kubernetes-list-map-keys`. */
const LIST_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  ports: ['containerPort', 'protocol'],
  imagePullSecrets: ['name'],
  hostAliases: ['ip'],
  topologySpreadConstraints: ['topologyKey', 'whenUnsatisfiable'],
  resourceClaims: ['name'],
};

/** Fields no manager owns: identity and what the server sets. */
const UNMANAGED_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp']);
const SERVER_ANNOTATIONS = new Set(['deprecated.daemonset.template.generation']);

/** A path of fieldsV1 elements: `f:spec`, `k:{"name":"aws-node"}`, and `.` for a keyed element itself. */
export type FieldPath = string[];

/** One entry of metadata.managedFields, parsed. */
export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fields: Set<string>;
  subresource?: string;
}

/** A field another manager owns with another value. */
export interface Conflict {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  /** `.spec.template.spec.containers[name="aws-node"].image` */
  path: string;
  /** The fieldsV1 path, for tests and PRESERVE. */
  elements: FieldPath;
}

const key = (path: FieldPath): string => JSON.stringify(path);
const unkey = (text: string): FieldPath => JSON.parse(text) as FieldPath;

function elementKey(item: Json, keys: string[]): string {
  const parts: Json = {};
  for (const k of keys) parts[k] = item[k] ?? (k === 'protocol' ? 'TCP' : undefined);
  return `k:${JSON.stringify(parts)}`;
}

/** An applied configuration structured-merge-diff cannot type: a list-map item without one of its keys. */
export class TypedPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TypedPatchError';
  }
}

/**
 * The first list-map item of an applied configuration that omits a key field, in structured-merge-diff's words
 * (typed/helpers.go: "associative list with keys has an element that omits key field %q (and doesn't have default
 * value)"; a port's protocol has the default TCP), as `.spec.template.spec.containers[name="aws-node"].env: element 3: …`.
 */
export function missingListKey(applied: unknown): string | undefined {
  const walk = (value: unknown, at: FieldPath, listName: string | undefined): string | undefined => {
    if (Array.isArray(value)) {
      const keys = listName ? LIST_KEYS[listName] : undefined;
      if (!keys || !value.every((item) => isRecord(item))) return undefined;
      for (const [i, item] of (value as Json[]).entries()) {
        const missing = keys.find((k) => k !== 'protocol' && (item[k] === undefined || item[k] === null));
        if (missing) return `${pathText(at)}: element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(missing)} (and doesn't have default value)`;
        const inner = walk(item, [...at, elementKey(item, keys)], undefined);
        if (inner) return inner;
      }
      return undefined;
    }
    if (!isRecord(value)) return undefined;
    for (const [k, v] of Object.entries(value)) {
      if (at.length === 0 && ['apiVersion', 'kind', 'status', 'metadata'].includes(k)) continue;
      const inner = walk(v, [...at, `f:${k}`], k);
      if (inner) return inner;
    }
    return undefined;
  };
  return walk(applied, [], undefined);
}

/** The set of field paths an object (or an applied configuration) sets; status is left out. */
export function fieldSet(obj: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (value: unknown, at: FieldPath, listName: string | undefined): void => {
    if (Array.isArray(value)) {
      const keys = listName ? LIST_KEYS[listName] : undefined;
      if (!keys || !value.every((item) => isRecord(item))) {
        out.add(key(at));
        return;
      }
      for (const item of value as Json[]) {
        const element = [...at, elementKey(item, keys)];
        out.add(key([...element, '.']));
        walk(item, element, undefined);
      }
      return;
    }
    if (isRecord(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) {
        if (at.length === 0 && ['apiVersion', 'kind', 'status'].includes(k)) continue;
        if (at.length === 1 && at[0] === 'f:metadata' && UNMANAGED_METADATA.has(k)) continue;
        if (at.length === 2 && at[1] === 'f:annotations' && SERVER_ANNOTATIONS.has(k)) continue;
        if (v === null || v === undefined) continue;
        walk(v, [...at, `f:${k}`], k);
      }
      return;
    }
    if (at.length > 0) out.add(key(at));
  };
  walk(obj, [], undefined);
  return out;
}

/** fieldsV1 (nested objects, `{}` leaves, `.` for an element itself) from a set of paths. */
export function toFieldsV1(fields: Set<string>): Json {
  const root: Json = {};
  for (const text of [...fields].sort()) {
    let node = root;
    for (const element of unkey(text)) node = (node[element] ??= {}) as Json;
  }
  return root;
}

/** The set of leaf paths of a fieldsV1 object. */
export function fromFieldsV1(fieldsV1: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, at: FieldPath): void => {
    if (!isRecord(node) || Object.keys(node).length === 0) {
      if (at.length > 0) out.add(key(at));
      return;
    }
    for (const [k, v] of Object.entries(node)) walk(v, [...at, k]);
  };
  walk(fieldsV1, []);
  return out;
}

/** The managed-field entries of an object. */
export function managedEntries(obj: KubeObject | undefined): ManagedEntry[] {
  const raw = obj?.metadata.managedFields;
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((e) => ({
    manager: String(e.manager ?? ''),
    operation: e.operation === 'Apply' ? 'Apply' : 'Update',
    apiVersion: String(e.apiVersion ?? obj?.apiVersion ?? ''),
    time: String(e.time ?? ''),
    fields: fromFieldsV1(e.fieldsV1),
    ...(typeof e.subresource === 'string' ? { subresource: e.subresource } : {}),
  }));
}

function serialize(entries: ManagedEntry[]): Json[] {
  return entries
    .filter((e) => e.fields.size > 0)
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(e.fields),
      ...(e.subresource ? { subresource: e.subresource } : {}),
    }));
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The parent container of the last element of `path` in `obj`, and that element. */
function locate(obj: unknown, path: FieldPath): { parent: unknown; last: string } | undefined {
  let node: unknown = obj;
  for (const element of path.slice(0, -1)) {
    node = step(node, element);
    if (node === undefined) return undefined;
  }
  return { parent: node, last: path.at(-1) as string };
}

function step(node: unknown, element: string): unknown {
  if (element.startsWith('f:')) return isRecord(node) ? node[element.slice(2)] : undefined;
  if (element.startsWith('k:') && Array.isArray(node)) {
    const wanted = JSON.parse(element.slice(2)) as Json;
    return node.find((item) => isRecord(item) && Object.entries(wanted).every(([k, v]) => (item[k] ?? (k === 'protocol' ? 'TCP' : undefined)) === v));
  }
  return undefined;
}

/** The value at a path (undefined when absent); the element marker `.` reads the element. */
export function valueAt(obj: unknown, path: FieldPath): unknown {
  let node: unknown = obj;
  for (const element of path) {
    if (element === '.') return node;
    node = step(node, element);
    if (node === undefined) return undefined;
  }
  return node;
}

/** Sets the value at a path whose parents exist (PRESERVE copies live values into the applied object this way). */
export function setAt(obj: unknown, path: FieldPath, value: unknown): void {
  const found = locate(obj, path);
  if (!found || !found.last.startsWith('f:') || !isRecord(found.parent)) return;
  found.parent[found.last.slice(2)] = structuredClone(value);
}

/** Fields whose keys are data (labels, ConfigMap data, resource limits): their children are not named fields. */
const MAP_FIELDS = new Set(['labels', 'annotations', 'data', 'binaryData', 'stringData', 'nodeSelector', 'matchLabels', 'limits', 'requests', 'capacity', 'allocatable', 'overhead']);

/**
 * The set with every named (struct) field above a member made a member too, as fieldpath.Set's
 * EnsureNamedFieldsAreMembers does: a manager that owns `spec.template.spec.containers[aws-node].env[X]` keeps
 * `env` itself, and a manager that applied `ports` and applies it no more lets it go, not just its items.
 */
function withNamedFields(fields: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const text of fields) {
    out.add(text);
    const path = unkey(text);
    for (let end = path.length - 1; end > 0; end--) {
      const element = path[end - 1] as string;
      const parent = path[end - 2];
      if (!element.startsWith('f:') || (parent?.startsWith('f:') && MAP_FIELDS.has(parent.slice(2)))) continue;
      out.add(key(path.slice(0, end)));
    }
  }
  return out;
}

/**
 * Removes every path from `obj` in one pass, as typed.RemoveItems walks the object: each path is found in the
 * object as it was before anything was removed, so removing an item's key field cannot hide the item (the `{}`
 * once left behind when `name` went first); an item (`.`) goes whole, and a key field of an item that stays, stays.
 */
function removeAll(obj: unknown, paths: FieldPath[]): void {
  const items = new Set(paths.filter((p) => p.at(-1) === '.').map((p) => key(p.slice(0, -1))));
  const removals: Array<() => void> = [];
  for (const path of paths) {
    if (path.at(-1) === '.') {
      const list = valueAt(obj, path.slice(0, -2));
      const item = valueAt(obj, path.slice(0, -1));
      if (!Array.isArray(list) || item === undefined) continue;
      removals.push(() => {
        const index = list.indexOf(item);
        if (index >= 0) list.splice(index, 1);
      });
      continue;
    }
    const last = path.at(-1) as string;
    const owner = path.at(-2);
    const keyField = owner?.startsWith('k:') && last.slice(2) in (JSON.parse(owner.slice(2)) as Json);
    if (keyField && !items.has(key(path.slice(0, -1)))) continue;
    const parent = valueAt(obj, path.slice(0, -1));
    if (last.startsWith('f:') && isRecord(parent)) removals.push(() => delete parent[last.slice(2)]);
  }
  for (const remove of removals) remove();
}

/** `.spec.template.spec.containers[name="aws-node"].image`, as the API server prints a field path. */
export function pathText(path: FieldPath): string {
  return path
    .filter((e) => e !== '.')
    .map((element) => {
      if (element.startsWith('f:')) return `.${element.slice(2)}`;
      const parts = JSON.parse(element.slice(2)) as Json;
      return `[${Object.entries(parts)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    })
    .join('');
}

/**
 * Records an Update (create, PUT, non-apply PATCH) by `manager`: it takes every field it changed or added from
 * whoever owned it; removed fields leave every manager.
 */
export function recordUpdate(old: KubeObject | undefined, next: KubeObject, manager: string, subresource?: string): void {
  const entries = managedEntries(old);
  const before = old ? fieldSet(old) : new Set<string>();
  const after = fieldSet(next);
  const changed = new Set<string>();
  for (const text of after) {
    // A keyed element itself (`.`) changes hands only when it is added; its fields are compared one by one.
    if (!before.has(text)) changed.add(text);
    else if (!text.endsWith(',"."]') && canonicalJson(valueAt(old, unkey(text))) !== canonicalJson(valueAt(next, unkey(text)))) changed.add(text);
  }
  for (const text of before) if (!after.has(text)) changed.add(text);
  if (changed.size === 0 && old) {
    next.metadata.managedFields = serialize(entries);
    return;
  }
  for (const entry of entries) for (const text of changed) entry.fields.delete(text);
  const apiVersion = next.apiVersion;
  let mine = entries.find((e) => e.manager === manager && e.operation === 'Update' && e.subresource === subresource);
  if (!mine) {
    mine = { manager, operation: 'Update', apiVersion, time: now(), fields: new Set(), ...(subresource ? { subresource } : {}) };
    entries.push(mine);
  }
  mine.time = now();
  for (const text of changed) if (after.has(text)) mine.fields.add(text);
  next.metadata.managedFields = serialize(entries);
}

/** A server-side apply refused for conflicts; `message` is the API server's. */
export class ApplyConflictError extends Error {
  constructor(readonly conflicts: Conflict[]) {
    super(applyConflictMessage(conflicts));
    this.name = 'ApplyConflictError';
  }
}

function managerLabel(c: { manager: string; operation: string; apiVersion: string }): string {
  return c.operation === 'Update' ? `"${c.manager}" using ${c.apiVersion}` : `"${c.manager}"`;
}

/** "Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec…image" */
export function applyConflictMessage(conflicts: Conflict[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0] as Conflict;
    return `Apply failed with 1 conflict: conflict with ${managerLabel(c)}: ${c.path}`;
  }
  const groups = new Map<string, string[]>();
  for (const c of conflicts) groups.set(managerLabel(c), [...(groups.get(managerLabel(c)) ?? []), c.path]);
  const text = [...groups].map(([label, paths]) => `conflicts with ${label}:\n${paths.map((p) => `- ${p}`).join('\n')}`).join('\n');
  return `Apply failed with ${conflicts.length} conflicts: ${text}`;
}

/**
 * Server-side apply of `applied` (an applied configuration) by `manager` onto `live`: the merged object with
 * its managedFields, or ApplyConflictError. `merge` merges lists by key (the strategic merge of kube-api).
 */
export function serverSideApply(
  live: KubeObject | undefined,
  applied: KubeObject,
  manager: string,
  force: boolean,
  merge: (target: unknown, patch: unknown) => unknown,
): KubeObject {
  const missing = missingListKey(applied);
  if (missing) {
    const id = `${applied.metadata.namespace ? `${applied.metadata.namespace}/` : ''}${applied.metadata.name}`;
    const [group, version] = applied.apiVersion.includes('/') ? applied.apiVersion.split('/') : ['', applied.apiVersion];
    throw new TypedPatchError(`failed to create typed patch object (${id}; ${group}/${version}, Kind=${applied.kind}): ${missing}`);
  }
  const appliedFields = fieldSet(applied);
  let entries = managedEntries(live);
  if (live && entries.length === 0) {
    // An object no manager has touched is owned, as a whole, by "before-first-apply".
    entries = [{ manager: 'before-first-apply', operation: 'Update', apiVersion: live.apiVersion, time: now(), fields: fieldSet(live) }];
  }
  const conflicts: Conflict[] = [];
  for (const text of appliedFields) {
    const path = unkey(text);
    if (path.at(-1) === '.') continue;
    const liveValue = canonicalJson(valueAt(live, path));
    const wanted = canonicalJson(valueAt(applied, path));
    if (liveValue === wanted) continue;
    for (const entry of entries) {
      if (entry.manager === manager || !entry.fields.has(text)) continue;
      conflicts.push({ manager: entry.manager, operation: entry.operation, apiVersion: entry.apiVersion, path: pathText(path), elements: path });
    }
  }
  if (conflicts.length > 0 && !force) throw new ApplyConflictError(conflicts);
  for (const c of conflicts) for (const entry of entries) if (entry.manager !== manager) entry.fields.delete(key(c.elements));

  const result = (live ? merge(structuredClone(live), structuredClone(applied)) : structuredClone(applied)) as KubeObject;
  const previous = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  if (previous) {
    // structured-merge-diff's prune (merge/update.go: prune, addBackOwnedItems, addBackDanglingItems): what this
    // manager applied last time and nobody manages now, this apply included, goes; removed in one pass over the
    // merged object as typed.RemoveItems does. A list-map item nobody manages goes whole, with its key fields (never
    // `{}`); an item someone still manages keeps its key fields.
    // The applied configuration always names the object (metadata.name, which managedFields leave out), so
    // `metadata` itself is always managed: it is never pruned with the labels a manager stops applying.
    const managed = withNamedFields([...entries.filter((e) => e !== previous).flatMap((e) => [...e.fields]), ...appliedFields, key(['f:metadata', 'f:name'])]);
    const merged = withNamedFields(fieldSet(result));
    const pruned = [...withNamedFields(previous.fields)].filter((text) => merged.has(text) && !managed.has(text));
    removeAll(result, pruned.map(unkey));
  }
  const mine: ManagedEntry = previous ?? { manager, operation: 'Apply', apiVersion: applied.apiVersion, time: now(), fields: new Set() };
  mine.fields = appliedFields;
  mine.time = now();
  mine.apiVersion = applied.apiVersion;
  if (!previous) entries.push(mine);
  result.metadata.managedFields = serialize(entries);
  return result;
}
