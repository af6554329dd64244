/**
 * The pods of a DaemonSet, as the DaemonSet controller and the kubelets keep them: one per admitted node,
 * with the template's labels plus `controller-revision-hash` and `pod-template-generation`, an
 * ownerReference to the DaemonSet, node affinity pinning it to its node, and the containers (and images) of
 * the revision it was created from. During a rollout the first `updated` nodes run ready pods of the new
 * revision, the next `inFlight` nodes a new pod still starting (Pending, ContainerCreating), the rest their
 * old pod. https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/
 */
import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '../formats/json.js';
import type { KubeObject } from '../formats/kube-object.js';

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The label the DaemonSet controller puts on its pods for the revision (ControllerRevision) they run. */
export const REVISION_HASH = 'controller-revision-hash';
/** The label with the template generation the pod was created from. */
export const POD_TEMPLATE_GENERATION = 'pod-template-generation';

/** Kubernetes' SafeEncodeString alphabet (no vowels, no look-alikes): revision hashes and generated name suffixes. */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const safeEncode = (bytes: Uint8Array): string => Array.from(bytes, (b) => SAFE_ALPHABET[b % SAFE_ALPHABET.length]).join('');

/** A short hash of the pod template, as the controller's ControllerRevision names carry (10 lowercase characters). */
export function revisionHash(ds: KubeObject): string {
  const template = isRecord(ds.spec) ? ds.spec.template : undefined;
  return safeEncode(createHash('sha256').update(canonicalJson(template ?? {})).digest().subarray(0, 10));
}

/** The node's InternalIP: its status address, else the one its EC2 name spells (`ip-192-168-12-34…`), else one from its name. */
export function nodeInternalIp(node: KubeObject): string {
  const addresses = isRecord(node.status) && Array.isArray(node.status.addresses) ? node.status.addresses : [];
  const internal = addresses.find((a) => isRecord(a) && a.type === 'InternalIP');
  if (isRecord(internal) && typeof internal.address === 'string') return internal.address;
  const m = /^ip-(\d+)-(\d+)-(\d+)-(\d+)/.exec(node.metadata.name);
  if (m) return `${m[1]}.${m[2]}.${m[3]}.${m[4]}`;
  const digest = createHash('sha256').update(node.metadata.name).digest();
  return `10.0.${digest[0]}.${(digest[1] ?? 0) % 254 + 1}`;
}

/** What a pod on a node should be: of the current revision and ready, of it and starting, or left as it is. */
export type PodWant = 'ready' | 'starting' | 'keep';

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function suffix(): string {
  return safeEncode(randomBytes(5));
}

/**
 * A pod whose images cannot be pulled (faults.imagePullFails): `fails` tells which image references fail,
 * `reason` what the kubelet says of them: ErrImagePull after the failed pull, ImagePullBackOff once it backs off.
 */
export interface PullFailure {
  reason: 'ErrImagePull' | 'ImagePullBackOff';
  fails: (image: string) => boolean;
}

/** Whether any container or init container of the DaemonSet's template has an image `fails` refuses. */
export function templatePullFails(ds: KubeObject, fails: (image: string) => boolean): boolean {
  const template = isRecord(ds.spec) && isRecord(ds.spec.template) ? ds.spec.template : {};
  const spec = isRecord(template.spec) ? template.spec : {};
  const all = [...(Array.isArray(spec.initContainers) ? spec.initContainers : []), ...(Array.isArray(spec.containers) ? spec.containers : [])];
  return all.some((c) => isRecord(c) && typeof c.image === 'string' && fails(c.image));
}

/** The pull reason (ErrImagePull, ImagePullBackOff) a container of the pod waits on, if any. */
export function pullReasonOf(pod: KubeObject): string | undefined {
  const status = isRecord(pod.status) ? pod.status : {};
  for (const list of [status.initContainerStatuses, status.containerStatuses]) {
    for (const c of Array.isArray(list) ? list : []) {
      const reason = isRecord(c) && isRecord(c.state) && isRecord(c.state.waiting) ? c.state.waiting.reason : undefined;
      if (reason === 'ErrImagePull' || reason === 'ImagePullBackOff') return reason;
    }
  }
  return undefined;
}

