/**
 * One model of the add-on's settings, used by adoption, the OVERWRITE preview, PRESERVE drift and restore:
 * what the live install sets differently from its baseline (the upstream manifest of the running version for
 * a self-managed install, what EKS last applied for a managed one), and what becomes of each such setting
 * when EKS applies the target version.
 *
 * Every difference ends up as exactly one of:
 * - `carried`: written into the configuration values (`valuesPath`, a path of the target's schema), so EKS
 *   renders it;
 * - `kept`: EKS does not own the field (it does not render it), or PRESERVE keeps the value on the cluster,
 *   or the target version's default is the same, so it stays as it is;
 * - `lost`: EKS resets or removes it. Every lost setting is named, and an upgrade refuses without
 *   `--accept-setting-loss`. (Under NONE a field EKS owns and renders otherwise is `kept` with `conflict`:
 *   EKS stops with a conflict rather than change it.)
 *
 * The ownership rules follow server-side apply with EKS's field manager: EKS owns the fields it renders;
 * lists keyed by name (env, containers, volumes, volumeMounts) and maps (nodeSelector, annotations) are
 * owned entry by entry, while `args`, `command`, `tolerations`, `affinity`, `updateStrategy` and an image are
 * owned whole. Pure: no I/O.
 */
import { desiredConfigMapData, desiredDaemonSet, desiredEniConfigs, type ConfigurationValues } from '../addon-render.js';
import { isEksImageRegistry } from '../config/adoption.js';
import { schemaAccepts, validateConfigurationValues } from '../config/validate.js';
import { isAbsent, sameSetting, settingLeaves, type InstallObjects, type SettingLeaves } from './leaves.js';

export { settingLeaves, type InstallObjects, type SettingLeaves } from './leaves.js';

/** What becomes of one setting that differs from the baseline. */
export type SettingFate = 'carried' | 'kept' | 'lost';

/** One setting of the live install that differs from its baseline, and its fate. */
export interface SettingDifference {
  /** Stable path (grammar in leaves.ts), e.g. `containers[aws-eks-nodeagent].args.--enable-network-policy`. */
  path: string;
  fate: SettingFate;
  /** The value on the cluster now (undefined when the live install removed it). */
  current: unknown;
  /** The baseline's value (undefined when the baseline does not set it). */
  baseline: unknown;
  /** What EKS renders for the target (undefined when it does not render the field). */
  rendered: unknown;
  /** For `carried`: the configuration values path, e.g. `enableNetworkPolicy` or `env.WARM_IP_TARGET`. */
  valuesPath?: string;
  /** One phrase: why it is carried, kept or lost. */
  reason: string;
  /** True when EKS will stop with a conflict on this field (NONE): kept, but the call fails. */
  conflict?: boolean;
  /** For a walk of several steps: the step that loses it (1-based, of `of`, EKS's call going to `to`). */
  step?: { number: number; of: number; to: string };
}

/** The target EKS renders: its version, configuration schema (the string EKS returns) and registry. */
export interface SettingsTarget {
  version: string;
  schemaText: string;
  /** The registry EKS pulls from for this cluster (see registryFor in upgrade-preflight.ts). */
  registry?: string;
  ipFamily?: 'ipv4' | 'ipv6';
}

/** Everything `compareSettings` needs. */
export interface CompareSettingsInput {
  /** What runs on the cluster now. */
  live: InstallObjects;
  /** What the live install departs from (upstream of the running version, or what EKS last applied). */
  baseline: InstallObjects;
  target: SettingsTarget;
  /** How EKS resolves conflicts on the call (CreateAddon: NONE or OVERWRITE; UpdateAddon: any). */
  mode: 'NONE' | 'OVERWRITE' | 'PRESERVE';
  /**
   * Configuration values the add-on will hold in any case: the user's `--configuration-values` (they win
   * over carried settings), or what EKS stores now. Default {}.
   */
  values?: Record<string, unknown>;
  /** Turn custom settings into configuration values where the schema has a place (adoption). Default true. */
  carry?: boolean;
}

/** The outcome: the values to send, every difference with its fate, and what EKS will render. */
export interface SettingsComparison {
  /** Configuration values: `input.values` plus everything carried. */
  values: Record<string, unknown>;
  /** Every differing setting, sorted by path. */
  differences: SettingDifference[];
  carried: SettingDifference[];
  kept: SettingDifference[];
  lost: SettingDifference[];
  /** What EKS will render for the target with `values`. */
  rendered: InstallObjects;
}

