/**
 * The self-managed procedure of the EKS user guide ("Update the self-managed add-on"), decided purely:
 * the upstream manifest of a release (fixtures/manifests/), rendered for the region's ECR registry (or the
 * mirror the install already pulls from), with the running install's custom settings carried over.
 */
import { stringify } from 'yaml';
import { settingLeaves, upstreamBaseline, liveInstall, type InstallObjects } from './settings/index.js';
import { sameSetting } from './settings/leaves.js';
import type { ClusterFacts } from '../domain.js';
import { isEksImageRegistry } from './config/adoption.js';
import {
  containerList,
  loadUpstreamManifest,
  podTemplateSpec,
  splitImage,
  type KubeObject,
} from './manifests.js';
import { eksImageRegistry, UPSTREAM_REGISTRY } from './registries.js';

/** The field manager vpccni's server-side applies use. */
export const FIELD_MANAGER = 'vpccni';

/**
 * The custom settings of the running install, from the objects read of the cluster: the one place an apply step
 * learns them (the settings model of src/decide/settings/, see `manifestSettings`).
 */
export function runningSettings(facts: Pick<ClusterFacts, 'daemonSet'>, configMap: KubeObject | null = null): ManifestSetting[] {
  const ds = facts.daemonSet;
  if (!ds?.version) return [];
  return manifestSettings({ daemonSet: ds.raw as unknown as KubeObject, configMap }, ds.version);
}

/** What a rendered manifest is rendered for. */
export interface RenderTarget {
  /** Replaces `602401143452.dkr.ecr.us-west-2.amazonaws.com` in every image: a registry host or a mirror prefix. */
  imagePrefix: string;
}

/**
 * Where the images come from: the mirror the install's aws-node image already uses (host and path up to the
 * image name), else the regional ECR registry of the cluster's region and partition.
 */
export function renderTargetFor(facts: Pick<ClusterFacts, 'daemonSet' | 'cluster'>): RenderTarget {
  const image = facts.daemonSet?.images['aws-node'];
  let imagePrefix = eksImageRegistry(facts.cluster.region);
  if (image) {
    const { repository } = splitImage(image);
    const host = repository.split('/')[0] ?? '';
    if (!isEksImageRegistry(host) && /\/amazon-k8s-cni$/.test(repository)) imagePrefix = repository.replace(/\/amazon-k8s-cni$/, '');
  }
  return { imagePrefix };
}

/** True when the image prefix is a mirror rather than a regional ECR registry. */
export function isMirror(target: RenderTarget): boolean {
  return !isEksImageRegistry(target.imagePrefix);
}

