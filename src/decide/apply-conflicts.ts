/**
 * EKS applies the add-on with server-side apply as its own field manager (`eks`), and `resolveConflicts`
 * says what happens to a field EKS sets whose live value another manager owns: NONE stops the call
 * (ConfigurationConflict, "Conflicts found when trying to apply. Will not continue due to resolve conflicts
 * mode"), OVERWRITE takes the field, PRESERVE keeps the live value. This predicts those conflicts before any
 * call, from the live objects' `metadata.managedFields` and the objects EKS renders, and decides the mode of
 * a step. Pure: no I/O.
 *
 * Rules (https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts): an apply conflicts on a
 * field it sets to a value other than the live one when another manager owns that field; an object with no
 * managedFields at all is owned, whole, by `before-first-apply`. Lists of containers, env, volumes, ports…
 * are merged by key (their `x-kubernetes-list-map-keys`), every other list is one atomic field.
 * https://repost.aws/knowledge-center/eks-prevent-conflicts-managed-addons
 */
import { UsageError } from '../errors.js';
import type { ResolveConflicts } from '../domain.js';
import { canonicalJson } from '../formats/json.js';
import { loadUpstreamManifest, type KubeObject } from './manifests.js';
import { desiredConfigMapData, desiredDaemonSet, type ConfigurationValues } from './addon-render.js';

/** EKS's field manager on the add-on's objects. */
export const EKS_MANAGER = 'eks';

/** The list-map keys of the core types (k8s.io/api `+listMapKey`); lists not named here are atomic. */
const MAP_LIST_KEYS: Record<string, string[]> = {
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
};

/** Metadata the server keeps, owned by no manager. */
const SERVER_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']);

/** One field EKS would set that another manager owns with another value. */
export interface PredictedConflict {
  /** `DaemonSet.apps aws-node`, as EKS names an object in a ConfigurationConflict. */
  object: string;
  /** `.spec.template.spec.containers[name="aws-node"].image` */
  path: string;
  /** The manager that owns the field now (`kubectl-client-side-apply`, `before-first-apply`, …). */
  managers: string[];
  live: unknown;
  applied: unknown;
}

type Segment = { field: string } | { keys: Record<string, unknown> };

interface Leaf {
  segments: Segment[];
  value: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keyOf(item: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  // `protocol` defaults to TCP on the server, and a port's key carries it.
  return Object.fromEntries(keys.map((k) => [k, item[k] ?? (k === 'protocol' ? 'TCP' : null)]));
}

/** The leaf fields an applied object sets (status and server metadata left out). */
export function appliedLeaves(obj: KubeObject): Leaf[] {
  const out: Leaf[] = [];
  const walk = (value: unknown, at: Segment[], name: string | undefined): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      const keys = name ? MAP_LIST_KEYS[name] : undefined;
      if (!keys || !value.every(isRecord)) {
        out.push({ segments: at, value });
        return;
      }
      for (const item of value as Array<Record<string, unknown>>) walk(item, [...at, { keys: keyOf(item, keys) }], undefined);
      return;
    }
    if (isRecord(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) {
        if (at.length === 0 && (k === 'apiVersion' || k === 'kind' || k === 'status')) continue;
        if (at.length === 1 && 'field' in at[0]! && at[0].field === 'metadata' && SERVER_METADATA.has(k)) continue;
        walk(v, [...at, { field: k }], k);
      }
      return;
    }
    if (at.length > 0) out.push({ segments: at, value });
  };
  walk(obj, [], undefined);
  return out;
}

/** A segment as fieldsV1 spells it, with a key's fields in a stable order. */
function fieldsV1Segment(segment: Segment): string {
  if ('field' in segment) return `f:${segment.field}`;
  return `k:${canonicalJson(segment.keys)}`;
}

function pathKey(segments: Segment[]): string {
  return segments.map(fieldsV1Segment).join('\u0000');
}

