/**
 * How EKS renders the vpc-cni add-on for a version and configuration values: the upstream DaemonSet of that
 * version with the values applied. The sandbox applies it; `upgrade` uses it to show what OVERWRITE would
 * reset. https://docs.aws.amazon.com/eks/latest/userguide/vpc-add-on-update.html
 */
import { loadUpstreamManifest, upstreamDaemonSet, type KubeObject } from './manifests.js';

/** The configuration values an add-on can carry (the parts the sandbox applies). */
export interface ConfigurationValues {
  env?: Record<string, string>;
  init?: { env?: Record<string, string> };
  resources?: unknown;
  affinity?: unknown;
  tolerations?: unknown[];
  enableNetworkPolicy?: string;
  nodeAgent?: Record<string, string>;
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

/**
 * The DaemonSet EKS applies for `version` with `config`: the upstream manifest, re-tagged, with the
 * configuration values applied (and the IPv6 settings EKS sets itself on IPv6 clusters).
 */
export function desiredDaemonSet(
  version: string,
  config: ConfigurationValues,
  options: { registry?: string; ipFamily?: 'ipv4' | 'ipv6' } = {},
): KubeObject {
  const ds = upstreamDaemonSet(version, options.registry);
  const pod = podSpecOf(ds);
  const node = containerOf(ds, 'aws-node');
  const init = containerOf(ds, 'aws-vpc-cni-init');
  const agent = containerOf(ds, 'aws-eks-nodeagent');
  if (options.ipFamily === 'ipv6') {
    // https://docs.aws.amazon.com/eks/latest/userguide/cni-ipv6.html: EKS turns these on for IPv6 clusters.
    setEnv(node, { ENABLE_IPv6: 'true', ENABLE_IPv4: 'false', ENABLE_PREFIX_DELEGATION: 'true' });
    setEnv(init, { ENABLE_IPv6: 'true' });
    setArg(agent, '--enable-ipv6', 'true');
  }
  if (config.env) setEnv(node, config.env);
  if (config.init?.env) setEnv(init, config.init.env);
  if (config.resources !== undefined && node) node.resources = structuredClone(config.resources);
  if (config.affinity !== undefined) {
    if (config.affinity === null) delete pod.affinity;
    else pod.affinity = structuredClone(config.affinity);
  }
  if (config.tolerations !== undefined) pod.tolerations = structuredClone(config.tolerations);
  if (config.enableNetworkPolicy !== undefined) {
    setArg(agent, '--enable-network-policy', config.enableNetworkPolicy.toLowerCase());
  }
  const agentFlags: Record<string, [string, (v: string) => string]> = {
    enableCloudWatchLogs: ['--enable-cloudwatch-logs', (v) => v.toLowerCase()],
    enablePolicyEventLogs: ['--enable-policy-event-logs', (v) => v.toLowerCase()],
    metricsBindAddr: ['--metrics-bind-addr', (v) => `:${v}`],
    healthProbeBindAddr: ['--health-probe-bind-addr', (v) => `:${v}`],
    // charts/aws-vpc-cni/templates/daemonset.yaml (v1.21.2) lines 154-159: the node agent's other arguments.
    networkPolicyAgentLogFileLocation: ['--log-file', (v) => v],
    conntrackCacheCleanupPeriod: ['--conntrack-cache-cleanup-period', (v) => v],
    conntrackCacheTableSize: ['--conntrack-cache-table-size', (v) => v],
    logLevel: ['--log-level', (v) => v],
  };
  for (const [key, value] of Object.entries(config.nodeAgent ?? {})) {
    const flag = agentFlags[key];
    if (flag) setArg(agent, flag[0], flag[1](value));
  }
  if (config.livenessProbeTimeoutSeconds !== undefined && node?.livenessProbe) {
    node.livenessProbe.timeoutSeconds = config.livenessProbeTimeoutSeconds;
  }
  if (config.readinessProbeTimeoutSeconds !== undefined && node?.readinessProbe) {
    node.readinessProbe.timeoutSeconds = config.readinessProbeTimeoutSeconds;
  }
  return ds;
}

/**
 * The `data` of the `amazon-vpc-cni` ConfigMap EKS applies for `version` with `config` (null when the
 * version's manifest has none, i.e. before v1.14): `enableNetworkPolicy` sets
 * `enable-network-policy-controller`, `enableWindowsIpam` sets `enable-windows-ipam`.
 */
export function desiredConfigMapData(version: string, config: ConfigurationValues): Record<string, string> | null {
  const configMap = loadUpstreamManifest(version).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'amazon-vpc-cni');
  if (!configMap) return null;
  const data = { ...((configMap.data as Record<string, string> | undefined) ?? {}) };
  if (typeof config.enableNetworkPolicy === 'string') data['enable-network-policy-controller'] = config.enableNetworkPolicy.toLowerCase();
  if (typeof config.enableWindowsIpam === 'string') data['enable-windows-ipam'] = config.enableWindowsIpam.toLowerCase();
  // charts/aws-vpc-cni/templates/configmap.yaml: `enable-windows-prefix-delegation: {{ .Values.enableWindowsPrefixDelegation | quote }}`.
  if (typeof config.enableWindowsPrefixDelegation === 'string' && 'enable-windows-prefix-delegation' in data) {
    data['enable-windows-prefix-delegation'] = config.enableWindowsPrefixDelegation.toLowerCase();
  }
  return data;
}
