/**
 * Adopting a self-managed aws-node DaemonSet into the EKS add-on without losing its custom settings: find
 * what differs from the upstream DaemonSet of the running version, and turn it into configuration values
 * the target version's schema accepts, saying plainly what cannot be carried over and why.
 */
import { isEksRegistryHost } from '../registries.js';
import { containerList, podTemplateSpec, splitImage, type KubeObject } from '../manifests.js';
import { sameValue } from '../../formats/json.js';
import { schemaAccepts, validateConfigurationValues } from './validate.js';

/** Where a container sits in the pod spec. */
export type ContainerKind = 'container' | 'initContainer';

/** An env var of the live DaemonSet that differs from (or is absent in) the defaults. */
export interface CustomEnv {
  container: string;
  kind: ContainerKind;
  name: string;
  /** The plain value, or null when the var takes its value from `valueFrom`. */
  value: string | null;
  valueFrom?: unknown;
  /** The default's plain value; null when the defaults lack the var or set it through `valueFrom`. */
  defaultValue: string | null;
}

/** Everything in which a live aws-node DaemonSet departs from the upstream one of its version. */
export interface CustomSettings {
  env: CustomEnv[];
  /** Env vars the defaults set and the live DaemonSet does not have. */
  removedEnv: Array<{ container: string; kind: ContainerKind; name: string; defaultValue: string | null }>;
  resources: Array<{ container: string; kind: ContainerKind; value: unknown; defaultValue: unknown }>;
  affinity: { value: unknown; defaultValue: unknown } | null;
  tolerations: { value: unknown; defaultValue: unknown } | null;
  /** Images pulled from a registry other than an EKS one (a mirror). */
  images: Array<{ container: string; kind: ContainerKind; image: string; registry: string; defaultImage: string | null }>;
}

/** Configuration values made from custom settings, with what went in and what could not. */
export interface AdoptionResult {
  values: Record<string, unknown>;
  carried: Array<{ path: string; value: unknown }>;
  unsupported: Array<{ path: string; value: unknown; reason: string }>;
}

interface Container {
  name: string;
  image?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  resources?: unknown;
}

const CNI_CONTAINER = 'aws-node';
const INIT_CONTAINER = 'aws-vpc-cni-init';
const NODE_AGENT_CONTAINER = 'aws-eks-nodeagent';

/** True when `host` is one of the ECR registries EKS serves its own add-on images from (fixtures/image-registries.json). */
export function isEksImageRegistry(host: string): boolean {
  // 151610086707 served add-on images before the table's current accounts; kept so older installs count as EKS's.
  return isEksRegistryHost(host, ['151610086707']);
}

/**
 * The custom settings of `live` (the aws-node DaemonSet on the cluster) against `defaults` (the upstream
 * DaemonSet of the version it runs, `upstreamDaemonSet(runningVersion)`): differing or extra env vars of
 * every container and init container (valueFrom included), removed env vars, resources, affinity,
 * tolerations, and images from a non-EKS registry.
 */
export function customSettings(live: KubeObject, defaults: KubeObject): CustomSettings {
  const result: CustomSettings = { env: [], removedEnv: [], resources: [], affinity: null, tolerations: null, images: [] };
  const livePod = podSpec(live);
  const defaultPod = podSpec(defaults);
  for (const [key, kind] of [['initContainers', 'initContainer'], ['containers', 'container']] as const) {
    const defaultContainers = new Map(containersOf(defaultPod, key).map((c) => [c.name, c]));
    for (const container of containersOf(livePod, key)) {
      const base = defaultContainers.get(container.name);
      const baseEnv = new Map((base?.env ?? []).map((e) => [e.name, e]));
      const liveNames = new Set<string>();
      for (const env of container.env ?? []) {
        liveNames.add(env.name);
        const def = baseEnv.get(env.name);
        const differs =
          !def ||
          (env.valueFrom !== undefined || def.valueFrom !== undefined
            ? !sameValue(env.valueFrom, def.valueFrom) || (env.value ?? '') !== (def.value ?? '')
            : (env.value ?? '') !== (def.value ?? ''));
        if (!differs) continue;
        const entry: CustomEnv = {
          container: container.name,
          kind,
          name: env.name,
          value: env.valueFrom !== undefined ? null : (env.value ?? ''),
          defaultValue: def && def.valueFrom === undefined ? (def.value ?? '') : null,
        };
        if (env.valueFrom !== undefined) entry.valueFrom = env.valueFrom;
        result.env.push(entry);
      }
      for (const def of base?.env ?? []) {
        if (!liveNames.has(def.name)) {
          result.removedEnv.push({
            container: container.name,
            kind,
            name: def.name,
            defaultValue: def.valueFrom === undefined ? (def.value ?? '') : null,
          });
        }
      }
      if (!sameValue(emptyToNull(container.resources), emptyToNull(base?.resources))) {
        result.resources.push({ container: container.name, kind, value: container.resources ?? {}, defaultValue: base?.resources ?? null });
      }
      if (container.image) {
        const registry = registryOf(container.image);
        const defaultRegistry = base?.image ? registryOf(base.image) : null;
        if (registry !== defaultRegistry && !isEksImageRegistry(registry)) {
          result.images.push({ container: container.name, kind, image: container.image, registry, defaultImage: base?.image ?? null });
        }
      }
    }
  }
  for (const key of ['affinity', 'tolerations'] as const) {
    if (!sameValue(emptyToNull(livePod[key]), emptyToNull(defaultPod[key]))) {
      result[key] = { value: livePod[key] ?? null, defaultValue: defaultPod[key] ?? null };
    }
  }
  return result;
}