/** The paths a fieldsV1 tree owns (leaves and `.` element markers), in pathKey's form. */
function ownedPaths(fieldsV1: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, at: string[]): void => {
    if (!isRecord(node) || Object.keys(node).length === 0) {
      if (at.length > 0) out.add(at.join('\u0000'));
      return;
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === '.') {
        out.add([...at, '.'].join('\u0000'));
        continue;
      }
      // Keys are re-serialised so that `{"protocol":"TCP","containerPort":1}` and its sorted form are one key.
      let segment = k;
      if (k.startsWith('k:')) {
        try {
          segment = `k:${canonicalJson(JSON.parse(k.slice(2)))}`;
        } catch {
          segment = k;
        }
      }
      walk(v, [...at, segment]);
    }
  };
  walk(fieldsV1, []);
  return out;
}

/** The live value at a path (undefined when absent). */
function valueAt(obj: unknown, segments: Segment[]): unknown {
  let node: unknown = obj;
  for (const segment of segments) {
    if ('field' in segment) {
      node = isRecord(node) ? node[segment.field] : undefined;
    } else if (Array.isArray(node)) {
      const wanted = segment.keys;
      node = node.find((item) => isRecord(item) && Object.entries(wanted).every(([k, v]) => (item[k] ?? (k === 'protocol' ? 'TCP' : null)) === v));
    } else node = undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** `.spec.template.spec.containers[name="aws-node"].image`, as the API server and EKS print a field. */
export function fieldPathText(segments: Segment[]): string {
  return segments
    .map((s) =>
      'field' in s
        ? `.${s.field}`
        : `[${Object.entries(s.keys)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(',')}]`,
    )
    .join('');
}

/** `DaemonSet.apps aws-node`, `ServiceAccount aws-node`: the object as EKS's conflict message names it. */
export function objectLabel(obj: KubeObject): string {
  const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
  return `${obj.kind}${group ? `.${group}` : ''} ${obj.metadata.name}`;
}

/** Who owns which paths of a live object: its managedFields, or `before-first-apply` for all of it. */
function owners(live: KubeObject): Array<{ manager: string; paths: Set<string> | 'all' }> {
  const raw = live.metadata.managedFields;
  if (!Array.isArray(raw) || raw.length === 0) return [{ manager: 'before-first-apply', paths: 'all' }];
  return raw.filter(isRecord).map((e) => ({ manager: String(e.manager ?? ''), paths: ownedPaths(e.fieldsV1) }));
}

/**
 * The conflicts a server-side apply of `desired` by `manager` would meet on `live` (same order; null: the
 * object does not exist, so nothing conflicts). Sorted by object, then path.
 */
export function predictApplyConflicts(live: ReadonlyArray<KubeObject | null>, desired: readonly KubeObject[], manager = EKS_MANAGER): PredictedConflict[] {
  const conflicts: PredictedConflict[] = [];
  desired.forEach((applied, index) => {
    const current = live[index];
    if (!current) return;
    const entries = owners(current).filter((o) => o.manager !== manager);
    for (const leaf of appliedLeaves(applied)) {
      const now = valueAt(current, leaf.segments);
      if (now === undefined || canonicalJson(now) === canonicalJson(leaf.value)) continue;
      const key = pathKey(leaf.segments);
      const managers = entries.filter((o) => o.paths === 'all' || o.paths.has(key)).map((o) => o.manager);
      if (managers.length === 0) continue;
      conflicts.push({ object: objectLabel(applied), path: fieldPathText(leaf.segments), managers: [...new Set(managers)], live: now, applied: leaf.value });
    }
  });
  return conflicts.sort((a, b) => a.object.localeCompare(b.object) || a.path.localeCompare(b.path));
}

/**
 * What EKS applies for `version` with `values`: the add-on's objects from the upstream manifest (the
 * `amazon-vpc-cni` ConfigMap as the values set it, the ServiceAccount with the IRSA role) and the DaemonSet
 * addon-render.ts renders.
 */
export function desiredAddonObjects(
  version: string,
  values: ConfigurationValues,
  options: { registry?: string; ipFamily?: 'ipv4' | 'ipv6'; roleArn?: string | null } = {},
): KubeObject[] {
  const out: KubeObject[] = [];
  for (const obj of loadUpstreamManifest(version)) {
    if (obj.kind === 'DaemonSet') continue;
    if (obj.kind === 'ConfigMap' && obj.metadata.name === 'amazon-vpc-cni') obj.data = desiredConfigMapData(version, values) ?? obj.data;
    if (obj.kind === 'ServiceAccount' && obj.metadata.name === 'aws-node' && options.roleArn) {
      obj.metadata.annotations = { ...((obj.metadata.annotations as Record<string, string> | undefined) ?? {}), 'eks.amazonaws.com/role-arn': options.roleArn };
    }
    out.push(obj);
  }
  const renderOptions = { ...(options.registry ? { registry: options.registry } : {}), ...(options.ipFamily ? { ipFamily: options.ipFamily } : {}) };
  out.push(desiredDaemonSet(version, values, renderOptions));
  return out;
}

/** One conflict as EKS's message names it: `DaemonSet.apps aws-node - .spec…image`. */
export function conflictText(c: PredictedConflict): string {
  return `${c.object} - ${c.path}`;
}

/** The mode of the first EKS step, and why it was chosen. */
export interface ConflictModeDecision {
  mode: ResolveConflicts;
  /** One sentence: why this mode (shown in text and as `resolveConflictsReason` in JSON). */
  reason: string;
  /** The predicted conflicts under NONE (what OVERWRITE takes and PRESERVE keeps). */
  conflicts: PredictedConflict[];
}

/** What the step decides on. */
export interface ConflictModeInput {
  action: 'create' | 'update';
  /** `--resolve-conflicts`, or undefined when not given. */
  asked: ResolveConflicts | undefined;
  conflicts: PredictedConflict[];
  /** Manifest steps of vpccni's own come before this CreateAddon (vpccni then owns what EKS would conflict on). */
  afterManifests: boolean;
  /** The version the step goes to, and the whole upgrade's target (for the command that works). */
  to: string;
  target: string;
}

function list(conflicts: PredictedConflict[], max = 8): string {
  const shown = conflicts.slice(0, max).map((c) => `${conflictText(c)} (owned by ${c.managers.join(', ')})`);
  return conflicts.length > max ? `${shown.join('; ')}; and ${conflicts.length - max} more` : shown.join('; ');
}

/**
 * Decides the conflict mode of the first EKS step from the predicted conflicts: a CreateAddon with no mode
 * given adopts with OVERWRITE when NONE would conflict (the custom settings travel as configuration values,
 * as the user guide's "Create the add-on" does in two steps); a NONE the user asked for that would conflict is
 * refused (UsageError, exit 2) before any change, naming the fields and the command that works.
 */
export function decideConflictMode(input: ConflictModeInput): ConflictModeDecision {
  const { action, asked, conflicts } = input;
  const n = conflicts.length;
  const fields = `${n} field${n === 1 ? '' : 's'}`;
  if (action === 'create' && asked === 'PRESERVE') {
    throw new UsageError('--resolve-conflicts PRESERVE is not valid on CreateAddon (the first step adopts the self-managed install); use NONE or OVERWRITE.');
  }
  if (asked === 'NONE' && n > 0) {
    const call = action === 'create' ? 'CreateAddon' : 'UpdateAddon';
    const works =
      action === 'create'
        ? `run \`vpccni upgrade --to ${input.target}\` without --resolve-conflicts (it adopts with OVERWRITE and carries your settings as configuration values) or with --resolve-conflicts OVERWRITE`
        : `run \`vpccni upgrade --to ${input.target} --resolve-conflicts PRESERVE\` to keep them, or OVERWRITE to reset them`;
    throw new UsageError(`--resolve-conflicts NONE would fail: EKS's ${call} to ${input.to} would stop with ConfigurationConflict on ${fields} another field manager set: ${list(conflicts)}. Nothing was changed; ${works}.`);
  }
  // PRESERVE keeps a live image another manager set (a mirror, a pinned digest): aws-node would go on running
  // the old images, and the step's check that they carry the new version would fail after the change.
  const images = conflicts.filter((c) => c.object.startsWith('DaemonSet.apps ') && c.path.endsWith('.image'));
  if (action === 'update' && (asked ?? 'PRESERVE') === 'PRESERVE' && images.length > 0) {
    throw new UsageError(
      `PRESERVE${asked ? '' : ' (the default for an update)'} would keep ${list(images)}, so aws-node would go on running the old images and the update to ${input.to} could not finish. Nothing was changed; run \`vpccni upgrade --to ${input.target} --resolve-conflicts OVERWRITE\` (a mirror registry or a pinned digest is then named as reset and needs --accept-setting-loss), or set the image back to the add-on's with kubectl first.`,
    );
  }
  if (asked !== undefined) {
    const what =
      n === 0
        ? 'no field EKS sets is owned by another manager with another value'
        : asked === 'OVERWRITE'
          ? `EKS takes ${fields} another manager set: ${list(conflicts, 4)}`
          : `EKS keeps ${fields} another manager set: ${list(conflicts, 4)}`;
    return { mode: asked, reason: `--resolve-conflicts ${asked} was given; ${what}`, conflicts };
  }
  if (action === 'update') {
    return { mode: 'PRESERVE', reason: n === 0 ? 'the default for an update; no field EKS sets is owned by another manager with another value' : `the default for an update: it keeps ${fields} another manager set (${list(conflicts, 4)})`, conflicts };
  }
  if (input.afterManifests) {
    return { mode: 'OVERWRITE', reason: "vpccni's own manifest applies set every field before the CreateAddon, and the custom settings travel as configuration values", conflicts };
  }
  if (n === 0) return { mode: 'NONE', reason: 'no field EKS sets is owned by another manager with another value, so NONE cannot conflict', conflicts };
  return {
    mode: 'OVERWRITE',
    reason: `NONE would stop with ConfigurationConflict on ${fields} another manager set (${list(conflicts, 4)}); OVERWRITE takes them, and the custom settings travel as configuration values`,
    conflicts,
  };
}

/**
 * Advisories that foresee one of EKS's apply conflicts on adoption (advisories/advisories.json), and the
 * conflicts each stands for. Once the prediction has run for a CreateAddon they are cases of it.
 */
const CONFLICT_ADVISORIES: Record<string, (c: PredictedConflict) => boolean> = {
  'v1.18.4-image-pull-policy-adoption': (c) => c.object === 'DaemonSet.apps aws-node' && c.path.endsWith('.imagePullPolicy'),
  'policyendpoints-crd-conflict-on-create': (c) => c.object === 'CustomResourceDefinition.apiextensions.k8s.io policyendpoints.networking.k8s.aws',
};

/**
 * The findings of an upgrade once the conflict prediction has decided the CreateAddon's mode: an advisory that
 * foresees a conflict becomes what the prediction found (the fields, their owners and the mode that handles
 * them, severity info), or goes when the live objects show no such conflict. Other findings are unchanged.
 */
export function withPredictedAdvisories<F extends { id: string; severity: string; message: string; remediation?: string }>(
  findings: readonly F[],
  decision: ConflictModeDecision | null,
  action: 'create' | 'update' | 'apply' | undefined,
): F[] {
  if (!decision || action !== 'create') return [...findings];
  const out: F[] = [];
  for (const finding of findings) {
    const matches = CONFLICT_ADVISORIES[finding.id];
    if (!matches) {
      out.push(finding);
      continue;
    }
    const found = decision.conflicts.filter(matches);
    if (found.length === 0) continue;
    out.push({
      ...finding,
      severity: 'info',
      message: `Predicted from the live objects' field owners: EKS would conflict on ${list(found)}; the CreateAddon uses ${decision.mode}, which ${decision.mode === 'OVERWRITE' ? 'takes them' : 'stops on them'}.`,
      remediation: 'Nothing to do: vpccni chose the mode before any change.',
    });
  }
  return out;
}
