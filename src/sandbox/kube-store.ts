/**
 * The object store of the sandbox's Kubernetes API emulator, with the little controller behaviour our
 * commands observe: DaemonSet rollouts pod by pod, maxUnavailable at a time, through the rollout gate (or never
 * finishing), with the DaemonSet's Pods following each step (kube-pods.ts), Deployments that are ready at once,
 * and CRDs whose deletion takes their resources along.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../formats/json.js';
import type { KubeObject } from '../formats/kube-object.js';
import { Gate } from './gates.js';
import { isCurrent, isReady, newDaemonPod, ownedBy, planPods, podStatus, pullReasonOf, revisionHash, templatePullFails, type PullFailure } from './kube-pods.js';
import { recordUpdate } from './kube-ssa.js';

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

/** Who writes: `manager` records an Update in managedFields (default "kubectl-edit"); null keeps managedFields as given. */
export interface PutOptions {
  manager?: string | null;
  subresource?: string;
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
  /** How long a whole rollout takes at most: each pod step waits rolloutDurationMs / desired pods. */
  rolloutDurationMs?: number;
  rolloutNeverFinishes?: boolean;
  /** The rollout gate (see gates.ts): every pod step of a rollout passes through it; held, it waits for the test. */
  rolloutGate?: Gate;
  /** faults.imagePullFails: whether the kubelets cannot pull this image reference (asked when a rollout starts). */
  pullFails?: (image: string) => boolean;
}

/** A DaemonSet rollout in flight, as the DaemonSet controller runs it: old pods replaced maxUnavailable at a time. */
interface PendingRollout {
  /** The template generation being rolled out; a newer one restarts the count. */
  templateGeneration: number;
  /** Pods running the new template and available. */
  updated: number;
  /** Old pods taken down whose replacements are not available yet. */
  inFlight: number;
  /** A step was scheduled and has not run yet. */
  scheduled: boolean;
  /** A step came due while rolloutNeverFinishes was on. */
  stalled: boolean;
  /**
   * The template has an image the kubelets cannot pull (faults.imagePullFails): the new pods wait in
   * ErrImagePull, then (the next pod step) in ImagePullBackOff for good; the rollout never gets further.
   */
  pull?: PullFailure['reason'];
}

/** `maxUnavailable` (an int or a percentage, rounded up as the DaemonSet controller does) over `desired` pods; at least 1. */
export function maxUnavailableOf(ds: KubeObject, desired: number): number {
  const raw = path(ds, ['spec', 'updateStrategy', 'rollingUpdate', 'maxUnavailable']);
  let value = 1;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'string' && /^\d+%$/.test(raw)) value = Math.ceil((Number(raw.slice(0, -1)) * desired) / 100);
  else if (typeof raw === 'string' && /^\d+$/.test(raw)) value = Number(raw);
  return Math.max(1, value);
}