const CNI = 'aws-node';
const INIT = 'aws-vpc-cni-init';
const AGENT = 'aws-eks-nodeagent';

/**
 * Node agent flags that configuration values set (the schema's `nodeAgent` and `enableNetworkPolicy`), as the
 * chart renders them (charts/aws-vpc-cni/templates/daemonset.yaml, v1.21.2, lines 150-159).
 */
const AGENT_FLAGS: Record<string, { path: string[]; toValue: (v: string) => string }> = {
  '--enable-network-policy': { path: ['enableNetworkPolicy'], toValue: (v) => v },
  '--enable-cloudwatch-logs': { path: ['nodeAgent', 'enableCloudWatchLogs'], toValue: (v) => v },
  '--enable-policy-event-logs': { path: ['nodeAgent', 'enablePolicyEventLogs'], toValue: (v) => v },
  '--metrics-bind-addr': { path: ['nodeAgent', 'metricsBindAddr'], toValue: (v) => v.replace(/^:/, '') },
  '--health-probe-bind-addr': { path: ['nodeAgent', 'healthProbeBindAddr'], toValue: (v) => v.replace(/^:/, '') },
  '--log-file': { path: ['nodeAgent', 'networkPolicyAgentLogFileLocation'], toValue: (v) => v },
  '--conntrack-cache-cleanup-period': { path: ['nodeAgent', 'conntrackCacheCleanupPeriod'], toValue: (v) => v },
  '--conntrack-cache-table-size': { path: ['nodeAgent', 'conntrackCacheTableSize'], toValue: (v) => v },
  '--log-level': { path: ['nodeAgent', 'logLevel'], toValue: (v) => v },
};

/** ConfigMap keys that configuration values set. */
const CONFIGMAP_KEYS: Record<string, string[]> = {
  'enable-network-policy-controller': ['enableNetworkPolicy'],
  'enable-windows-ipam': ['enableWindowsIpam'],
  'enable-windows-prefix-delegation': ['enableWindowsPrefixDelegation'],
};

/**
 * Where a custom setting goes in the configuration values, with the value to write there; null when the
 * schema has no place for it. `baseline` is the baseline's value (probes carry only their timeout).
 */
export function valuesPathFor(path: string, current: unknown, baseline: unknown): { path: string[]; value: unknown } | null {
  const env = /^(containers|initContainers)\[([^\]]+)\]\.env\.(.+)$/.exec(path);
  if (env) {
    if (typeof current !== 'string') return null; // valueFrom cannot be set through values
    if (env[1] === 'containers' && env[2] === CNI) return { path: ['env', env[3] as string], value: current };
    if (env[1] === 'initContainers' && env[2] === INIT) return { path: ['init', 'env', env[3] as string], value: current };
    return null;
  }
  if (path === `containers[${CNI}].resources`) return current === undefined ? null : { path: ['resources'], value: current };
  if (path === 'affinity' || path === 'tolerations') return current === undefined ? null : { path: [path], value: current };
  const arg = new RegExp(`^containers\\[${AGENT}\\]\\.args\\.(.+)$`).exec(path);
  if (arg && typeof current === 'string') {
    const flag = AGENT_FLAGS[arg[1] as string];
    return flag ? { path: flag.path, value: flag.toValue(current) } : null;
  }
  const cm = /^configMap\.(.+)$/.exec(path);
  if (cm && typeof current === 'string') {
    const target = CONFIGMAP_KEYS[cm[1] as string];
    return target ? { path: target, value: current } : null;
  }
  const probe = new RegExp(`^containers\\[${CNI}\\]\\.(liveness|readiness)Probe$`).exec(path);
  if (probe && isRecord(current) && isRecord(baseline)) {
    const { timeoutSeconds, ...rest } = current;
    const { timeoutSeconds: _t, ...baseRest } = baseline;
    if (typeof timeoutSeconds === 'number' && sameSetting(rest, baseRest)) {
      return { path: [`${probe[1]}ProbeTimeoutSeconds`], value: timeoutSeconds };
    }
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setAt(values: Record<string, unknown>, path: string[], value: unknown): void {
  let node = values;
  for (const seg of path.slice(0, -1)) {
    if (!isRecord(node[seg])) node[seg] = {};
    node = node[seg] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = structuredClone(value);
}

function hasAt(values: Record<string, unknown>, path: string[]): boolean {
  let node: unknown = values;
  for (const seg of path) {
    if (!isRecord(node) || !(seg in node)) return false;
    node = node[seg];
  }
  return true;
}

/** Deep-merges `over` onto `base` (objects merge, everything else is replaced). */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isRecord(current) && isRecord(value) ? merge(current, value) : structuredClone(value);
  }
  return out;
}