/** A new pod of the DaemonSet's current template on `node`. */
export function newDaemonPod(ds: KubeObject, node: KubeObject, templateGeneration: number, ready: boolean, pull?: PullFailure): KubeObject {
  const template = isRecord(ds.spec) && isRecord(ds.spec.template) ? ds.spec.template : {};
  const templateMeta = isRecord(template.metadata) ? template.metadata : {};
  const podSpec = structuredClone(isRecord(template.spec) ? template.spec : {}) as Json;
  const nodeName = node.metadata.name;
  // The controller pins each pod to its node with a matchFields term in place of the template's node affinity.
  const affinity = isRecord(podSpec.affinity) ? podSpec.affinity : {};
  podSpec.affinity = {
    ...affinity,
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] } },
  };
  podSpec.nodeName = nodeName;
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${ds.metadata.name}-${suffix()}`,
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: {
        ...(isRecord(templateMeta.labels) ? (templateMeta.labels as Record<string, string>) : {}),
        [REVISION_HASH]: revisionHash(ds),
        [POD_TEMPLATE_GENERATION]: String(templateGeneration),
      },
      ...(isRecord(templateMeta.annotations) ? { annotations: templateMeta.annotations } : {}),
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name, uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: podSpec,
  };
  pod.status = podStatus(pod, node, ready, pull);
  return pod;
}

/**
 * The kubelet's status for a pod: Running and Ready, or still creating its containers (init containers done),
 * or, with `pull`, stuck on an image it cannot pull (pullFailureStatus).
 */
export function podStatus(pod: KubeObject, node: KubeObject, ready: boolean, pull?: PullFailure): Json {
  if (pull && !ready) {
    const stuck = pullFailureStatus(pod, node, pull);
    if (stuck) return stuck;
  }
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const at = now();
  const ip = nodeInternalIp(node);
  const hostNetwork = spec.hostNetwork === true;
  const containers = (Array.isArray(spec.containers) ? spec.containers : []).filter(isRecord);
  const initContainers = (Array.isArray(spec.initContainers) ? spec.initContainers : []).filter(isRecord);
  const condition = (type: string, ok: boolean): Json => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: at,
    ...(ok ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${containers.map((c) => c.name).join(' ')}]` }),
  });
  const containerId = (): string => `containerd://${randomBytes(32).toString('hex')}`;
  return {
    phase: ready ? 'Running' : 'Pending',
    conditions: [
      { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: at },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: at },
      condition('Ready', ready),
      condition('ContainersReady', ready),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: at },
    ],
    hostIP: ip,
    hostIPs: [{ ip }],
    ...(hostNetwork || ready ? { podIP: ip, podIPs: [{ ip }] } : {}),
    startTime: at,
    ...(initContainers.length > 0
      ? {
          initContainerStatuses: initContainers.map((c) => ({
            name: c.name,
            image: c.image,
            imageID: '',
            containerID: containerId(),
            ready: true,
            restartCount: 0,
            started: false,
            state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: at, finishedAt: at, containerID: containerId() } },
          })),
        }
      : {}),
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready,
      restartCount: 0,
      started: ready,
      ...(ready ? { containerID: containerId(), state: { running: { startedAt: at } } } : { state: { waiting: { reason: 'ContainerCreating' } } }),
    })),
    qosClass: 'Burstable',
  };
}

/**
 * The status the kubelet writes for a pod one of whose images cannot be pulled, or undefined when none of its
 * images fails. The messages are the kubelet's (pkg/kubelet/images/image_manager.go): `Failed to pull image
 * "<image>": <the runtime's error>` with ErrImagePull (the containerd error as the kubelet's Failed event quotes
 * it in aws/amazon-vpc-cni-k8s#3526), then `Back-off pulling image "<image>"` with ImagePullBackOff. The pod is
 * Pending (a container waits). Init containers run in order: the first that cannot pull waits, the ones before
 * it have completed, the later ones and every container wait in PodInitializing (aws/amazon-vpc-cni-k8s#1422,
 * #3224: `Init:ImagePullBackOff`). When only containers fail, the others run and the failing ones wait.
 */
