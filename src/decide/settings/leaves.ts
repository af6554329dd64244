/**
 * The settings of an aws-node install as a flat map of stable paths to values: the whole pod template and
 * every container of the DaemonSet, its update strategy and annotations, the `amazon-vpc-cni` ConfigMap and
 * the ENIConfigs. Two installs are compared path by path (src/decide/settings/compare.ts).
 *
 * Path grammar (also what users see in messages and JSON):
 * - `containers[aws-node].env.WARM_IP_TARGET`, `initContainers[aws-vpc-cni-init].env.X`
 * - `containers[aws-eks-nodeagent].args.--enable-network-policy` (a `--flag=value` argument; other
 *   arguments are `args[0]`, `args[1]`…), `containers[C].command`
 * - `containers[C].image.registry`, `containers[C].image.digest` (the tag is the version, not a setting)
 * - `containers[C].imagePullPolicy|envFrom|resources|securityContext|livenessProbe|readinessProbe|startupProbe|ports`
 * - `containers[C].volumeMounts[<mountPath>]`
 * - `containers[C]` for a whole container the other side does not have (a sidecar)
 * - `nodeSelector.<key>`, `affinity`, `tolerations`, `volumes[<name>]`, `serviceAccountName`, `hostNetwork`,
 *   `priorityClassName`, `terminationGracePeriodSeconds`, `securityContext`, `dnsPolicy`, `imagePullSecrets`
 * - `updateStrategy`, `minReadySeconds`, `template.annotations.<key>`, `template.labels.<key>`
 * - `configMap.<key>` (data of `amazon-vpc-cni`), `eniConfig[<name>]`
 */
import { canonicalJson } from '../../formats/json.js';
import { parseImage, type KubeObject } from '../manifests.js';

/** One install's settings: path → value (a JSON value; objects are compared whole). */
export type SettingLeaves = Map<string, unknown>;

/** What an install is made of, as read from the cluster or rendered for a version. */
export interface InstallObjects {
  daemonSet: KubeObject;
  /** The `data` of the `amazon-vpc-cni` ConfigMap; null or absent when there is none. */
  configMap?: Record<string, string> | null;
  /** ENIConfig objects (custom networking); absent: not compared. */
  eniConfigs?: KubeObject[];
}

/** Registries that count as one: every EKS add-on registry is "EKS". */
export type RegistryClassifier = (host: string) => string;

/** Annotations that record who changed what, not settings. */
const NOISE_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'kubectl.kubernetes.io/restartedAt',
  'deprecated.daemonset.template.generation',
]);

const POD_KEYS = [
  'affinity',
  'tolerations',
  'serviceAccountName',
  'hostNetwork',
  'priorityClassName',
  'terminationGracePeriodSeconds',
  'securityContext',
  'dnsPolicy',
  'imagePullSecrets',
] as const;

const CONTAINER_KEYS = [
  'command',
  'imagePullPolicy',
  'envFrom',
  'resources',
  'securityContext',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'ports',
] as const;

interface ContainerLike {
  name: string;
  image?: string;
  args?: unknown[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  volumeMounts?: Array<{ mountPath?: string; name?: string }>;
  [key: string]: unknown;
}

/** An empty object, empty list or null counts as absent (the API server drops or defaults them). */
export function isAbsent(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/** `fieldRef.apiVersion: v1` is the API server's default: compare without it. */
export function normaliseValueFrom(valueFrom: unknown): unknown {
  if (typeof valueFrom !== 'object' || valueFrom === null || Array.isArray(valueFrom)) return valueFrom;
  const { fieldRef, ...rest } = valueFrom as { fieldRef?: unknown } & Record<string, unknown>;
  if (typeof fieldRef !== 'object' || fieldRef === null || Array.isArray(fieldRef)) return valueFrom;
  const { apiVersion, ...ref } = fieldRef as { apiVersion?: unknown } & Record<string, unknown>;
  return { ...rest, fieldRef: apiVersion === undefined || apiVersion === 'v1' ? ref : { ...ref, apiVersion } };
}

/** Numbers in resources written by hand (`cpu: 1`) are the same quantity as the string. */
function normaliseQuantities(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normaliseQuantities);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normaliseQuantities(v)]));
  }
  return typeof value === 'number' ? String(value) : value;
}

