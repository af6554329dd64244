/**
 * What `--resolve-conflicts OVERWRITE` would reset: the settings of the live aws-node DaemonSet that differ
 * from what the add-on will apply. Shown to the user before asking for `--yes`.
 */
import { sameValue } from '../../formats/json.js';
import { containerList, podTemplateSpec, splitImage, type KubeObject } from '../manifests.js';
import { normaliseValueFrom } from '../settings/leaves.js';

/** One setting OVERWRITE would change: `after` is null when the add-on drops it altogether. */
export interface ResetSetting {
  /** e.g. `containers[aws-node].env.WARM_IP_TARGET`, `initContainers[aws-vpc-cni-init].env.X`, `affinity`. */
  field: string;
  current: string;
  after: string | null;
}

interface Container {
  name: string;
  image?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  resources?: unknown;
}

/**
 * The settings of `live` (env of every container and init container, resources, affinity, tolerations, and
 * images pulled from another registry) that differ from `desired`, the DaemonSet the add-on will apply.
 */
export function settingsResetByOverwrite(live: KubeObject, desired: KubeObject): ResetSetting[] {
  const result: ResetSetting[] = [];
  const livePod = podSpec(live);
  const desiredPod = podSpec(desired);
  for (const key of ['initContainers', 'containers'] as const) {
    const desiredContainers = new Map(containersOf(desiredPod, key).map((c) => [c.name, c]));
    for (const container of containersOf(livePod, key)) {
      const prefix = `${key}[${container.name}]`;
      const target = desiredContainers.get(container.name);
      if (!target) {
        result.push({ field: prefix, current: container.image ?? '(container)', after: null });
        continue;
      }
      const targetEnv = new Map((target.env ?? []).map((e) => [e.name, e]));
      for (const env of container.env ?? []) {
        const after = targetEnv.get(env.name);
        const current = envText(env);
        if (!after) result.push({ field: `${prefix}.env.${env.name}`, current, after: null });
        else if (!sameValue(envValue(env), envValue(after))) {
          result.push({ field: `${prefix}.env.${env.name}`, current, after: envText(after) });
        }
      }
      if (container.resources !== undefined && !isEmpty(container.resources) && !sameValue(container.resources, target.resources)) {
        result.push({ field: `${prefix}.resources`, current: compact(container.resources), after: isEmpty(target.resources) ? null : compact(target.resources) });
      }
      if (container.image && target.image) {
        const liveHost = registryOf(container.image);
        const targetHost = registryOf(target.image);
        if (liveHost !== targetHost) result.push({ field: `${prefix}.image`, current: container.image, after: target.image });
      }
    }
  }
  for (const key of ['affinity', 'tolerations'] as const) {
    const current = livePod[key];
    if (current === undefined || current === null || isEmpty(current)) continue;
    if (!sameValue(current, desiredPod[key])) {
      result.push({ field: key, current: compact(current), after: isEmpty(desiredPod[key]) ? null : compact(desiredPod[key]) });
    }
  }
  return result;
}


const podSpec = podTemplateSpec;
const containersOf = (pod: Record<string, unknown>, key: 'containers' | 'initContainers') => containerList<Container>(pod, key);

function envValue(env: { value?: string; valueFrom?: unknown }): unknown {
  return env.valueFrom !== undefined ? { valueFrom: normaliseValueFrom(env.valueFrom) } : { value: env.value ?? '' };
}

function envText(env: { value?: string; valueFrom?: unknown }): string {
  return env.valueFrom !== undefined ? `valueFrom ${compact(env.valueFrom)}` : (env.value ?? '');
}

function compact(value: unknown): string {
  return JSON.stringify(value);
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

function registryOf(image: string): string {
  return splitImage(image).repository.split('/')[0] ?? '';
}