/** Every EKS registry compares as `eks`; anything else as its host. */
function registryClass(host: string): string {
  return isEksImageRegistry(host) ? 'eks' : host;
}

/** The field EKS would own for a leaf: the image for its digest, the whole args list for one argument. */
function ownerOf(path: string): string {
  const image = /^(.+)\.image\.(?:registry|digest)$/.exec(path);
  if (image) return `${image[1]}.image`;
  const args = /^(.+)\.args(?:\.|\[)/.exec(path);
  if (args) return `${args[1]}.args`;
  return path;
}

function ownedFields(leaves: SettingLeaves): Set<string> {
  const owned = new Set<string>();
  for (const path of leaves.keys()) {
    owned.add(path);
    owned.add(ownerOf(path));
  }
  return owned;
}

function text(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? 'nothing';
}

/** The containers compared field by field: those the live install shares with the baseline or the target. */
function knownContainers(...installs: InstallObjects[]): Set<string> {
  const names = new Set<string>();
  for (const install of installs) {
    const pod = ((install.daemonSet.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec ?? {});
    for (const key of ['containers', 'initContainers']) {
      for (const c of (pod[key] as Array<{ name: string }> | undefined) ?? []) names.add(c.name);
    }
  }
  return names;
}

/** What EKS renders for `target` with `values`: the DaemonSet, the ConfigMap and the ENIConfigs of `eniConfig.create`. */
export function renderTarget(target: SettingsTarget, values: Record<string, unknown>): InstallObjects {
  const config = values as ConfigurationValues;
  const eniConfigs = desiredEniConfigs(config);
  return {
    ...(eniConfigs.length > 0 ? { eniConfigs } : {}),
    daemonSet: desiredDaemonSet(target.version, config, {
      ...(target.registry ? { registry: target.registry } : {}),
      ...(target.ipFamily ? { ipFamily: target.ipFamily } : {}),
    }),
    configMap: desiredConfigMapData(target.version, config),
  };
}

/**
 * Compares the live install with its baseline and decides the fate of every difference when EKS applies
 * `target` under `mode`: custom settings are carried into configuration values where the target's schema
 * has a place for them and the values validate (the user's values win), then EKS's rendering with those
 * values decides what is kept and what is lost.
 */
export function compareSettings(input: CompareSettingsInput): SettingsComparison {
  const userValues = input.values ?? {};
  const carry = input.carry ?? true;
  const baseRender = renderTarget(input.target, userValues);
  const known = knownContainers(input.baseline, baseRender);
  const options = { registryOf: registryClass, knownContainers: known };
  const live = settingLeaves(input.live, options);
  const baseline = settingLeaves(input.baseline, options);
  const custom = [...new Set([...live.keys(), ...baseline.keys()])]
    .filter((path) => !sameSetting(live.get(path), baseline.get(path)))
    .sort();

  // Carry what the schema has a place for; the user's values win; whatever fails validation is dropped.
  const candidates = new Map<string, { path: string[]; value: unknown }>();
  if (carry) {
    for (const path of custom) {
      const current = live.get(path);
      if (current === undefined) continue;
      const target = valuesPathFor(path, current, baseline.get(path));
      if (!target || hasAt(userValues, target.path) || !schemaAccepts(input.target.schemaText, target.path)) continue;
      candidates.set(path, target);
    }
  }
  const build = (): Record<string, unknown> => {
    const carried: Record<string, unknown> = {};
    for (const c of candidates.values()) setAt(carried, c.path, c.value);
    return merge(carried, userValues);
  };
  const rejected = new Map<string, string>();
  let values = build();
  for (let round = 0; round < 8 && candidates.size > 0; round++) {
    const problems = validateConfigurationValues(values, input.target.schemaText);
    if (problems.length === 0) break;
    let removed = false;
    for (const problem of problems) {
      for (const [path, c] of candidates) {
        const at = c.path.join('.');
        if (problem.path === '' || problem.path === at || problem.path.startsWith(`${at}.`) || at.startsWith(`${problem.path}.`)) {
          candidates.delete(path);
          rejected.set(path, problem.message.replace(/\.$/, ''));
          removed = true;
        }
      }
    }
    values = build();
    if (!removed) break;
  }

  const rendered = renderTarget(input.target, values);
  const want = settingLeaves(rendered, options);
  const owned = ownedFields(want);
  const differences: SettingDifference[] = custom.map((path) => {
    const current = live.get(path);
    const base = baseline.get(path);
    const renderedValue = want.get(path);
    const entry = { path, current, baseline: base, rendered: renderedValue };
    const carriedTo = candidates.get(path);
    if (sameSetting(current, renderedValue) && (current === undefined) === (renderedValue === undefined)) {
      if (carriedTo) return { ...entry, fate: 'carried', valuesPath: carriedTo.path.join('.'), reason: `carried into configuration values as ${carriedTo.path.join('.')}` };
      return { ...entry, fate: 'kept', reason: current === undefined ? `${input.target.version} does not set it either` : `${input.target.version} renders the same value` };
    }
    const isImage = /\.image\.(registry|digest)$/.test(path);
    if (current === undefined) {
      return { ...entry, fate: 'lost', reason: `it was removed on the cluster; EKS sets it again to ${text(renderedValue)}` };
    }
    if (!owned.has(ownerOf(path)) && !isImage) {
      return { ...entry, fate: 'kept', reason: 'EKS does not render this field, so it stays as it is' };
    }
    const why = lossReason(path, current, renderedValue, rejected.get(path), input);
    if (input.mode === 'PRESERVE' && !isImage) {
      return { ...entry, fate: 'kept', reason: `PRESERVE keeps the value on the cluster (EKS would render ${text(renderedValue)})` };
    }
    if (input.mode === 'NONE' && !isImage) {
      return { ...entry, fate: 'kept', reason: `EKS renders ${text(renderedValue)}: under NONE the call stops with a conflict on it rather than change it`, conflict: true };
    }
    return { ...entry, fate: 'lost', reason: why };
  });
  const by = (fate: SettingFate) => differences.filter((d) => d.fate === fate);
  return { values, differences, carried: by('carried'), kept: by('kept'), lost: by('lost'), rendered };
}

function lossReason(path: string, current: unknown, rendered: unknown, rejected: string | undefined, input: CompareSettingsInput): string {
  const label = `the ${input.target.version} schema`;
  if (path.endsWith('.image.registry')) {
    return `it is pulled from the registry ${String(current)}; EKS pulls its add-on images from its own registry and configuration values cannot change that`;
  }
  if (path.endsWith('.image.digest')) {
    return `the image is pinned to ${String(current)}; EKS renders images by tag, so the pin is dropped`;
  }
  if (rejected) return `${label} refuses it: ${rejected}`;
  if (isRecord(current) && 'valueFrom' in current) {
    return `it takes its value from valueFrom ${JSON.stringify(current.valueFrom)}, and configuration values can only set plain strings`;
  }
  const target = valuesPathFor(path, current, undefined);
  if (target && !schemaAccepts(input.target.schemaText, target.path)) {
    return `${label} has no ${target.path.join('.')}; EKS resets it to ${rendered === undefined ? 'nothing' : text(rendered)}`;
  }
  if (target && hasAt(input.values ?? {}, target.path)) {
    return `--configuration-values sets ${target.path.join('.')} otherwise`;
  }
  return `configuration values have no place for it; EKS ${rendered === undefined ? 'removes it' : `resets it to ${text(rendered)}`}`;
}

/** A difference as one line: `path: current → rendered (reason)`. */
export function describeDifference(d: SettingDifference): string {
  const now = d.current === undefined ? '(removed)' : text(d.current);
  return `${d.path} = ${now}: ${d.reason}`;
}

/** True when `value` is empty (re-exported for callers that build baselines). */
export { isAbsent };
