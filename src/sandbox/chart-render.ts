/**
 * What EKS puts on the cluster for a vpc-cni version and its configuration values, written from the Helm chart
 * `charts/aws-vpc-cni` of aws/amazon-vpc-cni-k8s (copies in fixtures/helm-chart/<tag>/, source in
 * fixtures/README.md). The upstream manifests are that chart rendered with its default values
 * (aws/amazon-vpc-cni-k8s#1271) and the add-on's configuration schema keys are the chart's values, so:
 *
 * 1. the defaults are read back from the release manifest of the version (upstream-manifests.ts), which is the
 *    chart of the same tag rendered with values.yaml;
 * 2. EKS's own values (IPv6 clusters) and then the configuration values are merged over them as Helm coalesces
 *    values: maps merge key by key, a list or a scalar replaces, null removes the default;
 * 3. every field a value drives is rendered again from the merged values, as the template of that tag does
 *    (each rule cites its line; test/chart-render.test.ts checks every citation against the copies).
 *
 * The chart tag of a version is the release manifest's (upstream-manifests.ts releaseFor): the same release,
 * else the newest of the same minor, else the nearest earlier; the master snapshot v1.23.1 uses the v1.23.0 chart.
 * What EKS adds that the chart does not (its registry per region, `-eksbuild.N` image tags, the IPv6 settings, the
 * IRSA annotation) is applied on top, each with its own source named.
 */
import type { KubeObject } from '../formats/kube-object.js';
import { compareVersions, parseVersion, type SandboxVersion } from './versions.js';
import { releaseFor, releaseObject, releaseObjects, retagImages } from './upstream-manifests.js';

/** The configuration values (Helm values of the chart) the renderer reads; validated against the schema before. */
export type ChartValues = Record<string, unknown>;

interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface ContainerSpec {
  name: string;
  image?: string;
  env?: EnvEntry[];
  args?: string[];
  ports?: Array<{ containerPort: number | string; name?: string }>;
  resources?: unknown;
  livenessProbe?: { timeoutSeconds?: unknown };
  readinessProbe?: { timeoutSeconds?: unknown };
  volumeMounts?: Array<{ mountPath: string; name: string }>;
}
interface PodTemplateSpec {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: Array<{ name: string; [key: string]: unknown }>;
  [key: string]: unknown;
}

/** One rule's source: the template line (1-based) of a chart tag, checked by test/chart-render.test.ts. */
export interface ChartCitation {
  rule: string;
  tag: string;
  file: string;
  line: number;
  text: string;
}