/** The annotation the apps/v1 DaemonSet carries for its template generation. */
export const TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';

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
  private readonly removedCrds = new Set<string>();
  private counter = 0;
  /** While the controller writes pods: their own changes must not start another pass. */
  private syncingPods = false;
  private durationMs: number;
  private neverFinishes: boolean;
  private readonly pullFails: (image: string) => boolean;
  /** See KubeStoreOptions.rolloutGate: one passage is one pod of a rollout. */
  readonly rolloutGate: Gate;

  constructor(options: KubeStoreOptions = {}) {
    this.durationMs = options.rolloutDurationMs ?? 200;
    this.neverFinishes = options.rolloutNeverFinishes ?? false;
    this.pullFails = options.pullFails ?? (() => false);
    this.rolloutGate = options.rolloutGate ?? new Gate('rollout');
    // A real cluster always has these; kubectl asks for the namespace after a NotFound.
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: { finalizers: ['kubernetes'] } });
    }
  }

  /** How long a whole DaemonSet rollout takes (each pod step waits its share); applies to later steps. */
  get rolloutDurationMs(): number {
    return this.durationMs;
  }

  set rolloutDurationMs(ms: number) {
    this.durationMs = ms;
  }

  /** While true no rollout step completes; switching it off lets the stalled steps go on. */
  get rolloutNeverFinishes(): boolean {
    return this.neverFinishes;
  }

  set rolloutNeverFinishes(value: boolean) {
    this.neverFinishes = value;
    if (value) return;
    for (const [key, rollout] of this.rollouts) {
      if (rollout.stalled) {
        rollout.stalled = false;
        this.stepRollout(key, rollout);
      }
    }
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

  /**
   * Deep copies of every object of a kind, in one namespace or all of them, that `matches` (a selector) keeps,
   * sorted by namespace and name in byte order, as etcd keeps its keys. The selector runs before the copy: a
   * list of 5000 nodes that selects none copies none.
   */
  list(apiVersion: string, kind: string, namespace?: string, matches?: (obj: KubeObject) => boolean): KubeObject[] {
    const res = this.resourceFor(apiVersion, kind);
    const prefix = `${res.group}/${res.kind}/`;
    const kept: Array<[string, KubeObject]> = [];
    for (const [key, obj] of this.objects) {
      if (!key.startsWith(prefix)) continue;
      if (res.namespaced && namespace !== undefined && obj.metadata.namespace !== namespace) continue;
      if (matches && !matches(obj)) continue;
      kept.push([`${obj.metadata.namespace ?? ''}/${obj.metadata.name}`, obj]);
    }
    kept.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return kept.map(([, obj]) => structuredClone(obj));
  }

  /**
   * Creates or replaces a whole object. Keeps uid and creationTimestamp, bumps the resourceVersion, bumps
   * metadata.generation when spec changed; DaemonSet and Deployment status belong to the controller.
   */
  put(input: KubeObject, options: PutOptions = {}): KubeObject {
    const res = this.resourceFor(input.apiVersion, input.kind);
    const obj = structuredClone(input);
    if (!this.served(res)) throw new Error(`The CustomResourceDefinition ${res.plural}.${res.group} was deleted; no ${res.kind} can be stored.`);
    obj.apiVersion = res.group ? `${res.group}/${res.version}` : res.version;
    if (res.namespaced) obj.metadata.namespace = obj.metadata.namespace || 'default';
    else delete obj.metadata.namespace;
    if (!obj.metadata.name) throw new Error(`A ${res.kind} needs metadata.name.`);
    const key = this.key(res, obj.metadata.name, obj.metadata.namespace);
    const existing = this.objects.get(key);
    if (options.manager !== null) recordUpdate(existing, obj, options.manager ?? 'kubectl-edit', options.subresource);
    const specChanged = !existing || canonicalJson(existing.spec) !== canonicalJson(obj.spec);
    const meta = obj.metadata;
    meta.uid = existing?.metadata.uid ?? (typeof meta.uid === 'string' && meta.uid ? meta.uid : randomUUID());
    meta.creationTimestamp = existing?.metadata.creationTimestamp ?? nowTimestamp();
    const oldGeneration = typeof existing?.metadata.generation === 'number' ? existing.metadata.generation : 0;
    meta.generation = existing ? oldGeneration + (specChanged ? 1 : 0) : 1;
    meta.resourceVersion = String(++this.counter);

    let rolloutStarts = false;
    if (res.kind === 'DaemonSet') {
      // The template generation moves only when the pod template changes; only that rolls pods.
      const oldTemplateGeneration = existing ? templateGenerationOf(existing) : 0;
      const templateChanged = !existing || canonicalJson(path(existing, ['spec', 'template'])) !== canonicalJson(path(obj, ['spec', 'template']));
      const templateGeneration = existing ? oldTemplateGeneration + (templateChanged ? 1 : 0) : 1;
      meta.annotations = { ...(isRecord(meta.annotations) ? meta.annotations : {}), [TEMPLATE_GENERATION]: String(templateGeneration) };
      if (!existing) {
        // A seeded or newly created DaemonSet starts healthy: scenarios that want a stuck rollout change it later.
        obj.status = this.daemonSetStatus(obj, undefined);
      } else {
        if (templateChanged) {
          const desired = this.desiredPods(obj);
          const previous = this.rollouts.get(key);
          // Pods already down stay down; pods of an interrupted rollout are old again.
          this.rollouts.set(key, {
            templateGeneration,
            updated: 0,
            inFlight: Math.min(Math.max(previous?.inFlight ?? 0, maxUnavailableOf(obj, desired)), desired),
            scheduled: previous?.scheduled ?? false,
            stalled: previous?.stalled ?? false,
            ...(templatePullFails(obj, this.pullFails) ? { pull: 'ErrImagePull' as const } : {}),
          });
          rolloutStarts = true;
        }
        obj.status = this.daemonSetStatus(obj, this.rollouts.get(key));
      }
    } else if (res.kind === 'Deployment') {
      obj.status = deploymentStatus(obj);
    }

    this.objects.set(key, obj);
    this.emit(existing ? 'MODIFIED' : 'ADDED', res, obj);
    const result = structuredClone(obj);
    if (rolloutStarts) this.beginBatch(key);
    if (res.kind === 'DaemonSet') this.syncPods(key);
    if (res.kind === 'Pod' && !this.syncingPods) this.resyncOwnerOf(obj);
    if (res.kind === 'Node') this.recountDaemonSets();
    if (res.kind === 'CustomResourceDefinition') this.removedCrds.delete(obj.metadata.name);
    this.notifyRolloutWaiters();
    return result;
  }

  /** False for a custom resource whose CustomResourceDefinition was deleted: neither served nor stored. */
  served(res: KubeResource): boolean {
    return !this.removedCrds.has(`${res.plural}.${res.group}`);
  }

  /** Removes an object; false when there was none. */
  delete(apiVersion: string, kind: string, name: string, namespace?: string): boolean {
    const res = this.resourceFor(apiVersion, kind);
    const key = this.key(res, name, namespace);
    const existing = this.objects.get(key);
    if (!existing) return false;
    this.objects.delete(key);
    this.rollouts.delete(key);
    existing.metadata.resourceVersion = String(++this.counter);
    this.emit('DELETED', res, existing);
    // The garbage collector deletes a DaemonSet's pods with it; the controller replaces a deleted pod.
    if (res.kind === 'DaemonSet') this.deleteOwnedPods(existing);
    if (res.kind === 'Pod' && !this.syncingPods) this.resyncOwnerOf(existing);
    if (res.kind === 'Node') this.recountDaemonSets();
    if (res.kind === 'CustomResourceDefinition') this.removeCustomResources(name);
    return true;
  }

  /** Resolves once the DaemonSet exists and its latest spec has rolled out to every node it admits. */
  whenRolledOut(name: string, namespace: string): Promise<void> {
    return this.whenDaemonSet(name, namespace, (ds) => isDaemonSetRolledOut(ds)).then(() => undefined);
  }

  /** Resolves once the DaemonSet exists and `predicate` holds for it (checked now and after every change). */
  whenDaemonSet(name: string, namespace: string, predicate: (ds: KubeObject) => boolean): Promise<KubeObject> {
    return new Promise((resolve) => {
      const check = (): void => {
        const ds = this.objects.get(this.key(this.resourceFor('apps/v1', 'DaemonSet'), name, namespace));
        if (ds && predicate(ds)) {
          this.rolloutWaiters.delete(check);
          resolve(structuredClone(ds));
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

  /** Deleting a CRD deletes its objects and stops serving its kind, as the real API server does. */
  private removeCustomResources(crdName: string): void {
    const res = KUBE_RESOURCES.find((r) => `${r.plural}.${r.group}` === crdName);
    if (!res) return;
    const apiVersion = `${res.group}/${res.version}`;
    for (const obj of this.list(apiVersion, res.kind)) this.delete(apiVersion, res.kind, obj.metadata.name, obj.metadata.namespace);
    this.removedCrds.add(crdName);
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

  private desiredPods(ds: KubeObject): number {
    return this.list('v1', 'Node').filter((node) => daemonSetAdmitsNode(ds, node)).length;
  }

  /** The status the DaemonSet controller reports: it observes the newest generation at once; pods move one by one. */
  private daemonSetStatus(ds: KubeObject, rollout: PendingRollout | undefined): Json {
    const desired = this.desiredPods(ds);
    const ready = rollout ? Math.min(rollout.updated, desired) : desired;
    const unavailable = rollout ? Math.min(rollout.inFlight, desired - ready) : 0;
    // Pods that cannot pull their image are of the new template (scheduled, counted as updated) but not available.
    const updated = rollout?.pull ? ready + unavailable : ready;
    return {
      currentNumberScheduled: desired,
      desiredNumberScheduled: desired,
      numberMisscheduled: 0,
      numberReady: desired - unavailable,
      numberAvailable: desired - unavailable,
      ...(unavailable > 0 ? { numberUnavailable: unavailable } : {}),
      updatedNumberScheduled: updated,
      observedGeneration: ds.metadata.generation,
    };
  }

  /** Takes old pods down until maxUnavailable are unavailable, and schedules the next pod step. */
  private beginBatch(key: string): void {
    const rollout = this.rollouts.get(key);
    const ds = this.objects.get(key);
    if (!rollout || !ds) return;
    const desired = this.desiredPods(ds);
    const room = Math.min(maxUnavailableOf(ds, desired), desired - rollout.updated);
    if (rollout.inFlight < room) {
      rollout.inFlight = room;
      this.writeStatus(key, ds, rollout);
    }
    if (rollout.updated >= desired) {
      this.finishRollout(key);
      return;
    }
    // Backed off pulling: no step will ever make the new pods available.
    if (rollout.scheduled || rollout.pull === 'ImagePullBackOff') return;
    rollout.scheduled = true;
    const stepMs = Math.max(1, Math.floor(this.durationMs / Math.max(1, desired)));
    const name = ds.metadata.name;
    this.rolloutGate.after(stepMs, () => {
      const current = this.rollouts.get(key);
      if (!current) return;
      current.scheduled = false;
      if (current.pull) {
        // The pull failed and the kubelet backs off: the new pods wait in ImagePullBackOff from now on.
        current.pull = 'ImagePullBackOff';
        const latest = this.objects.get(key);
        if (latest) this.writeStatus(key, latest, current);
        return;
      }
      if (this.neverFinishes) {
        current.stalled = true;
        return;
      }
      this.stepRollout(key, current);
    }, `rollout ${name}`);
  }

  /** One pod step: one replaced pod becomes available with the new template, then the next old pod goes down. */
  private stepRollout(key: string, rollout: PendingRollout): void {
    const ds = this.objects.get(key);
    if (!ds) return;
    const desired = this.desiredPods(ds);
    if (rollout.inFlight > 0) {
      rollout.inFlight--;
      rollout.updated++;
    }
    if (rollout.updated >= desired) {
      this.finishRollout(key);
      return;
    }
    this.writeStatus(key, ds, rollout);
    this.beginBatch(key);
  }

  private finishRollout(key: string): void {
    this.rollouts.delete(key);
    const ds = this.objects.get(key);
    if (ds) this.writeStatus(key, ds, undefined);
  }

  private writeStatus(key: string, ds: KubeObject, rollout: PendingRollout | undefined): void {
    const status = this.daemonSetStatus(ds, rollout);
    if (canonicalJson(status) !== canonicalJson(ds.status)) {
      const updated = structuredClone(ds);
      updated.status = status;
      updated.metadata.resourceVersion = String(++this.counter);
      this.objects.set(key, updated);
      this.emit('MODIFIED', this.resourceFor('apps/v1', 'DaemonSet'), updated);
    }
    this.syncPods(key);
    this.notifyRolloutWaiters();
  }

  /**
   * Brings a DaemonSet's pods in line with its rollout (kube-pods.ts): a pod on every admitted node, the
   * first `updated` of the current revision and ready, the next `inFlight` of it and starting, the rest as
   * they were; pods on nodes it no longer admits are deleted. Writes only what changes.
   */
  private syncPods(key: string): void {
    const ds = this.objects.get(key);
    if (!ds || this.syncingPods) return;
    this.syncingPods = true;
    try {
      const namespace = ds.metadata.namespace;
      const nodes = this.list('v1', 'Node').filter((node) => daemonSetAdmitsNode(ds, node));
      const admitted = new Set(nodes.map((n) => n.metadata.name));
      const byNode = new Map<string, KubeObject>();
      for (const pod of this.list('v1', 'Pod', namespace)) {
        if (!ownedBy(pod, ds.metadata.uid)) continue;
        const nodeName = String(path(pod, ['spec', 'nodeName']) ?? '');
        if (!admitted.has(nodeName) || byNode.has(nodeName)) this.delete('v1', 'Pod', pod.metadata.name, namespace);
        else byNode.set(nodeName, pod);
      }
      const rollout = this.rollouts.get(key);
      const desired = nodes.length;
      const updated = rollout ? Math.min(rollout.updated, desired) : desired;
      const inFlight = rollout ? Math.min(rollout.inFlight, desired - updated) : 0;
      const hash = revisionHash(ds);
      const generation = templateGenerationOf(ds);
      const pull: PullFailure | undefined = rollout?.pull ? { reason: rollout.pull, fails: this.pullFails } : undefined;
      for (const [node, want] of planPods(nodes, (name) => byNode.get(name), hash, updated, inFlight)) {
        const pod = byNode.get(node.metadata.name);
        if (want === 'keep') {
          if (!pod) this.put(newDaemonPod(ds, node, generation, true), { manager: null });
          continue;
        }
        const ready = want === 'ready';
        const stuck = ready ? undefined : pull;
        if (pod && isCurrent(pod, hash)) {
          if (isReady(pod) !== ready || pullReasonOf(pod) !== stuck?.reason) this.put({ ...pod, status: podStatus(pod, node, ready, stuck) }, { manager: null });
          continue;
        }
        if (pod) this.delete('v1', 'Pod', pod.metadata.name, namespace);
        this.put(newDaemonPod(ds, node, generation, ready, stuck), { manager: null });
      }
    } finally {
      this.syncingPods = false;
    }
  }

  private deleteOwnedPods(ds: KubeObject): void {
    this.syncingPods = true;
    try {
      for (const pod of this.list('v1', 'Pod', ds.metadata.namespace)) {
        if (ownedBy(pod, ds.metadata.uid)) this.delete('v1', 'Pod', pod.metadata.name, pod.metadata.namespace);
      }
    } finally {
      this.syncingPods = false;
    }
  }

  /** A pod of a DaemonSet changed or went away outside the controller: the controller puts it right. */
  private resyncOwnerOf(pod: KubeObject): void {
    const refs = Array.isArray(pod.metadata.ownerReferences) ? pod.metadata.ownerReferences : [];
    const ref = refs.find((r) => isRecord(r) && r.kind === 'DaemonSet');
    if (!isRecord(ref) || typeof ref.name !== 'string') return;
    const key = this.key(this.resourceFor('apps/v1', 'DaemonSet'), ref.name, pod.metadata.namespace);
    if (this.objects.get(key)?.metadata.uid === ref.uid) this.syncPods(key);
  }

  /** Node changes move every DaemonSet's desired count, as the real DaemonSet controller does. */
  private recountDaemonSets(): void {
    for (const [key, ds] of [...this.objects]) {
      if (!key.startsWith('apps/DaemonSet/')) continue;
      this.writeStatus(key, ds, this.rollouts.get(key));
    }
    this.notifyRolloutWaiters();
  }

  private notifyRolloutWaiters(): void {
    for (const waiter of [...this.rolloutWaiters]) waiter();
  }
}

function templateGenerationOf(ds: KubeObject): number {
  const annotations = isRecord(ds.metadata.annotations) ? ds.metadata.annotations : {};
  const value = Number(annotations[TEMPLATE_GENERATION]);
  return Number.isFinite(value) && value > 0 ? value : 1;
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
