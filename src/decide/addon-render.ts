/**
 * How EKS renders the vpc-cni add-on for a version and configuration values: the upstream DaemonSet of that
 * version with the values applied. The sandbox applies it; `upgrade` uses it to show what OVERWRITE would
 * reset. https://docs.aws.amazon.com/eks/latest/userguide/vpc-add-on-update.html
 */
import { manifestFileFor, upstreamDaemonSet, upstreamObject, type KubeObject } from './manifests.js';

/** The configuration values an add-on can carry (the parts the sandbox applies). */
export interface ConfigurationValues {
  env?: Record<string, string | null>;
  init?: { env?: Record<string, string | null> };
  resources?: unknown;
  affinity?: unknown;
  tolerations?: unknown[];
  enableNetworkPolicy?: string;
  enableWindowsIpam?: string;
  enableWindowsPrefixDelegation?: string;
  nodeAgent?: Record<string, string>;
  cri?: { hostPath?: { path?: string } };
  livenessProbeTimeoutSeconds?: number;
  readinessProbeTimeoutSeconds?: number;
  eniConfig?: { create?: boolean; region?: string; subnets?: Record<string, { id: string; securityGroups?: string[] }> };
  [key: string]: unknown;
}

/** A container as the renderer touches it. */
export type Container = {
  name: string;
  image?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  args?: string[];
  resources?: unknown;
  livenessProbe?: { timeoutSeconds?: number };
  readinessProbe?: { timeoutSeconds?: number };
};
/** The pod spec parts the renderer touches. */
export type PodSpec = { containers: Container[]; initContainers?: Container[]; affinity?: unknown; tolerations?: unknown };

/** The pod spec of a DaemonSet. */
export function podSpecOf(ds: KubeObject): PodSpec {
  return (ds.spec as { template: { spec: PodSpec } }).template.spec;
}

function containerOf(ds: KubeObject, name: string): Container | undefined {
  const pod = podSpecOf(ds);
  return [...pod.containers, ...(pod.initContainers ?? [])].find((c) => c.name === name);
}

/** Sets (or with null removes) env vars of one container. */
export function setEnv(container: Container | undefined, env: Record<string, string | null>): void {
  if (!container) return;
  container.env ??= [];
  for (const [name, value] of Object.entries(env)) {
    const index = container.env.findIndex((e) => e.name === name);
    if (value === null) {
      if (index >= 0) container.env.splice(index, 1);
    } else if (index >= 0) {
      container.env[index] = { name, value };
    } else {
      container.env.push({ name, value });
    }
  }
}

function setArg(container: Container | undefined, flag: string, value: string): void {
  if (!container) return;
  container.args ??= [];
  const index = container.args.findIndex((a) => a.startsWith(`${flag}=`));
  if (index >= 0) container.args[index] = `${flag}=${value}`;
  else container.args.push(`${flag}=${value}`);
}

/** True for a map (not a list, not null). */
function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Configuration values are the Helm chart's values (`charts/aws-vpc-cni`), which Helm coalesces over the chart's
 * defaults: maps merge key by key, lists and scalars replace, null removes the default.
 */