/** The template lines the rules below follow. */
export const CITATIONS: ChartCitation[] = [
  { rule: 'aws-node env: every key of .Values.env, sorted (range over a map), quoted', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 83, text: '{{- range $key, $value := .Values.env }}' },
  { rule: 'init env: every key of .Values.init.env, sorted, quoted', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 46, text: '{{- range $key, $value := .Values.init.env }}' },
  { rule: 'aws-node env: the fieldRef entries follow the values', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 95, text: '- name: MY_NODE_NAME' },
  { rule: 'aws-node resources', tag: 'v1.11.4', file: 'templates/daemonset.yaml', line: 85, text: '{{- toYaml .Values.resources | nindent 12 }}' },
  { rule: 'aws-node resources, left out when empty', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 105, text: '{{- with .Values.resources }}' },
  { rule: 'init resources: .Values.resources (from v1.13)', tag: 'v1.13.4', file: 'templates/daemonset.yaml', line: 52, text: '{{- toYaml .Values.resources | nindent 12 }}' },
  { rule: 'init resources: init.resources, else .Values.resources (from v1.15.5)', tag: 'v1.15.5', file: 'templates/daemonset.yaml', line: 51, text: '{{- with default .Values.resources .Values.init.resources }}' },
  { rule: 'node agent resources: .Values.resources (v1.14.0 to v1.15.1)', tag: 'v1.14.0', file: 'templates/daemonset.yaml', line: 132, text: '{{- toYaml .Values.resources | nindent 12 }}' },
  { rule: 'node agent resources: nodeAgent.resources, else .Values.resources (from v1.15.5)', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 155, text: '{{- with default .Values.resources .Values.nodeAgent.resources }}' },
  { rule: 'liveness probe timeout', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 78, text: 'timeoutSeconds: {{ .Values.livenessProbeTimeoutSeconds }}' },
  { rule: 'readiness probe timeout', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 81, text: 'timeoutSeconds: {{ .Values.readinessProbeTimeoutSeconds }}' },
  { rule: 'tolerations, left out when empty', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 60, text: '{{- with .Values.tolerations }}' },
  { rule: 'affinity, left out when empty', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 209, text: '{{- with .Values.affinity }}' },
  { rule: 'nodeSelector, left out when empty', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 205, text: '{{- with .Values.nodeSelector }}' },
  { rule: 'priorityClassName', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 38, text: 'priorityClassName: "{{ .Values.priorityClassName }}"' },
  { rule: 'updateStrategy', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 10, text: '{{ toYaml .Values.updateStrategy | indent 4 }}' },
  { rule: 'pod annotations, sorted, quoted', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 26, text: '{{- range $key, $value := .Values.podAnnotations }}' },
  { rule: 'pod labels', tag: 'v1.19.6', file: 'templates/daemonset.yaml', line: 35, text: '{{ toYaml .Values.podLabels | indent 8 }}' },
  { rule: 'node agent metrics port (from v1.19.4)', tag: 'v1.19.4', file: 'templates/daemonset.yaml', line: 137, text: '- containerPort: {{ .Values.nodeAgent.metricsBindAddr}}' },
  { rule: 'cri.hostPath mounts /var/run/cri.sock instead of dockershim (v1.11)', tag: 'v1.11.4', file: 'templates/daemonset.yaml', line: 102, text: '{{- if .Values.cri.hostPath }}' },
  { rule: 'cri.hostPath is the cri volume', tag: 'v1.11.4', file: 'templates/daemonset.yaml', line: 128, text: '{{- with .Values.cri.hostPath }}' },
  { rule: 'ENIConfigs: one per eniConfig.subnets entry when eniConfig.create', tag: 'v1.19.6', file: 'templates/eniconfig.yaml', line: 2, text: '{{- range $key, $value := (required ".Values.eniConfig.subnets must be specified" .Values.eniConfig.subnets) }}' },
  { rule: 'ENIConfig securityGroups only when non-empty', tag: 'v1.19.6', file: 'templates/eniconfig.yaml', line: 8, text: '{{- if $value.securityGroups }}' },
  { rule: 'ENIConfig subnet', tag: 'v1.19.6', file: 'templates/eniconfig.yaml', line: 14, text: 'subnet: {{ $value.id }}' },
];

/**
 * The node agent's arguments and the value each prints (`--flag={{ .Values.<path> }}`; the bind addresses through
 * the helpers `aws-vpc-cni.nodeAgent*BindAddr`, `printf ":%s"`, _helpers.tpl). Which flags a tag has is read from
 * its manifest (the chart's rendering); test/chart-render.test.ts checks that every tag's template maps each
 * `- --flag=` line to exactly this path. daemonset.yaml L146–L154 (v1.19.6), L150–L159 (v1.21.2).
 */
export const AGENT_FLAGS: Record<string, { path: string[]; prefix: string }> = {
  '--enable-ipv6': { path: ['nodeAgent', 'enableIpv6'], prefix: '' },
  '--enable-network-policy': { path: ['enableNetworkPolicy'], prefix: '' },
  '--enable-cloudwatch-logs': { path: ['nodeAgent', 'enableCloudWatchLogs'], prefix: '' },
  '--enable-policy-event-logs': { path: ['nodeAgent', 'enablePolicyEventLogs'], prefix: '' },
  '--log-file': { path: ['nodeAgent', 'networkPolicyAgentLogFileLocation'], prefix: '' },
  '--metrics-bind-addr': { path: ['nodeAgent', 'metricsBindAddr'], prefix: ':' },
  '--health-probe-bind-addr': { path: ['nodeAgent', 'healthProbeBindAddr'], prefix: ':' },
  '--conntrack-cache-cleanup-period': { path: ['nodeAgent', 'conntrackCacheCleanupPeriod'], prefix: '' },
  '--conntrack-cache-table-size': { path: ['nodeAgent', 'conntrackCacheTableSize'], prefix: '' },
  '--log-level': { path: ['nodeAgent', 'logLevel'], prefix: '' },
};

