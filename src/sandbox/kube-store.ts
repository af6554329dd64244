/**
 * The object store of the sandbox's Kubernetes API emulator, with the little controller behaviour our
 * commands observe: DaemonSet rollouts that take time (or never finish) and Deployments that are ready at once.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../decide/json.js';
import type { KubeObject } from '../decide/manifests.js';
import { Gate } from './gates.js';

/** One kind the emulator serves; the same table drives the store and API discovery. */
export interface KubeResource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
}

function resource(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[] = [],
  categories: string[] = [],
): KubeResource {
  return { group, version, kind, plural, singular: kind.toLowerCase(), namespaced, shortNames, categories };
}

/** Every kind the emulator knows; objects of other kinds are refused. */
export const KUBE_RESOURCES: readonly KubeResource[] = [
  resource('', 'v1', 'Namespace', 'namespaces', false, ['ns']),
  resource('', 'v1', 'Node', 'nodes', false, ['no']),
  resource('', 'v1', 'Pod', 'pods', true, ['po'], ['all']),
  resource('', 'v1', 'Service', 'services', true, ['svc'], ['all']),
  resource('', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  resource('', 'v1', 'ConfigMap', 'configmaps', true, ['cm']),
  resource('', 'v1', 'Secret', 'secrets', true),
  resource('apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds'], ['all']),
  resource('apps', 'v1', 'Deployment', 'deployments', true, ['deploy'], ['all']),
  resource('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  resource('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  resource('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  resource('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  resource('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['crd', 'crds']),
  resource('crd.k8s.amazonaws.com', 'v1alpha1', 'ENIConfig', 'eniconfigs', false),
  resource('networking.k8s.aws', 'v1alpha1', 'PolicyEndpoint', 'policyendpoints', true),
];

/** The group of an apiVersion ('' for the core group's 'v1'). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The known resource of a kind in the group of `apiVersion`, if any. */
export function findResourceByKind(apiVersion: string, kind: string): KubeResource | undefined {
  const group = groupOf(apiVersion);
  return KUBE_RESOURCES.find((r) => r.group === group && r.kind === kind);
}

/** A change to one object, as a watch streams it. */
export interface KubeWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The global resourceVersion this change produced. */
  resourceVersion: number;
  resource: KubeResource;
  object: KubeObject;
}

/** How the store's rollout controller behaves; both settable later on the store itself. */
export interface KubeStoreOptions {
  rolloutDurationMs?: number;
  rolloutNeverFinishes?: boolean;
  /** The rollout gate (see gates.ts): a due rollout step passes through it; held, it waits for the test. */
  rolloutGate?: Gate;
}

interface PendingRollout {
  startedAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** True once its step waits in (or went through) the rollout gate. */
  queued: boolean;
}

/** Watches may resume this many changes back; older resourceVersions get 410 Gone, as from a real server. */
const EVENT_HISTORY = 10_000;

type Json = Record<string, unknown>;

/** Plain-object test that keeps arrays and null out. */
export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}


function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** In-memory Kubernetes objects with one resourceVersion counter, an event history for watches and a rollout controller. */
export class KubeStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: KubeWatchEvent[] = [];
  private readonly listeners = new Set<(event: KubeWatchEvent) => void>();
  private readonly rollouts = new Map<string, PendingRollout>();
  private readonly rolloutWaiters = new Set<() => void>();
  private counter = 0;
  private durationMs: number;
  private neverFinishes: boolean;
  /** See KubeStoreOptions.rolloutGate. */
  readonly rolloutGate: Gate;

  constructor(options: KubeStoreOptions = {}) {
    this.rolloutGate = options.rolloutGate ?? new Gate('rollout');
    this.durationMs = options.rolloutDurationMs ?? 200;
    this.neverFinishes = options.rolloutNeverFinishes ?? false;
    // A real cluster always has these; kubectl asks for the namespace after a NotFound.
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: { finalizers: ['kubernetes'] } });
    }
  }

  /** How long a DaemonSet rollout takes; a change reschedules the rollouts in flight. */
  get rolloutDurationMs(): number {
    return this.durationMs;
  }

  set rolloutDurationMs(ms: number) {
    this.durationMs = ms;
    this.recheckRollouts();
  }

  /** While true no rollout completes; switching it off completes the overdue ones. */
  get rolloutNeverFinishes(): boolean {
    return this.neverFinishes;
  }

  set rolloutNeverFinishes(value: boolean) {
    this.neverFinishes = value;
    this.recheckRollouts();
  }

  /** The latest resourceVersion handed out, as lists report it. */
  get resourceVersion(): number {
    return this.counter;
  }

  /** A deep copy of one object, or undefined. */
  get(apiVersion: string, kind: string, name: string, namespace?: string): KubeObject | undefined {
    const res = this.resourceFor(apiVersion, kind);
    const obj = this.objects.get(this.key(res, name, namespace));
    return obj ? structuredClone(obj) : undefined;
  }

  /** Deep copies of every object of a kind, in one namespace or all of them, sorted by namespace and name. */
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const res = this.resourceFor(apiVersion, kind);
    const prefix = `${res.group}/${res.kind}/`;
    const out: KubeObject[] = [];
    for (const [key, obj] of this.objects) {
      if (!key.startsWith(prefix)) continue;
      if (res.namespaced && namespace !== undefined && obj.metadata.namespace !== namespace) continue;
      out.push(structuredClone(obj));
    }
    return out.sort((a, b) =>
      `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`),
    );
  }

  /**
   * Creates or replaces a whole object. Keeps uid and creationTimestamp, bumps the resourceVersion, bumps
   * metadata.generation when spec changed; DaemonSet and Deployment status belong to the controller.
   */
  put(input: KubeObject): KubeObject {
    const res = this.resourceFor(input.apiVersion, input.kind);
    const obj = structuredClone(input);
    obj.apiVersion = res.group ? `${res.group}/${res.version}` : res.version;
    if (res.namespaced) obj.metadata.namespace = obj.metadata.namespace || 'default';
    else delete obj.metadata.namespace;
    if (!obj.metadata.name) throw new Error(`A ${res.kind} needs metadata.name.`);
    const key = this.key(res, obj.metadata.name, obj.metadata.namespace);
    const existing = this.objects.get(key);
    const specChanged = !existing || canonicalJson(existing.spec) !== canonicalJson(obj.spec);
    const meta = obj.metadata;
    meta.uid = existing?.metadata.uid ?? (typeof meta.uid === 'string' && meta.uid ? meta.uid : randomUUID());
    meta.creationTimestamp = existing?.metadata.creationTimestamp ?? nowTimestamp();
    const oldGeneration = typeof existing?.metadata.generation === 'number' ? existing.metadata.generation : 0;
    meta.generation = existing ? oldGeneration + (specChanged ? 1 : 0) : 1;
    meta.resourceVersion = String(++this.counter);

    let rolloutStarts = false;
    if (res.kind === 'DaemonSet') {
      if (!existing) {
        // A seeded or newly created DaemonSet starts healthy: scenarios that want a stuck rollout change it later.
        obj.status = this.daemonSetStatus(obj, meta.generation as number, true);
      } else if (specChanged) {
        obj.status = this.daemonSetStatus(obj, this.observedGeneration(existing), false);
        rolloutStarts = true;
      } else {
        const rolling = this.rollouts.has(key);
        obj.status = this.daemonSetStatus(obj, this.observedGeneration(existing), !rolling);
      }
    } else if (res.kind === 'Deployment') {
      obj.status = deploymentStatus(obj);
    }

    this.objects.set(key, obj);
    this.emit(existing ? 'MODIFIED' : 'ADDED', res, obj);
    const result = structuredClone(obj);
    // After the store holds the new spec, since a zero-length rollout completes at once.
    if (rolloutStarts) this.startRollout(key);
    if (res.kind === 'Node') this.recountDaemonSets();
    this.notifyRolloutWaiters();
    return result;
  }

  /** Removes an object; false when there was none. */
  delete(apiVersion: string, kind: string, name: string, namespace?: string): boolean {
    const res = this.resourceFor(apiVersion, kind);
    const key = this.key(res, name, namespace);
    const existing = this.objects.get(key);
    if (!existing) return false;
    this.objects.delete(key);
    const rollout = this.rollouts.get(key);
    if (rollout?.timer) clearTimeout(rollout.timer);
    this.rollouts.delete(key);
    existing.metadata.resourceVersion = String(++this.counter);
    this.emit('DELETED', res, existing);
    if (res.kind === 'Node') this.recountDaemonSets();
    return true;
  }

  /** Resolves once the DaemonSet exists and its latest spec has rolled out to every node it admits. */
  whenRolledOut(name: string, namespace: string): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        const ds = this.objects.get(this.key(this.resourceFor('apps/v1', 'DaemonSet'), name, namespace));
        if (ds && isDaemonSetRolledOut(ds)) {
          this.rolloutWaiters.delete(check);
          resolve();
        }
      };
      this.rolloutWaiters.add(check);
      check();
    });
  }

  /** Calls `listener` on every later change; returns the unsubscribe function. */
  subscribe(listener: (event: KubeWatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The changes after `resourceVersion`, or undefined when they are no longer all retained (410 Gone). */
  eventsAfter(resourceVersion: number): KubeWatchEvent[] | undefined {
    const oldest = this.history[0];
    if (oldest && resourceVersion < oldest.resourceVersion - 1) return undefined;
    return this.history.filter((e) => e.resourceVersion > resourceVersion).map((e) => ({ ...e, object: structuredClone(e.object) }));
  }

  private resourceFor(apiVersion: string, kind: string): KubeResource {
    const res = findResourceByKind(apiVersion, kind);
    if (!res) throw new Error(`The Kubernetes emulator does not know ${kind} in ${apiVersion}.`);
    return res;
  }

  private key(res: KubeResource, name: string, namespace: string | undefined): string {
    return `${res.group}/${res.kind}/${res.namespaced ? namespace || 'default' : ''}/${name}`;
  }

  private emit(type: KubeWatchEvent['type'], res: KubeResource, obj: KubeObject): void {
    const event: KubeWatchEvent = { type, resourceVersion: this.counter, resource: res, object: structuredClone(obj) };
    this.history.push(event);
    if (this.history.length > EVENT_HISTORY) this.history.splice(0, this.history.length - EVENT_HISTORY);
    for (const listener of [...this.listeners]) listener({ ...event, object: structuredClone(event.object) });
  }

  private observedGeneration(ds: KubeObject): number {
    const status = isRecord(ds.status) ? ds.status : {};
    return typeof status.observedGeneration === 'number' ? status.observedGeneration : 0;
  }

  private daemonSetStatus(ds: KubeObject, observedGeneration: number, complete: boolean): Json {
    const desired = this.list('v1', 'Node').filter((node) => daemonSetAdmitsNode(ds, node)).length;
    return {
      currentNumberScheduled: desired,
      desiredNumberScheduled: desired,
      numberMisscheduled: 0,
      numberReady: desired,
      numberAvailable: desired,
      updatedNumberScheduled: complete ? desired : 0,
      observedGeneration,
    };
  }

  private startRollout(key: string): void {
    const previous = this.rollouts.get(key);
    if (previous?.timer) clearTimeout(previous.timer);
    this.rollouts.set(key, { startedAt: Date.now(), timer: undefined, queued: false });
    this.recheckRollouts();
  }

  /** Completes the due rollouts and (re)arms a timer for the others, after any change of the settings. */
  private recheckRollouts(): void {
    for (const [key, rollout] of this.rollouts) {
      if (rollout.timer) clearTimeout(rollout.timer);
      rollout.timer = undefined;
      if (this.neverFinishes || rollout.queued) continue;
      const remaining = rollout.startedAt + this.durationMs - Date.now();
      if (remaining <= 0 || this.rolloutGate.held) {
        // The one wait of a rollout step: the rollout gate (passes at once while open, waits while held).
        rollout.queued = true;
        this.rolloutGate.after(0, () => {
          if (this.rollouts.get(key) === rollout) this.completeRollout(key);
        }, `rollout ${key}`);
      } else {
        rollout.timer = setTimeout(() => this.recheckRollouts(), remaining);
        rollout.timer.unref?.();
      }
    }
  }

  private completeRollout(key: string): void {
    this.rollouts.delete(key);
    const ds = this.objects.get(key);
    if (!ds) return;
    const updated = structuredClone(ds);
    updated.status = this.daemonSetStatus(updated, updated.metadata.generation as number, true);
    updated.metadata.resourceVersion = String(++this.counter);
    this.objects.set(key, updated);
    this.emit('MODIFIED', this.resourceFor('apps/v1', 'DaemonSet'), updated);
    this.notifyRolloutWaiters();
  }

  /** Node changes move every DaemonSet's desired count, as the real DaemonSet controller does. */
  private recountDaemonSets(): void {
    const res = this.resourceFor('apps/v1', 'DaemonSet');
    for (const [key, ds] of this.objects) {
      if (!key.startsWith('apps/DaemonSet/')) continue;
      const status = this.daemonSetStatus(ds, this.observedGeneration(ds), !this.rollouts.has(key));
      if (canonicalJson(status) === canonicalJson(ds.status)) continue;
      const updated = structuredClone(ds);
      updated.status = status;
      updated.metadata.resourceVersion = String(++this.counter);
      this.objects.set(key, updated);
      this.emit('MODIFIED', res, updated);
    }
    this.notifyRolloutWaiters();
  }

  private notifyRolloutWaiters(): void {
    for (const waiter of [...this.rolloutWaiters]) waiter();
  }
}

/** The condition `kubectl rollout status` waits for. */
export function isDaemonSetRolledOut(ds: KubeObject): boolean {
  const status = isRecord(ds.status) ? ds.status : {};
  const num = (key: string): number => (typeof status[key] === 'number' ? status[key] : 0);
  const generation = typeof ds.metadata.generation === 'number' ? ds.metadata.generation : 0;
  return (
    num('observedGeneration') >= generation &&
    num('updatedNumberScheduled') >= num('desiredNumberScheduled') &&
    num('numberAvailable') >= num('desiredNumberScheduled')
  );
}

function deploymentStatus(deployment: KubeObject): Json {
  const spec = isRecord(deployment.spec) ? deployment.spec : {};
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  const now = nowTimestamp();
  return {
    observedGeneration: deployment.metadata.generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: now, lastTransitionTime: now },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', lastUpdateTime: now, lastTransitionTime: now },
    ],
  };
}