/** Splits `--flag=value` into its flag and value; null for anything else. */
export function splitFlag(arg: string): { flag: string; value: string } | null {
  const match = /^(--?[A-Za-z0-9][A-Za-z0-9._-]*)=(.*)$/s.exec(arg);
  return match ? { flag: match[1] as string, value: match[2] as string } : null;
}

function containerLeaves(prefix: string, c: ContainerLike, leaves: SettingLeaves, registryOf: RegistryClassifier): void {
  if (c.image) {
    const { repository, digest } = parseImage(c.image);
    leaves.set(`${prefix}.image.registry`, registryOf(repository.split('/')[0] ?? ''));
    if (digest) leaves.set(`${prefix}.image.digest`, digest);
  }
  let position = 0;
  for (const arg of c.args ?? []) {
    const text = String(arg);
    const flag = splitFlag(text);
    if (flag) leaves.set(`${prefix}.args.${flag.flag}`, flag.value);
    else leaves.set(`${prefix}.args[${position++}]`, text);
  }
  for (const env of c.env ?? []) {
    leaves.set(
      `${prefix}.env.${env.name}`,
      env.valueFrom !== undefined ? { valueFrom: normaliseValueFrom(env.valueFrom) } : (env.value ?? ''),
    );
  }
  for (const key of CONTAINER_KEYS) {
    const value = c[key];
    if (!isAbsent(value)) leaves.set(`${prefix}.${key}`, key === 'resources' ? normaliseQuantities(value) : value);
  }
  for (const mount of c.volumeMounts ?? []) {
    leaves.set(`${prefix}.volumeMounts[${mount.mountPath ?? mount.name ?? '?'}]`, mount);
  }
}

/**
 * The settings of an install as path → value. `registryOf` maps a registry host to the name it is compared
 * by (so that every EKS registry compares equal); default: the host itself. `knownContainers`: containers
 * broken down field by field; any other container is one whole `containers[C]` leaf (a sidecar).
 */
export function settingLeaves(
  install: InstallObjects,
  options: { registryOf?: RegistryClassifier; knownContainers?: ReadonlySet<string> } = {},
): SettingLeaves {
  const registryOf = options.registryOf ?? ((h: string) => h);
  const leaves: SettingLeaves = new Map();
  const ds = install.daemonSet;
  const spec = (ds.spec ?? {}) as Record<string, unknown>;
  const template = (spec.template ?? {}) as { metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> }; spec?: Record<string, unknown> };
  const pod = template.spec ?? {};
  if (!isAbsent(spec.updateStrategy)) leaves.set('updateStrategy', spec.updateStrategy);
  if (spec.minReadySeconds !== undefined && spec.minReadySeconds !== 0) leaves.set('minReadySeconds', spec.minReadySeconds);
  for (const [key, value] of Object.entries(template.metadata?.annotations ?? {})) {
    if (!NOISE_ANNOTATIONS.has(key)) leaves.set(`template.annotations.${key}`, value);
  }
  for (const [key, value] of Object.entries(template.metadata?.labels ?? {})) leaves.set(`template.labels.${key}`, value);
  for (const [key, value] of Object.entries((pod.nodeSelector as Record<string, string> | undefined) ?? {})) {
    leaves.set(`nodeSelector.${key}`, value);
  }
  for (const key of POD_KEYS) {
    if (!isAbsent(pod[key])) leaves.set(key, pod[key]);
  }
  for (const volume of (pod.volumes as Array<{ name: string }> | undefined) ?? []) leaves.set(`volumes[${volume.name}]`, volume);
  for (const key of ['initContainers', 'containers'] as const) {
    for (const c of (pod[key] as ContainerLike[] | undefined) ?? []) {
      const prefix = `${key}[${c.name}]`;
      if (options.knownContainers && !options.knownContainers.has(c.name)) leaves.set(prefix, c);
      else containerLeaves(prefix, c, leaves, registryOf);
    }
  }
  for (const [key, value] of Object.entries(install.configMap ?? {})) leaves.set(`configMap.${key}`, value);
  for (const eni of install.eniConfigs ?? []) leaves.set(`eniConfig[${eni.metadata.name}]`, eni.spec ?? {});
  return leaves;
}

/** True when two leaf values are the same setting (key order ignored). */
export function sameSetting(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}
