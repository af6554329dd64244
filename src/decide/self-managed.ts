/**
 * The self-managed procedure of the EKS user guide ("Update the self-managed add-on"), decided purely:
 * the upstream manifest of a release (fixtures/manifests/), rendered for the region's ECR registry (or the
 * mirror the install already pulls from), with the running install's custom settings carried over.
 */
import { stringify } from 'yaml';
import type { ClusterFacts } from '../domain.js';
import { customSettings, isEksImageRegistry, type CustomSettings } from './config/adoption.js';
import {
  containerList,
  loadUpstreamManifest,
  podTemplateSpec,
  splitImage,
  upstreamDaemonSet,
  type KubeObject,
} from './manifests.js';
import { eksImageRegistry, UPSTREAM_REGISTRY } from './registries.js';

/** The field manager vpccni's server-side applies use. */
export const FIELD_MANAGER = 'vpccni';

/**
 * The custom settings of the running install: how its aws-node DaemonSet departs from the upstream one of the
 * release it runs. The one place an apply step learns them (the settings model of issue 10 can stand in here).
 */
export function runningCustomSettings(facts: Pick<ClusterFacts, 'daemonSet'>): CustomSettings {
  const ds = facts.daemonSet;
  if (!ds?.version) return { env: [], removedEnv: [], resources: [], affinity: null, tolerations: null, images: [] };
  return customSettings(ds.raw as unknown as KubeObject, upstreamDaemonSet(ds.version));
}

/** What a rendered manifest is rendered for. */
export interface RenderTarget {
  /** Replaces `602401143452.dkr.ecr.us-west-2.amazonaws.com` in every image: a registry host or a mirror prefix. */
  imagePrefix: string;
  /** Live data of the `amazon-vpc-cni` ConfigMap, kept over the manifest's values of the same keys. */
  configMapData?: Record<string, string> | null;
}

/**
 * Where the images come from: the mirror the install's aws-node image already uses (host and path up to the
 * image name), else the regional ECR registry of the cluster's region and partition.
 */
export function renderTargetFor(facts: Pick<ClusterFacts, 'daemonSet' | 'cluster'>, liveConfigMap?: KubeObject | null): RenderTarget {
  const image = facts.daemonSet?.images['aws-node'];
  let imagePrefix = eksImageRegistry(facts.cluster.region);
  if (image) {
    const { repository } = splitImage(image);
    const host = repository.split('/')[0] ?? '';
    if (!isEksImageRegistry(host) && /\/amazon-k8s-cni$/.test(repository)) imagePrefix = repository.replace(/\/amazon-k8s-cni$/, '');
  }
  const data = liveConfigMap?.data;
  return {
    imagePrefix,
    configMapData: data && typeof data === 'object' ? (data as Record<string, string>) : null,
  };
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
export function renderSelfManagedManifest(release: string, custom: CustomSettings, target: RenderTarget): KubeObject[] {
  const objects = loadUpstreamManifest(release);
  for (const object of objects) {
    if (object.kind === 'DaemonSet' || object.kind === 'Deployment') rehostImages(object, target.imagePrefix);
    if (object.kind === 'DaemonSet' && object.metadata.name === 'aws-node') carrySettings(object, custom);
    if (object.kind === 'ConfigMap' && object.metadata.name === 'amazon-vpc-cni' && target.configMapData) {
      const data = (object.data ??= {}) as Record<string, string>;
      for (const [key, value] of Object.entries(target.configMapData)) if (key in data) data[key] = value;
    }
  }
  return objects;
}

function carrySettings(daemonSet: KubeObject, custom: CustomSettings): void {
  const pod = podTemplateSpec(daemonSet);
  for (const [key, kind] of [['initContainers', 'initContainer'], ['containers', 'container']] as const) {
    for (const container of containerList<Container>(pod, key)) {
      const env = (container.env ??= []);
      for (const removed of custom.removedEnv.filter((r) => r.kind === kind && r.container === container.name)) {
        const at = env.findIndex((e) => e.name === removed.name);
        if (at >= 0) env.splice(at, 1);
      }
      for (const setting of custom.env.filter((e) => e.kind === kind && e.container === container.name)) {
        const entry: Env = setting.valueFrom !== undefined ? { name: setting.name, valueFrom: structuredClone(setting.valueFrom) } : { name: setting.name, value: setting.value ?? '' };
        const at = env.findIndex((e) => e.name === setting.name);
        if (at >= 0) env[at] = entry;
        else env.push(entry);
      }
      const resources = custom.resources.find((r) => r.kind === kind && r.container === container.name);
      if (resources) container.resources = structuredClone(resources.value);
    }
  }
  if (custom.affinity) pod.affinity = structuredClone(custom.affinity.value);
  if (custom.tolerations) pod.tolerations = structuredClone(custom.tolerations.value);
}

/** The settings an apply step carries, as `container.env.NAME=value` lines for the plan and the report. */
export function carriedSettingLines(custom: CustomSettings): string[] {
  return [
    ...custom.env.map((e) => `${e.container} env ${e.name}=${e.value === null ? `valueFrom ${JSON.stringify(e.valueFrom)}` : JSON.stringify(e.value)}`),
    ...custom.removedEnv.map((e) => `${e.container} env ${e.name} removed`),
    ...custom.resources.map((r) => `${r.container} resources ${JSON.stringify(r.value)}`),
    ...(custom.affinity ? ['affinity'] : []),
    ...(custom.tolerations ? ['tolerations'] : []),
    ...custom.images.map((i) => `${i.container} image from ${i.registry}`),
  ];
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
    let start = Math.max(0, k - context);
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
    start = stop;
  }
  return `${out.join('\n')}\n`;
}