interface Env {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Container {
  name: string;
  image?: string;
  env?: Env[];
  resources?: unknown;
}

/** Replaces the upstream registry in one image reference. */
function rehost(image: string, prefix: string): string {
  return image.startsWith(`${UPSTREAM_REGISTRY}/`) ? `${prefix}/${image.slice(UPSTREAM_REGISTRY.length + 1)}` : image;
}

/** Re-points every image of a workload object at `prefix`. */
export function rehostImages(object: KubeObject, prefix: string): void {
  const pod = podTemplateSpec(object);
  for (const key of ['initContainers', 'containers'] as const) {
    for (const c of containerList<Container>(pod, key)) if (c.image) c.image = rehost(c.image, prefix);
  }
}

/**
 * The objects of the upstream manifest of `release`, rendered for `target`, the aws-node DaemonSet carrying
 * `custom`: env vars set, changed or removed, resources, affinity and tolerations as on the running install.
 */
export function renderSelfManagedManifest(release: string, settings: ManifestSetting[], target: RenderTarget): KubeObject[] {
  const objects = loadUpstreamManifest(release);
  for (const object of objects) {
    if (object.kind === 'DaemonSet' || object.kind === 'Deployment') rehostImages(object, target.imagePrefix);
  }
  applyManifestSettings(objects, settings);
  return objects;
}

/** A setting as one line: `path = value` (or `path removed`). */
export function settingLine(s: ManifestSetting): string {
  return s.current === undefined ? `${s.path} removed` : `${s.path} = ${JSON.stringify(s.current)}`;
}

/** One setting of the running install that departs from the upstream manifest of its release (the settings model's path). */
export interface ManifestSetting {
  path: string;
  /** The value on the cluster (undefined: the install removed it). */
  current: unknown;
  baseline: unknown;
  /** False when a manifest step cannot carry it, with the reason. */
  carried: boolean;
  reason?: string;
}

/**
 * The custom settings of the running install in the settings model's terms (src/decide/settings/): every
 * leaf of the live install (DaemonSet and `amazon-vpc-cni` ConfigMap) that differs from the upstream manifest
 * of the release it runs. Registries are left to the render target (region or mirror); an image digest pins
 * the old release and positional arguments have no stable place, so those cannot be carried.
 */
export function manifestSettings(objects: { daemonSet: KubeObject | null; configMap?: KubeObject | null }, runningRelease: string): ManifestSetting[] {
  const live = liveInstall({ daemonSet: objects.daemonSet, configMap: objects.configMap ?? null });
  if (!live) return [];
  const baseline: InstallObjects = upstreamBaseline(runningRelease);
  const registryOf = (host: string) => (isEksImageRegistry(host) ? 'eks' : host);
  const known = new Set([...containerNames(baseline.daemonSet), ...containerNames(live.daemonSet)].filter((n) => containerNames(baseline.daemonSet).includes(n)));
  const a = settingLeaves(live, { registryOf, knownContainers: known });
  const b = settingLeaves(baseline, { registryOf, knownContainers: known });
  const out: ManifestSetting[] = [];
  const missing = containerNames(baseline.daemonSet).filter((n) => !containerNames(live.daemonSet).includes(n));
  const inits = containerList<{ name: string }>(podTemplateSpec(baseline.daemonSet), 'initContainers').map((c) => c.name);
  for (const name of missing) out.push({ path: `${inits.includes(name) ? 'initContainers' : 'containers'}[${name}]`, current: undefined, baseline: 'present', carried: true });
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (sameSetting(a.get(path), b.get(path))) continue;
    if (/\.image\.registry$/.test(path)) continue;
    if (missing.some((n) => path.startsWith(`containers[${n}].`) || path.startsWith(`initContainers[${n}].`))) continue;
    const entry: ManifestSetting = { path, current: a.get(path), baseline: b.get(path), carried: true };
    if (/\.image\.digest$/.test(path)) Object.assign(entry, { carried: false, reason: 'an image digest pins the running release, not the next one' });
    else if (/\.args\[\d+\]$/.test(path)) Object.assign(entry, { carried: false, reason: 'a positional argument has no stable place in the next release' });
    else if (/^eniConfig\[/.test(path)) continue; // ENIConfigs are not in the manifest; they stay on the cluster.
    out.push(entry);
  }
  return out;
}

function containerNames(ds: KubeObject): string[] {
  const pod = podTemplateSpec(ds);
  return [...containerList<{ name: string }>(pod, 'initContainers'), ...containerList<{ name: string }>(pod, 'containers')].map((c) => c.name);
}

/** Writes each carried setting onto the rendered objects (the aws-node DaemonSet, the `amazon-vpc-cni` ConfigMap). */
export function applyManifestSettings(objects: KubeObject[], settings: ManifestSetting[]): void {
  const ds = objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'aws-node');
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'amazon-vpc-cni');
  if (!ds) return;
  const spec = ds.spec as Record<string, unknown> & { template: { metadata?: Record<string, Record<string, string> | undefined>; spec: Record<string, unknown> } };
  const pod = spec.template.spec;
  const setIn = (obj: Record<string, unknown>, key: string, value: unknown) => {
    if (value === undefined) delete obj[key];
    else obj[key] = structuredClone(value);
  };
  for (const s of settings.filter((x) => x.carried)) {
    const { path, current } = s;
    let m: RegExpExecArray | null;
    if (path === 'updateStrategy' || path === 'minReadySeconds') setIn(spec, path, current);
    else if ((m = /^template\.(annotations|labels)\.(.+)$/.exec(path))) {
      spec.template.metadata ??= {};
      const map = (spec.template.metadata[m[1]!] ??= {});
      setIn(map, m[2]!, current);
    } else if ((m = /^nodeSelector\.(.+)$/.exec(path))) {
      const map = (pod.nodeSelector ??= {}) as Record<string, unknown>;
      setIn(map, m[1]!, current);
    } else if ((m = /^volumes\[(.+)\]$/.exec(path))) {
      pod.volumes = upsertBy((pod.volumes as Array<Record<string, unknown>> | undefined) ?? [], 'name', m[1]!, current);
    } else if ((m = /^(containers|initContainers)\[([^\]]+)\](?:\.(.+))?$/.exec(path))) {
      const [, key, name, rest] = m as unknown as [string, 'containers' | 'initContainers', string, string | undefined];
      const list = containerList<Record<string, unknown> & { name: string }>(pod, key);
      if (rest === undefined) {
        pod[key] = upsertBy(list, 'name', name, current);
        continue;
      }
      const container = list.find((c) => c.name === name);
      if (!container) continue;
      carryContainerField(container, rest, current);
    } else if ((m = /^configMap\.(.+)$/.exec(path))) {
      if (cm) setIn((cm.data ??= {}) as Record<string, unknown>, m[1]!, current);
    } else {
      setIn(pod, path, current);
    }
  }
}

