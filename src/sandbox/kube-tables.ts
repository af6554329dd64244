/**
 * Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for (Accept:
 * application/json;as=Table;v=v1;g=meta.k8s.io), with the columns the real API server prints for DaemonSets,
 * Pods, ConfigMaps and Nodes, and Name / Created At for everything else.
 */
import type { KubeObject } from '../formats/kube-object.js';
import { isRecord } from './kube-store.js';

type Json = Record<string, unknown>;

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
  cell: (obj: KubeObject) => unknown;
}

/** Whether the Accept header asks for a Table. */
export function wantsTable(accept: string): boolean {
  return accept.split(',').some((part) => part.replace(/\s+/g, '').includes('as=Table') && part.includes('g=meta.k8s.io'));
}

const get = (value: unknown, ...keys: string[]): unknown => {
  let node = value;
  for (const key of keys) node = isRecord(node) ? node[key] : undefined;
  return node;
};
const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** Kubernetes' HumanDuration, as the Age column prints it. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 0) return '<invalid>';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

const name: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0, cell: (o) => o.metadata.name };
const age: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
  cell: (o) => {
    const created = Date.parse(String(o.metadata.creationTimestamp ?? ''));
    return Number.isNaN(created) ? '<unknown>' : humanDuration(Date.now() - created);
  },
};
const int = (title: string, description: string, cell: (o: KubeObject) => unknown, priority = 0): Column => ({ name: title, type: 'integer', description, priority, cell });
const str = (title: string, description: string, cell: (o: KubeObject) => unknown, priority = 0): Column => ({ name: title, type: 'string', description, priority, cell });

const containersOf = (o: KubeObject): Json[] => {
  const list = get(o, 'spec', 'template', 'spec', 'containers') ?? get(o, 'spec', 'containers');
  return Array.isArray(list) ? list.filter(isRecord) : [];
};
const mapText = (value: unknown): string =>
  isRecord(value) && Object.keys(value).length > 0 ? Object.entries(value).map(([k, v]) => `${k}=${String(v)}`).join(',') : '<none>';

const COLUMNS: Record<string, Column[]> = {
  DaemonSet: [
    name,
    int('Desired', 'The total number of nodes that should be running the daemon pod.', (o) => num(get(o, 'status', 'desiredNumberScheduled'))),
    int('Current', 'The number of nodes that are running at least 1 daemon pod.', (o) => num(get(o, 'status', 'currentNumberScheduled'))),
    int('Ready', 'The number of nodes that should be running the daemon pod and have one or more running and ready.', (o) => num(get(o, 'status', 'numberReady'))),
    int('Up-to-date', 'The total number of nodes that are running updated daemon pod.', (o) => num(get(o, 'status', 'updatedNumberScheduled'))),
    int('Available', 'The number of nodes that should be running the daemon pod and have one or more available.', (o) => num(get(o, 'status', 'numberAvailable'))),
    str('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node.', (o) => mapText(get(o, 'spec', 'template', 'spec', 'nodeSelector'))),
    age,
    str('Containers', 'Names of each container in the template.', (o) => containersOf(o).map((c) => c.name).join(','), 1),
    str('Images', 'Images referenced by each container in the template.', (o) => containersOf(o).map((c) => c.image).join(','), 1),
    str('Selector', 'A label query over pods that are managed by the daemon set.', (o) => mapText(get(o, 'spec', 'selector', 'matchLabels')), 1),
  ],
  Pod: [
    name,
    str('Ready', 'The aggregate readiness state of this pod for accepting traffic.', (o) => {
      const total = containersOf(o).length;
      const statuses = get(o, 'status', 'containerStatuses');
      const ready = Array.isArray(statuses) ? statuses.filter((s) => isRecord(s) && s.ready === true).length : 0;
      return `${ready}/${total}`;
    }),
    str('Status', 'The aggregate status of the containers in this pod.', (o) => {
      // As the API server's pod printer: an init container not done yet stands for the pod (`Init:<reason>`,
      // or `Init:<done>/<all>`); then a waiting container's reason (ContainerCreating) stands for the phase.
      const inits = get(o, 'status', 'initContainerStatuses');
      const initList = Array.isArray(inits) ? inits : [];
      for (const [i, c] of initList.entries()) {
        if (get(c, 'state', 'terminated', 'exitCode') === 0) continue;
        const reason = get(c, 'state', 'waiting', 'reason');
        if (typeof reason === 'string' && reason !== '' && reason !== 'PodInitializing') return `Init:${reason}`;
        return `Init:${i}/${initList.length}`;
      }
      const statuses = get(o, 'status', 'containerStatuses');
      const waiting = Array.isArray(statuses) ? statuses.map((c) => get(c, 'state', 'waiting', 'reason')).find((r) => typeof r === 'string') : undefined;
      return String(waiting ?? get(o, 'status', 'phase') ?? 'Pending');
    }),
    int('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', () => 0),
    age,
    str('IP', 'The IP address assigned to the pod', (o) => String(get(o, 'status', 'podIP') ?? '<none>'), 1),
    str('Node', 'The name of the node this pod is scheduled on', (o) => String(get(o, 'spec', 'nodeName') ?? '<none>'), 1),
    str('Nominated Node', 'The name of the node where this pod is nominated', () => '<none>', 1),
    str('Readiness Gates', 'Readiness gates', () => '<none>', 1),
  ],
  ConfigMap: [name, int('Data', 'Number of data entries', (o) => Object.keys(isRecord(o.data) ? o.data : {}).length + Object.keys(isRecord(o.binaryData) ? o.binaryData : {}).length), age],
  Node: [
    name,
    str('Status', 'The status of the node', (o) => {
      const conditions = get(o, 'status', 'conditions');
      const ready = Array.isArray(conditions) ? conditions.find((c) => isRecord(c) && c.type === 'Ready') : undefined;
      const base = isRecord(ready) && ready.status === 'True' ? 'Ready' : 'NotReady';
      return get(o, 'spec', 'unschedulable') === true ? `${base},SchedulingDisabled` : base;
    }),
    str('Roles', 'The roles of the node', (o) => {
      const labels = isRecord(o.metadata.labels) ? Object.keys(o.metadata.labels) : [];
      const roles = labels.filter((l) => l.startsWith('node-role.kubernetes.io/')).map((l) => l.slice('node-role.kubernetes.io/'.length));
      return roles.length > 0 ? roles.sort().join(',') : '<none>';
    }),
    age,
    str('Version', 'Kubelet Version reported by the node.', (o) => String(get(o, 'status', 'nodeInfo', 'kubeletVersion') ?? '')),
    str('Internal-IP', 'List of internal IPs.', () => '<none>', 1),
    str('External-IP', 'List of external IPs.', () => '<none>', 1),
    str('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', (o) => String(get(o, 'status', 'nodeInfo', 'osImage') ?? 'Amazon Linux 2'), 1),
    str('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", (o) => String(get(o, 'status', 'nodeInfo', 'kernelVersion') ?? '5.10.0'), 1),
    str('Container-Runtime', 'Container Runtime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', (o) => String(get(o, 'status', 'nodeInfo', 'containerRuntimeVersion') ?? ''), 1),
  ],
};

const DEFAULT_COLUMNS: Column[] = [
  name,
  { name: 'Created At', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0, cell: (o) => o.metadata.creationTimestamp },
];

/** The Table for one object or a list; `includeObject` is None, Metadata (the default) or Object. */
export function toTable(kind: string, objects: KubeObject[], resourceVersion: string, includeObject: string | null): Json {
  const columns = COLUMNS[kind] ?? DEFAULT_COLUMNS;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? o
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}