function mergeValue(base: unknown, over: unknown): unknown {
  if (over === null) return undefined;
  if (isMap(base) && isMap(over)) {
    const out: Record<string, unknown> = structuredClone(base);
    for (const [key, value] of Object.entries(over)) {
      const merged = mergeValue(out[key], value);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
    return out;
  }
  return structuredClone(over);
}

/** A value as the chart's templates print it (`{{ . }}`): strings as they are, other scalars in their usual form. */
function printed(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Whether the upstream manifest standing for `version` (its file's release: the DaemonSet's version label can lag,
 * v1.19.4's says v1.19.2) has reached `major.minor.patch`.
 */
function releaseAtLeast(version: string, release: [number, number, number]): boolean {
  const match = /^aws-k8s-cni-v(\d+)\.(\d+)\.(\d+)/.exec(manifestFileFor(version));
  if (!match) return true;
  const have = [Number(match[1]), Number(match[2]), Number(match[3])];
  for (let i = 0; i < 3; i++) if (have[i] !== release[i]) return (have[i] as number) > release[i]!;
  return true;
}

/** Sorts a container's value env entries by name (the chart's `range` over a map), fieldRef entries after them. */
function sortEnv(container: Container | undefined): void {
  if (!container?.env) return;
  const values = container.env.filter((e) => e.valueFrom === undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  container.env = [...values, ...container.env.filter((e) => e.valueFrom !== undefined)];
}

/**
 * The node agent's arguments and the values they print, as the chart's daemonset.yaml has them
 * (`- --log-level={{ .Values.nodeAgent.logLevel }}`; the bind addresses as `:<port>`). Only the arguments the
 * version's manifest has are set.
 */
const AGENT_ARGS: Record<string, [path: string[], prefix: string]> = {
  '--enable-ipv6': [['nodeAgent', 'enableIpv6'], ''],
  '--enable-network-policy': [['enableNetworkPolicy'], ''],
  '--enable-cloudwatch-logs': [['nodeAgent', 'enableCloudWatchLogs'], ''],
  '--enable-policy-event-logs': [['nodeAgent', 'enablePolicyEventLogs'], ''],
  '--log-file': [['nodeAgent', 'networkPolicyAgentLogFileLocation'], ''],
  '--metrics-bind-addr': [['nodeAgent', 'metricsBindAddr'], ':'],
  '--health-probe-bind-addr': [['nodeAgent', 'healthProbeBindAddr'], ':'],
  '--conntrack-cache-cleanup-period': [['nodeAgent', 'conntrackCacheCleanupPeriod'], ''],
  '--conntrack-cache-table-size': [['nodeAgent', 'conntrackCacheTableSize'], ''],
  '--log-level': [['nodeAgent', 'logLevel'], ''],
};

function valueAt(config: ConfigurationValues, path: string[]): unknown {
  let node: unknown = config;
  for (const part of path) node = isMap(node) ? node[part] : undefined;
  return node;
}

/**
 * The DaemonSet EKS applies for `version` with `config`: the upstream manifest (the chart rendered with its
 * defaults), re-tagged, with the configuration values applied as the chart's templates apply them (and the IPv6
 * settings EKS sets itself on IPv6 clusters).
 */
export function desiredDaemonSet(
  version: string,
  config: ConfigurationValues,
  options: { registry?: string; ipFamily?: 'ipv4' | 'ipv6' } = {},
): KubeObject {
  const ds = upstreamDaemonSet(version, options.registry);
  const pod = podSpecOf(ds) as PodSpec & { nodeSelector?: unknown; volumes?: Array<{ name: string; [key: string]: unknown }> };
  const node = containerOf(ds, 'aws-node');
  const init = containerOf(ds, 'aws-vpc-cni-init');
  const agent = containerOf(ds, 'aws-eks-nodeagent');
  if (options.ipFamily === 'ipv6') {
    // https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html: EKS turns these on for IPv6 clusters.
    setEnv(node, { ENABLE_IPv6: 'true', ENABLE_IPv4: 'false', ENABLE_PREFIX_DELEGATION: 'true' });
    setEnv(init, { ENABLE_IPv6: 'true' });
    setArg(agent, '--enable-ipv6', 'true');
  }
  if (config.env) setEnv(node, Object.fromEntries(Object.entries(config.env).map(([k, v]) => [k, v === null ? null : printed(v)])));
  if (config.init?.env) setEnv(init, Object.fromEntries(Object.entries(config.init.env).map(([k, v]) => [k, v === null ? null : printed(v)])));
  // daemonset.yaml: `range .Values.env` / `.Values.init.env` print the keys sorted.
  sortEnv(node);
  sortEnv(init);
  if (config.resources !== undefined && node) {
    // Resources are coalesced over the chart's default (requests.cpu 25m); the init container has them from
    // v1.13.0 (`toYaml .Values.resources`) and the node agent from v1.14.0, both through
    // `default .Values.resources .Values.<container>.resources` from v1.15.5 (aws/amazon-vpc-cni-k8s#2623).
    const resources = mergeValue(node.resources ?? {}, config.resources);
    for (const c of [node, releaseAtLeast(version, [1, 13, 0]) ? init : undefined, agent]) {
      if (!c) continue;
      if (resources === undefined) delete c.resources;
      else c.resources = structuredClone(resources);
    }
  }
  if (config.affinity !== undefined) {
    const affinity = mergeValue(pod.affinity, config.affinity);
    if (affinity === undefined || (isMap(affinity) && Object.keys(affinity).length === 0)) delete pod.affinity;
    else pod.affinity = affinity;
  }
  if (config.tolerations !== undefined) {
    if (config.tolerations === null || config.tolerations.length === 0) delete pod.tolerations;
    else pod.tolerations = structuredClone(config.tolerations);
  }
  if (agent?.args) {
    agent.args = agent.args.map((arg) => {
      const flag = arg.slice(0, arg.indexOf('=') >= 0 ? arg.indexOf('=') : arg.length);
      const rule = AGENT_ARGS[flag];
      const value = rule ? valueAt(config, rule[0]) : undefined;
      return rule && value !== undefined && value !== null ? `${flag}=${rule[1]}${printed(value)}` : arg;
    });
    // From v1.19.4 the agent's metrics port is `containerPort: {{ .Values.nodeAgent.metricsBindAddr }}`.
    const port = config.nodeAgent?.metricsBindAddr;
    const ports = (agent as Container & { ports?: Array<{ name?: string; containerPort: unknown }> }).ports;
    if (port !== undefined && releaseAtLeast(version, [1, 19, 4])) {
      const entry = ports?.find((p) => p.name === 'agentmetrics');
      if (entry) entry.containerPort = /^(0|[1-9]\d*)$/.test(printed(port)) ? Number(port) : printed(port);
    }
  }
  if (config.livenessProbeTimeoutSeconds !== undefined && node?.livenessProbe) {
    node.livenessProbe.timeoutSeconds = config.livenessProbeTimeoutSeconds;
  }
  if (config.readinessProbeTimeoutSeconds !== undefined && node?.readinessProbe) {
    node.readinessProbe.timeoutSeconds = config.readinessProbeTimeoutSeconds;
  }
  // v1.11 chart: `cri.hostPath` mounts the runtime's socket at /var/run/cri.sock instead of dockershim's.
  const criHostPath = (config.cri as { hostPath?: unknown } | undefined)?.hostPath;
  if (node && isMap(criHostPath) && Object.keys(criHostPath).length > 0) {
    const mounts = (node as Container & { volumeMounts?: Array<{ name: string; mountPath: string }> }).volumeMounts;
    const mount = mounts?.findIndex((m) => m.name === 'dockershim') ?? -1;
    if (mounts && mount >= 0) mounts[mount] = { mountPath: '/var/run/cri.sock', name: 'cri' };
    const volume = pod.volumes?.findIndex((v) => v.name === 'dockershim') ?? -1;
    if (pod.volumes && volume >= 0) pod.volumes[volume] = { name: 'cri', hostPath: structuredClone(criHostPath) };
  }
  return ds;
}

/** The `amazon-vpc-cni` ConfigMap's keys and the values the chart's configmap.yaml quotes into them. */
const CONFIGMAP_VALUES: Record<string, string> = {
  'enable-windows-ipam': 'enableWindowsIpam',
  'enable-network-policy-controller': 'enableNetworkPolicy',
  'enable-windows-prefix-delegation': 'enableWindowsPrefixDelegation',
};

/**
 * The `data` of the `amazon-vpc-cni` ConfigMap EKS applies for `version` with `config` (null when the
 * version's manifest has none, i.e. before v1.14): `enableNetworkPolicy` sets `enable-network-policy-controller`,
 * `enableWindowsIpam` sets `enable-windows-ipam`, `enableWindowsPrefixDelegation` (v1.16 on)
 * `enable-windows-prefix-delegation`, each as given.
 */
export function desiredConfigMapData(version: string, config: ConfigurationValues): Record<string, string> | null {
  const configMap = upstreamObject(version, 'ConfigMap', 'amazon-vpc-cni');
  if (!configMap) return null;
  const data = { ...((configMap.data as Record<string, string> | undefined) ?? {}) };
  for (const [key, name] of Object.entries(CONFIGMAP_VALUES)) {
    const value = config[name];
    if (key in data && value !== undefined && value !== null) data[key] = printed(value);
  }
  return data;
}

/**
 * The ENIConfigs EKS creates for `eniConfig.create: true` (the chart's eniconfig.yaml): one per `subnets` entry,
 * named after its key (the zone), with `securityGroups` when any and the subnet `id`; [] otherwise.
 */
export function desiredEniConfigs(config: ConfigurationValues): KubeObject[] {
  const eni = config.eniConfig;
  if (!eni?.create || !eni.subnets) return [];
  return Object.keys(eni.subnets)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((zone) => {
      const subnet = eni.subnets?.[zone] as { id: string; securityGroups?: string[] };
      return {
        apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
        kind: 'ENIConfig',
        metadata: { name: zone },
        spec: { ...(subnet.securityGroups?.length ? { securityGroups: [...subnet.securityGroups] } : {}), subnet: subnet.id },
      };
    });
}