/**
 * The `amazon-vpc-cni` ConfigMap's keys and the value each quotes (`key: {{ .Values.<name> | quote }}`),
 * configmap.yaml L20–L26 (v1.19.6; L20–L21 from v1.14.0); checked per tag like AGENT_FLAGS.
 */
export const CONFIGMAP_KEYS: Record<string, string> = {
  'enable-windows-ipam': 'enableWindowsIpam',
  'enable-network-policy-controller': 'enableNetworkPolicy',
  'enable-windows-prefix-delegation': 'enableWindowsPrefixDelegation',
  'warm-prefix-target': 'warmWindowsPrefixTarget',
  'warm-ip-target': 'warmWindowsIPTarget',
  'minimum-ip-target': 'minimumWindowsIPTarget',
  'branch-eni-cooldown': 'branchENICooldown',
};

/** What EKS applies for a version and values. */
export interface ChartRendering {
  /** The chart tag the rules followed (the release manifest's tag; v1.23.0 for the v1.23.1 master snapshot). */
  chartTag: string;
  daemonSet: KubeObject;
  /** The `amazon-vpc-cni` ConfigMap's data, null before v1.14 (no such ConfigMap in the chart). */
  configMapData: Record<string, string> | null;
  /** ENIConfigs of `eniConfig.create` (eniconfig.yaml), sorted by name. */
  eniConfigs: KubeObject[];
  /** The release's other objects (CRDs, RBAC, ServiceAccount, the ConfigMap with `configMapData`), fresh copies. */
  others(): KubeObject[];
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Helm's coalescing of values: maps merge key by key, anything else replaces, null deletes the key. */
export function coalesceValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base);
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = coalesceValues(out[key] as Record<string, unknown>, value);
    else out[key] = structuredClone(value);
  }
  return out;
}

/** A value as `{{ . }}` prints it (Go's fmt: strings as they are, numbers and booleans in their usual form). */
function printed(value: unknown): string {
  if (value === undefined || value === null) return '<no value>';
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Go template truthiness (`with`, `if`): empty maps, lists, strings, zero, false and nil are false. */
function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return true;
}

function at(values: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = values;
  for (const part of path) node = isMap(node) ? node[part] : undefined;
  return node;
}