function pullFailureStatus(pod: KubeObject, node: KubeObject, pull: PullFailure): Json | undefined {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const containers = (Array.isArray(spec.containers) ? spec.containers : []).filter(isRecord);
  const initContainers = (Array.isArray(spec.initContainers) ? spec.initContainers : []).filter(isRecord);
  const failsOf = (c: Json): boolean => typeof c.image === 'string' && pull.fails(c.image);
  const firstFailingInit = initContainers.findIndex(failsOf);
  const failingContainers = containers.filter(failsOf);
  if (firstFailingInit < 0 && failingContainers.length === 0) return undefined;
  const at = now();
  const ip = nodeInternalIp(node);
  const containerId = (): string => `containerd://${randomBytes(32).toString('hex')}`;
  const waiting = (c: Json): Json => {
    const image = String(c.image);
    return {
      reason: pull.reason,
      message:
        pull.reason === 'ImagePullBackOff'
          ? `Back-off pulling image "${image}"`
          : `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`,
    };
  };
  const initBlocked = firstFailingInit >= 0;
  const incompleteInit = initBlocked ? initContainers.slice(firstFailingInit).map((c) => c.name) : [];
  const unready = initBlocked ? containers : failingContainers;
  const cond = (type: string, ok: boolean, reason?: string, message?: string): Json => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: at,
    ...(ok ? {} : { reason, message }),
  });
  const unreadyMessage = `containers with unready status: [${unready.map((c) => c.name).join(' ')}]`;
  return {
    phase: 'Pending',
    conditions: [
      { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: at },
      cond('Initialized', !initBlocked, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`),
      cond('Ready', false, 'ContainersNotReady', unreadyMessage),
      cond('ContainersReady', false, 'ContainersNotReady', unreadyMessage),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: at },
    ],
    hostIP: ip,
    hostIPs: [{ ip }],
    ...(spec.hostNetwork === true ? { podIP: ip, podIPs: [{ ip }] } : {}),
    startTime: at,
    ...(initContainers.length > 0
      ? {
          initContainerStatuses: initContainers.map((c, i) => {
            const base = { name: c.name, image: c.image, imageID: '', restartCount: 0, started: false };
            if (!initBlocked || i < firstFailingInit) {
              return { ...base, containerID: containerId(), ready: true, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: at, finishedAt: at, containerID: containerId() } } };
            }
            return { ...base, ready: false, state: { waiting: i === firstFailingInit ? waiting(c) : { reason: 'PodInitializing' } } };
          }),
        }
      : {}),
    containerStatuses: containers.map((c) => {
      const base = { name: c.name, image: c.image, imageID: '', restartCount: 0 };
      if (initBlocked) return { ...base, ready: false, started: false, state: { waiting: { reason: 'PodInitializing' } } };
      if (failsOf(c)) return { ...base, ready: false, started: false, state: { waiting: waiting(c) } };
      return { ...base, containerID: containerId(), ready: true, started: true, state: { running: { startedAt: at } } };
    }),
    qosClass: 'Burstable',
  };
}

/** Whether a pod is of the DaemonSet's current revision. */
export function isCurrent(pod: KubeObject, hash: string): boolean {
  return isRecord(pod.metadata.labels) && pod.metadata.labels[REVISION_HASH] === hash;
}

/** Whether the pod's Ready condition is True. */
export function isReady(pod: KubeObject): boolean {
  const conditions = isRecord(pod.status) && Array.isArray(pod.status.conditions) ? pod.status.conditions : [];
  return conditions.some((c) => isRecord(c) && c.type === 'Ready' && c.status === 'True');
}

/** Whether `pod` is owned (controlled) by the DaemonSet with `uid`. */
export function ownedBy(pod: KubeObject, uid: unknown): boolean {
  const refs = Array.isArray(pod.metadata.ownerReferences) ? pod.metadata.ownerReferences : [];
  return refs.some((r) => isRecord(r) && r.kind === 'DaemonSet' && r.uid === uid);
}

/**
 * Which node wants what: current-revision ready pods first, then starting ones, then the rest (by node name),
 * so that a pod once updated stays updated; the first `updated` nodes want a ready pod of the current
 * revision, the next `inFlight` a starting one, the others keep theirs (a node without a pod gets a new one).
 */
export function planPods(nodes: KubeObject[], podOn: (node: string) => KubeObject | undefined, hash: string, updated: number, inFlight: number): Array<[KubeObject, PodWant]> {
  const rank = (node: KubeObject): number => {
    const pod = podOn(node.metadata.name);
    if (!pod || !isCurrent(pod, hash)) return 2;
    return isReady(pod) ? 0 : 1;
  };
  const ordered = [...nodes].sort((a, b) => rank(a) - rank(b) || a.metadata.name.localeCompare(b.metadata.name));
  return ordered.map((node, i): [KubeObject, PodWant] => [node, i < updated ? 'ready' : i < updated + inFlight ? 'starting' : 'keep']);
}