/**
 * Turns custom settings into configuration values for the target schema (the string EKS returns):
 * aws-node env → `env.X`, init env → `init.env.X`, aws-node resources → `resources`, `affinity`,
 * `tolerations`, each only where the schema has a place for it and the result validates; everything else
 * is listed in `unsupported` with the reason. `addonVersion` names the schema in those reasons.
 */
export function toConfigurationValues(
  custom: CustomSettings,
  schemaText: string,
  options: { addonVersion?: string } = {},
): AdoptionResult {
  const label = options.addonVersion ? `the ${options.addonVersion} schema` : "the target add-on version's schema";
  const candidates: Array<{ segments: string[]; value: unknown }> = [];
  const unsupported: AdoptionResult['unsupported'] = [];
  const offer = (segments: string[], value: unknown): void => {
    if (schemaAccepts(schemaText, segments)) candidates.push({ segments, value });
    else unsupported.push({ path: segments.join('.'), value, reason: `${label} has no ${segments.join('.')}` });
  };

  for (const env of custom.env) {
    const isCni = env.kind === 'container' && env.container === CNI_CONTAINER;
    const isInit = env.kind === 'initContainer' && env.container === INIT_CONTAINER;
    const path = isCni ? ['env', env.name] : isInit ? ['init', 'env', env.name] : null;
    const shownPath = path ? path.join('.') : `${containerField(env.kind, env.container)}.env.${env.name}`;
    if (env.valueFrom !== undefined) {
      unsupported.push({
        path: shownPath,
        value: { valueFrom: env.valueFrom },
        reason: `${env.name} takes its value from valueFrom ${JSON.stringify(env.valueFrom)}, and configuration values can only set plain strings`,
      });
    } else if (path) {
      offer(path, env.value);
    } else if (env.container === NODE_AGENT_CONTAINER) {
      unsupported.push({
        path: shownPath,
        value: env.value,
        reason: `configuration values cannot set env vars of the ${NODE_AGENT_CONTAINER} container (the schema's nodeAgent settings are options of the agent, not env vars)`,
      });
    } else {
      unsupported.push({ path: shownPath, value: env.value, reason: `configuration values cannot set env vars of the ${env.container} container` });
    }
  }
  for (const removed of custom.removedEnv) {
    unsupported.push({
      path: `${containerField(removed.kind, removed.container)}.env.${removed.name}`,
      value: null,
      reason: `it was removed from the DaemonSet, and configuration values cannot remove a variable; the add-on will set it${removed.defaultValue === null ? '' : ` to ${JSON.stringify(removed.defaultValue)}`} again`,
    });
  }
  for (const resources of custom.resources) {
    if (resources.kind === 'container' && resources.container === CNI_CONTAINER) {
      offer(['resources'], normaliseResources(resources.value));
    } else {
      unsupported.push({
        path: `${containerField(resources.kind, resources.container)}.resources`,
        value: resources.value,
        reason: `configuration values can only set the resources of the ${CNI_CONTAINER} container`,
      });
    }
  }
  for (const key of ['affinity', 'tolerations'] as const) {
    const setting = custom[key];
    if (setting) offer([key], setting.value);
  }
  for (const image of custom.images) {
    unsupported.push({
      path: `${containerField(image.kind, image.container)}.image`,
      value: image.image,
      reason: `it is pulled from the registry mirror ${image.registry}; the add-on pulls its images from the EKS registry of the cluster's region, and configuration values cannot change that`,
    });
  }

  // Validate; whatever the schema rejects (e.g. a value of the wrong format) moves to `unsupported`.
  let values = build(candidates);
  for (let round = 0; round < 8 && candidates.length > 0; round++) {
    const problems = validateConfigurationValues(values, schemaText);
    if (problems.length === 0) break;
    let removed = false;
    for (const problem of problems) {
      for (let i = candidates.length - 1; i >= 0; i--) {
        const path = (candidates[i] as { segments: string[] }).segments.join('.');
        if (problem.path === '' || problem.path === path || problem.path.startsWith(`${path}.`) || path.startsWith(`${problem.path}.`)) {
          const [candidate] = candidates.splice(i, 1);
          unsupported.push({ path, value: candidate?.value, reason: problem.message.replace(/\.$/, '') });
          removed = true;
        }
      }
    }
    values = build(candidates);
    if (!removed) break;
  }
  const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return {
    values,
    carried: candidates.map((c) => ({ path: c.segments.join('.'), value: c.value })).sort(byPath),
    unsupported: unsupported.sort(byPath),
  };
}

function build(candidates: Array<{ segments: string[]; value: unknown }>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const { segments, value } of candidates) {
    let node = values;
    for (const seg of segments.slice(0, -1)) {
      if (typeof node[seg] !== 'object' || node[seg] === null) node[seg] = {};
      node = node[seg] as Record<string, unknown>;
    }
    node[segments.at(-1) as string] = structuredClone(value);
  }
  return values;
}

/** Kubernetes quantities may come back as numbers from hand-written YAML; the schema wants strings. */
function normaliseResources(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      typeof inner === 'object' && inner !== null && !Array.isArray(inner)
        ? Object.fromEntries(Object.entries(inner).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]))
        : inner,
    ]),
  );
}

function containerField(kind: ContainerKind, name: string): string {
  return `${kind === 'container' ? 'containers' : 'initContainers'}[${name}]`;
}

const podSpec = podTemplateSpec;
const containersOf = (pod: Record<string, unknown>, key: 'containers' | 'initContainers') => containerList<Container>(pod, key);

function emptyToNull(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value) && value.length === 0) return null;
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return null;
  return value;
}

function registryOf(image: string): string {
  return splitImage(image).repository.split('/')[0] ?? '';
}