function setAtPath(values: Record<string, unknown>, path: string[], value: unknown): void {
  let node = values;
  for (const part of path.slice(0, -1)) {
    if (!isMap(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

/** Go's `range` over a map: keys in byte order. */
function sortedKeys(map: Record<string, unknown>): string[] {
  return Object.keys(map).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function podOf(ds: KubeObject): PodTemplateSpec {
  return (ds.spec as { template: { spec: PodTemplateSpec } }).template.spec;
}

function container(pod: PodTemplateSpec, name: string): ContainerSpec | undefined {
  return [...pod.containers, ...(pod.initContainers ?? [])].find((c) => c.name === name);
}

/** The env map a container's `range` rendered (entries with a value; the fieldRef ones are the template's own). */
function envValues(c: ContainerSpec | undefined): Record<string, string> {
  return Object.fromEntries((c?.env ?? []).filter((e) => e.valueFrom === undefined).map((e) => [e.name, e.value ?? '']));
}

/** The chart's values the release manifest was rendered with, for the keys a rule renders. */
function defaultsOf(ds: KubeObject, configMap: KubeObject | undefined): Record<string, unknown> {
  const pod = podOf(ds);
  const node = container(pod, 'aws-node');
  const init = container(pod, 'aws-vpc-cni-init');
  const agent = container(pod, 'aws-eks-nodeagent');
  const template = (ds.spec as { template: { metadata?: { annotations?: Record<string, string> } } }).template;
  const values: Record<string, unknown> = {
    env: envValues(node),
    init: { env: envValues(init) },
    resources: structuredClone(node?.resources ?? {}),
    livenessProbeTimeoutSeconds: node?.livenessProbe?.timeoutSeconds,
    readinessProbeTimeoutSeconds: node?.readinessProbe?.timeoutSeconds,
    tolerations: structuredClone(pod.tolerations ?? []),
    affinity: structuredClone(pod.affinity ?? {}),
    nodeSelector: structuredClone(pod.nodeSelector ?? {}),
    priorityClassName: pod.priorityClassName,
    updateStrategy: structuredClone((ds.spec as { updateStrategy?: unknown }).updateStrategy),
    podAnnotations: { ...(template.metadata?.annotations ?? {}) },
    podLabels: {},
    nodeAgent: {},
    eniConfig: { create: false },
    cri: {},
  };
  for (const arg of agent?.args ?? []) {
    const eq = arg.indexOf('=');
    const flag = AGENT_FLAGS[eq > 0 ? arg.slice(0, eq) : arg];
    if (flag) setAtPath(values, flag.path, arg.slice(eq + 1 + flag.prefix.length));
  }
  const data = (configMap?.data as Record<string, string> | undefined) ?? {};
  for (const [key, value] of Object.entries(data)) {
    const name = CONFIGMAP_KEYS[key];
    if (name) values[name] = value;
  }
  return values;
}

/**
 * EKS's own values on an IPv6 cluster (not the chart's): "the Amazon VPC CNI … ENABLE_IPv6 true, ENABLE_IPv4 false,
 * prefix delegation on" (EKS user guide cni-ipv6.html; the chart's own switches: env ENABLE_IPv6, init.env
 * ENABLE_IPv6, nodeAgent.enableIpv6, values.yaml v1.19.6 L22, L47, L87).
 */
function eksValues(ipFamily: 'ipv4' | 'ipv6' | undefined): Record<string, unknown> {
  if (ipFamily !== 'ipv6') return {};
  return {
    env: { ENABLE_IPv6: 'true', ENABLE_IPv4: 'false', ENABLE_PREFIX_DELEGATION: 'true' },
    init: { env: { ENABLE_IPv6: 'true' } },
    nodeAgent: { enableIpv6: 'true' },
  };
}

function since(version: SandboxVersion, tag: string): boolean {
  return compareVersions(version, parseVersion(tag) as SandboxVersion) >= 0;
}

/** `{{ range $key, $value := <map> }} - name: {{ $key }} value: {{ $value | quote }}`. */
function renderedEnv(map: unknown): EnvEntry[] {
  const m = isMap(map) ? map : {};
  return sortedKeys(m).map((name) => ({ name, value: printed(m[name]) }));
}

/** A string the YAML parser reads back as an integer (`containerPort: {{ … }}` prints it unquoted). */
function yamlScalar(text: string): number | string {
  return /^(0|[1-9]\d*)$/.test(text) ? Number(text) : text;
}

/**
 * Renders the add-on for `version` with configuration `values` (already validated against the version's schema):
 * the DaemonSet, the ConfigMap's data, the ENIConfigs and the release's other objects.
 */
export function renderAddon(
  version: string,
  values: ChartValues,
  options: { registry?: string; ipFamily?: 'ipv4' | 'ipv6' } = {},
): ChartRendering {
  const release = releaseFor(version);
  const ds = releaseObject(version, 'DaemonSet', 'aws-node');
  if (!ds) throw new Error(`The release manifest ${release.file} has no aws-node DaemonSet.`);
  const configMap = releaseObject(version, 'ConfigMap', 'amazon-vpc-cni');
  const merged = coalesceValues(coalesceValues(defaultsOf(ds, configMap), eksValues(options.ipFamily)), values);
  const tag = release.version;
  const pod = podOf(ds);
  const node = container(pod, 'aws-node');
  const init = container(pod, 'aws-vpc-cni-init');
  const agent = container(pod, 'aws-eks-nodeagent');

  // EKS's images: the add-on's tag on amazon-k8s-cni(-init) (describe-addon's addonVersion is the image tag, e.g.
  // fixtures/aws-cli-examples/eks-ug.vpc-cni.ACTIVE.v1.19.0-eksbuild.1.json) from its registry for the region.
  retagImages(ds, version, options.registry);

  // daemonset.yaml L83–L91 (v1.19.6): `range .Values.env` (sorted keys, `value: {{ $value | quote }}`; the
  // NETWORK_POLICY_ENFORCING_MODE skip needs nodeAgent.enabled false, which no schema allows), then L95–L104 the
  // template's own MY_NODE_NAME / MY_POD_NAME fieldRefs (extraEnv, L92–L94, is in no schema).
  if (node) {
    const fixed = (node.env ?? []).filter((e) => e.valueFrom !== undefined);
    node.env = [...renderedEnv(merged.env), ...fixed];
  }
  // daemonset.yaml L46–L49 (v1.19.6): `range .Values.init.env`.
  if (init) init.env = renderedEnv(at(merged, ['init', 'env']));

  const resources = merged.resources;
  if (node) {
    // v1.11.4 L84–L85 `resources: toYaml .Values.resources`; from v1.15.5 `with .Values.resources` (L105 v1.19.6).
    if (truthy(resources) || (!since(tag, 'v1.15.5') && resources !== undefined)) node.resources = structuredClone(resources);
    else delete node.resources;
  }
  // Init container: none before v1.13; v1.13.4 L51–L52 `toYaml .Values.resources`; from v1.15.5 L51
  // `with default .Values.resources .Values.init.resources` (init.resources is not in any schema: {} → .Values.resources).
  if (init && since(tag, 'v1.13.0')) {
    const own = at(merged, ['init', 'resources']);
    const chosen = since(tag, 'v1.15.5') && truthy(own) ? own : resources;
    if (truthy(chosen) || !since(tag, 'v1.15.5')) init.resources = structuredClone(chosen ?? {});
    else delete init.resources;
  }
  // Node agent: v1.14.0 L131–L132 `toYaml .Values.resources`; from v1.15.5 L140 / L155 (v1.19.6)
  // `with default .Values.resources .Values.nodeAgent.resources`.
  if (agent) {
    const own = at(merged, ['nodeAgent', 'resources']);
    const chosen = since(tag, 'v1.15.5') && truthy(own) ? own : resources;
    if (truthy(chosen) || !since(tag, 'v1.15.5')) agent.resources = structuredClone(chosen ?? {});
    else delete agent.resources;
  }

  // L78 / L81 (v1.19.6): `timeoutSeconds: {{ .Values.livenessProbeTimeoutSeconds }}` (readiness alike).
  if (node?.livenessProbe && merged.livenessProbeTimeoutSeconds !== undefined) node.livenessProbe.timeoutSeconds = merged.livenessProbeTimeoutSeconds;
  if (node?.readinessProbe && merged.readinessProbeTimeoutSeconds !== undefined) node.readinessProbe.timeoutSeconds = merged.readinessProbeTimeoutSeconds;

  // `with .Values.tolerations` / `.affinity` / `.nodeSelector` (L60, L209, L205 v1.19.6): left out when empty.
  for (const key of ['tolerations', 'affinity', 'nodeSelector'] as const) {
    if (truthy(merged[key])) pod[key] = structuredClone(merged[key]);
    else delete pod[key];
  }
  // L38 (v1.19.6) `priorityClassName: "{{ .Values.priorityClassName }}"`; L9–L10 `updateStrategy: toYaml`.
  if (merged.priorityClassName !== undefined) pod.priorityClassName = printed(merged.priorityClassName);
  if (merged.updateStrategy !== undefined) (ds.spec as Record<string, unknown>).updateStrategy = structuredClone(merged.updateStrategy);
  // L24–L28 pod annotations (`{{ $key }}: {{ $value | quote }}`, only when any), L34–L36 podLabels after the
  // template's own labels.
  const meta = ((ds.spec as { template: { metadata?: Record<string, unknown> } }).template.metadata ??= {});
  const annotations = isMap(merged.podAnnotations) ? merged.podAnnotations : {};
  if (Object.keys(annotations).length > 0) meta.annotations = Object.fromEntries(sortedKeys(annotations).map((k) => [k, printed(annotations[k])]));
  else delete meta.annotations;
  if (isMap(merged.podLabels) && Object.keys(merged.podLabels).length > 0) meta.labels = { ...(meta.labels as object), ...structuredClone(merged.podLabels) };

  // Node agent arguments: each `- --flag={{ .Values.<path> }}` line of the tag's template (AGENT_FLAGS), in the
  // template's order, which the release manifest keeps.
  if (agent?.args) {
    agent.args = agent.args.map((arg) => {
      const eq = arg.indexOf('=');
      const flagName = eq > 0 ? arg.slice(0, eq) : arg;
      const flag = AGENT_FLAGS[flagName];
      return flag ? `${flagName}=${flag.prefix}${printed(at(merged, flag.path))}` : arg;
    });
  }
  // From v1.19.4 (L137): the agent's metrics port is `containerPort: {{ .Values.nodeAgent.metricsBindAddr}}`.
  if (agent && since(tag, 'v1.19.4')) {
    const port = agent.ports?.find((p) => p.name === 'agentmetrics');
    if (port) port.containerPort = yamlScalar(printed(at(merged, ['nodeAgent', 'metricsBindAddr'])));
  }

  // v1.11.4 L102–L108 and L128–L134: with cri.hostPath the aws-node container mounts /var/run/cri.sock (volume
  // `cri`, hostPath: toYaml .Values.cri.hostPath) instead of the dockershim socket.
  const criHostPath = at(merged, ['cri', 'hostPath']);
  if (node && truthy(criHostPath)) {
    const mount = node.volumeMounts?.findIndex((m) => m.name === 'dockershim') ?? -1;
    if (mount >= 0 && node.volumeMounts) node.volumeMounts[mount] = { mountPath: '/var/run/cri.sock', name: 'cri' };
    const volume = pod.volumes?.findIndex((v) => v.name === 'dockershim') ?? -1;
    if (volume >= 0 && pod.volumes) pod.volumes[volume] = { name: 'cri', hostPath: structuredClone(criHostPath) };
  }

  // configmap.yaml L20–L26 (v1.19.6): `key: {{ .Values.<name> | quote }}` for each key the tag's ConfigMap has.
  let configMapData: Record<string, string> | null = null;
  if (configMap) {
    const data = { ...((configMap.data as Record<string, string> | undefined) ?? {}) };
    for (const key of Object.keys(data)) {
      const name = CONFIGMAP_KEYS[key];
      if (name) data[key] = printed(merged[name]);
    }
    configMap.data = data;
    configMapData = data;
  }

  // eniconfig.yaml L1–L16: `if .Values.eniConfig.create`, one ENIConfig per subnets entry (sorted by key):
  // metadata.name the key, spec.securityGroups when non-empty, spec.subnet the id.
  const eniConfigs: KubeObject[] = [];
  const eni = merged.eniConfig;
  if (isMap(eni) && truthy(eni.create) && isMap(eni.subnets)) {
    const subnets = eni.subnets;
    for (const zone of sortedKeys(subnets)) {
      const entry = (isMap(subnets[zone]) ? subnets[zone] : {}) as { id?: unknown; securityGroups?: unknown };
      eniConfigs.push({
        apiVersion: 'crd.k8s.amazonaws.com/v1alpha1',
        kind: 'ENIConfig',
        metadata: { name: zone },
        spec: {
          ...(truthy(entry.securityGroups) ? { securityGroups: (entry.securityGroups as unknown[]).map(printed) } : {}),
          subnet: printed(entry.id),
        },
      });
    }
  }

  const others = (): KubeObject[] =>
    releaseObjects(version)
      .filter((o) => !(o.kind === 'DaemonSet' && o.metadata.name === 'aws-node'))
      .map((o) => (o.kind === 'ConfigMap' && o.metadata.name === 'amazon-vpc-cni' && configMap ? structuredClone(configMap) : o));
  return { chartTag: chartTagOf(release.tag, release.file), daemonSet: ds, configMapData, eniConfigs, others };
}

/** The chart copy a release manifest was generated from: its own tag, v1.23.0 for the master snapshot v1.23.1. */
function chartTagOf(tag: string, file: string): string {
  return /-master-/.test(file) ? 'v1.23.0' : tag;
}