interface NodeSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[];
}

/** Whether a DaemonSet schedules a pod on `node`: its nodeSelector and required node affinity (taints ignored). */
export function daemonSetAdmitsNode(ds: KubeObject, node: KubeObject): boolean {
  const podSpec = path(ds, ['spec', 'template', 'spec']);
  const labels = (isRecord(node.metadata.labels) ? node.metadata.labels : {}) as Record<string, string>;
  const nodeSelector = isRecord(podSpec) && isRecord(podSpec.nodeSelector) ? podSpec.nodeSelector : {};
  for (const [key, value] of Object.entries(nodeSelector)) if (labels[key] !== value) return false;
  const required = path(podSpec, ['affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution']);
  if (!isRecord(required)) return true;
  const terms = Array.isArray(required.nodeSelectorTerms) ? (required.nodeSelectorTerms as unknown[]) : [];
  // Terms are ORed, the requirements of one term ANDed; an empty term matches nothing, as in Kubernetes.
  return terms.some((term) => {
    if (!isRecord(term)) return false;
    const expressions = (Array.isArray(term.matchExpressions) ? term.matchExpressions : []) as NodeSelectorRequirement[];
    const fields = (Array.isArray(term.matchFields) ? term.matchFields : []) as NodeSelectorRequirement[];
    if (expressions.length === 0 && fields.length === 0) return false;
    return (
      expressions.every((req) => requirementMatches(req, labels)) &&
      fields.every((req) => requirementMatches(req, { 'metadata.name': node.metadata.name }))
    );
  });
}

function requirementMatches(req: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const key = req.key ?? '';
  const has = Object.prototype.hasOwnProperty.call(labels, key);
  const value = labels[key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(value as string);
    case 'NotIn':
      return !has || !values.includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number(value) > Number(values[0]);
    case 'Lt':
      return has && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

function path(value: unknown, keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}
