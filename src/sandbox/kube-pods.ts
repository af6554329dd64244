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

/** A new pod of the DaemonSet's current template on `node`. */
export function newDaemonPod(ds: KubeObject, node: KubeObject, templateGeneration: number, ready: boolean): KubeObject {
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
  pod.status = podStatus(pod, node, ready);
  return pod;
}

/** The kubelet's status for a pod: Running and Ready, or still creating its containers (init containers done). */
export function podStatus(pod: KubeObject, node: KubeObject, ready: boolean): Json {
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
