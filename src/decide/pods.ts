/**
 * What keeps aws-node pods from being ready, as a stopped rollout names it: each pod that is not ready, its
 * node, and what its containers wait on (the kubelet's reasons: ContainerCreating, ImagePullBackOff,
 * CrashLoopBackOff with its restarts, an init container that exited), init containers first, as
 * `kubectl describe pod` would lead one to them.
 */
import type { KubeObject } from './manifests.js';

/** One container's trouble: its name, the kubelet's reason, its restarts. */
export interface ContainerTrouble {
  name: string;
  init: boolean;
  reason: string;
  restarts: number;
}

/** A pod that is not ready: its name, node and the containers that keep it so. */
export interface PodTrouble {
  name: string;
  node: string | null;
  containers: ContainerTrouble[];
}

type Status = { name?: string; ready?: boolean; restartCount?: number; state?: Record<string, { reason?: string; exitCode?: number } | undefined> };

const record = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const statuses = (value: unknown): Status[] => (Array.isArray(value) ? (value as Status[]) : []);

/** What a container's state says, or null when it runs and is ready (or has completed, for an init container). */
function trouble(status: Status, init: boolean): ContainerTrouble | null {
  const state = status.state ?? {};
  const base = { name: status.name ?? 'unnamed', init, restarts: status.restartCount ?? 0 };
  if (state.waiting) return { ...base, reason: state.waiting.reason ?? 'Waiting' };
  if (state.terminated) {
    if (init && state.terminated.exitCode === 0) return null;
    return { ...base, reason: state.terminated.reason && state.terminated.reason !== 'Error' ? state.terminated.reason : `exited with ${state.terminated.exitCode ?? 'no code'}` };
  }
  if (init || status.ready) return null;
  return state.running ? { ...base, reason: 'running, not ready' } : { ...base, reason: 'no state yet' };
}

/** The pods of a PodList that are not ready, in name order. */
export function notReadyPods(list: KubeObject | null): PodTrouble[] {
  const items = Array.isArray(list?.items) ? (list.items as KubeObject[]) : [];
  const out: PodTrouble[] = [];
  for (const pod of items) {
    const status = record(pod.status);
    const conditions = Array.isArray(status.conditions) ? (status.conditions as Array<{ type?: string; status?: string }>) : [];
    if (conditions.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const containers = [
      ...statuses(status.initContainerStatuses).map((s) => trouble(s, true)),
      ...statuses(status.containerStatuses).map((s) => trouble(s, false)),
    ].filter((c): c is ContainerTrouble => c !== null);
    const node = record(pod.spec).nodeName;
    out.push({
      name: pod.metadata.name,
      node: typeof node === 'string' ? node : null,
      containers: containers.length ? containers : [{ name: 'pod', init: false, reason: String(status.phase ?? 'Pending'), restarts: 0 }],
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The pods, one clause each (`aws-node-x7k2p on ip-10-0-1-5: init aws-vpc-cni-init ImagePullBackOff`), `max` at most. */
export function describePods(pods: PodTrouble[], max = 3): string {
  const one = (p: PodTrouble) =>
    `${p.name}${p.node ? ` on ${p.node}` : ''}: ${p.containers
      .map((c) => `${c.init ? 'init ' : ''}${c.name} ${c.reason}${c.restarts ? ` after ${c.restarts} restart${c.restarts === 1 ? '' : 's'}` : ''}`)
      .join(', ')}`;
  const shown = pods.slice(0, max).map(one);
  if (pods.length > max) shown.push(`and ${pods.length - max} more`);
  return shown.join('; ');
}