function upsertBy(list: Array<Record<string, unknown>>, key: string, id: string, value: unknown): Array<Record<string, unknown>> {
  const rest = list.filter((x) => String(x[key]) !== id);
  if (value === undefined) return rest;
  const at = list.findIndex((x) => String(x[key]) === id);
  const copy = structuredClone(value) as Record<string, unknown>;
  if (at < 0) return [...rest, copy];
  return list.map((x, i) => (i === at ? copy : x));
}

function carryContainerField(container: Record<string, unknown>, rest: string, current: unknown): void {
  let m: RegExpExecArray | null;
  if ((m = /^env\.(.+)$/.exec(rest))) {
    const env = ((container.env ??= []) as Array<{ name: string; value?: string; valueFrom?: unknown }>);
    const at = env.findIndex((e) => e.name === m![1]);
    if (current === undefined) {
      if (at >= 0) env.splice(at, 1);
      return;
    }
    const entry = typeof current === 'object' && current !== null && 'valueFrom' in current
      ? { name: m[1]!, valueFrom: structuredClone((current as { valueFrom: unknown }).valueFrom) }
      : { name: m[1]!, value: String(current) };
    if (at >= 0) env[at] = entry;
    else env.push(entry);
  } else if ((m = /^args\.(.+)$/.exec(rest))) {
    const flag = m[1]!;
    const args = ((container.args ??= []) as string[]);
    const at = args.findIndex((a) => a.startsWith(`${flag}=`));
    if (current === undefined) {
      if (at >= 0) args.splice(at, 1);
    } else if (at >= 0) args[at] = `${flag}=${String(current)}`;
    else args.push(`${flag}=${String(current)}`);
  } else if ((m = /^volumeMounts\[(.+)\]$/.exec(rest))) {
    container.volumeMounts = upsertBy((container.volumeMounts as Array<Record<string, unknown>> | undefined) ?? [], 'mountPath', m[1]!, current);
  } else if (current === undefined) {
    delete container[rest];
  } else {
    container[rest] = structuredClone(current);
  }
}

/** A multi-document YAML of objects, for diffs. */
export function manifestText(objects: KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

/**
 * A unified diff (3 lines of context) of two texts, by the longest common subsequence of their lines; ''
 * when they are equal.
 */
export function unifiedDiff(before: string, after: string, labels: [string, string]): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Array<{ t: ' ' | '-' | '+'; line: string; ai: number; bi: number }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ t: ' ', line: a[i]!, ai: i++, bi: j++ });
    else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ t: '-', line: a[i]!, ai: i++, bi: j });
    else ops.push({ t: '+', line: b[j]!, ai: i, bi: j++ });
  }
  if (!ops.some((o) => o.t !== ' ')) return '';
  const out = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  const context = 3;
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.t === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while changes are within 2×context lines of each other.
    for (;;) {
      while (end < ops.length && ops[end]!.t !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next]!.t === ' ' && next - end < 2 * context) next++;
      if (next < ops.length && ops[next]!.t !== ' ' && next - end < 2 * context) {
        end = next;
        continue;
      }
      break;
    }
    const stop = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, stop);
    const aStart = hunk[0]!.ai + 1;
    const bStart = hunk[0]!.bi + 1;
    out.push(`@@ -${aStart},${hunk.filter((o) => o.t !== '+').length} +${bStart},${hunk.filter((o) => o.t !== '-').length} @@`);
    for (const o of hunk) out.push(`${o.t}${o.line}`);
    k = stop;
  }
  return `${out.join('\n')}\n`;
}
