/**
 * Everything an upgrade decides before its first change: the configuration values each step will carry
 * (adopting a self-managed install's custom settings), their validation against every step's schema, the
 * IAM role, and what OVERWRITE would reset. Pure over gathered facts and fetched schemas.
 */
import { eksImageRegistry, isEksRegistryHost } from './registries.js';
import { oidcProviderArnFor, trustAllowsAwsNode } from './checks/index.js';
import type { AdoptionResult } from './config/adoption.js';
import { settingsResetByOverwrite, type ResetSetting } from './config/overwrite-diff.js';
import { validateConfigurationValues, type ConfigProblem } from './config/validate.js';
import { parseStoredConfigurationValues } from './config/values.js';
import type { ClusterFacts, PlanStep, RoleInfo } from '../domain.js';
import { UsageError } from '../errors.js';
import { splitImage, type KubeObject } from './manifests.js';
import { desiredDaemonSet, type ConfigurationValues } from './addon-render.js';
import { compareSettings, liveInstall, managedBaseline, upstreamBaseline, type SettingDifference, type SettingsComparison } from './settings/index.js';
import type { GatheredFacts } from '../gather/facts.js';

/** The configuration values of an upgrade: what each step sends, and what the add-on will hold. */
export interface StepValues {
  /** The text sent with every CreateAddon/UpdateAddon, or undefined to keep what EKS stores. */
  text: string | undefined;
  /** The values the add-on will hold after the first step (validated against every step's schema). */
  effective: Record<string, unknown>;
  adoption: AdoptionResult | null;
  /** The fate of every custom setting on the first step (null without an aws-node DaemonSet). */
  settings: SettingsComparison | null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep-merges `over` onto `base` (objects merge, everything else is replaced). */
export function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? mergeValues(current, value) : value;
  }
  return out;
}

/**
 * Decides the values: a self-managed install's custom settings become configuration values for the create
 * step (the user's `--configuration-values` win where both set a key); a managed add-on keeps what EKS
 * stores unless the user gives values.
 */
export function decideValues(
  facts: ClusterFacts,
  steps: Array<PlanStep & { resolveConflicts?: 'PRESERVE' | 'OVERWRITE' | 'NONE' | null }>,
  user: { value: Record<string, unknown>; text: string } | null,
  firstSchema: string,
  schemas?: ReadonlyMap<string, string>,
): StepValues {
  const stored = parseStoredConfigurationValues(facts.addon.configurationValues);
  // The first EKS step; manifest (`apply`) steps before it carry the running install's settings as they are,
  // so its custom settings are still judged against the upstream manifest of the running version.
  const eks = steps.find((s) => s.action !== 'apply');
  const first = eks ? { ...eks, from: steps[0]!.from } : undefined;
  const firstSettings = first ? settingsOfStep(facts, first, user?.value ?? null, firstSchema) : null;
  const settings = first && firstSettings && schemas ? withLossesPerStep(firstSettings, facts, steps, first, user?.value ?? null, schemas) : firstSettings;
  if (first?.action === 'create' && settings) {
    const adoption: AdoptionResult = {
      values: settings.values,
      carried: [...new Set(settings.carried.map((d) => d.valuesPath as string))].map((path) => ({ path, value: valueAt(settings.values, path) })),
      unsupported: settings.lost.map((d) => ({ path: d.path, value: d.current ?? null, reason: d.reason })),
    };
    const effective = settings.values;
    const text = Object.keys(effective).length > 0 ? JSON.stringify(effective) : user?.text;
    return { text, effective, adoption, settings };
  }
  // An update under OVERWRITE carries the drift the schema can hold (set with kubectl: an env var, a node agent
  // flag) into the values it sends, on top of the user's values or the stored ones, rather than reset it.
  if (first?.action === 'update' && settings && settings.carried.length > 0) {
    const adoption: AdoptionResult = {
      values: settings.values,
      carried: [...new Set(settings.carried.map((d) => d.valuesPath as string))].map((path) => ({ path, value: valueAt(settings.values, path) })),
      unsupported: settings.lost.map((d) => ({ path: d.path, value: d.current ?? null, reason: d.reason })),
    };
    return { text: JSON.stringify(settings.values), effective: settings.values, adoption, settings };
  }
  if (user) return { text: user.text, effective: user.value, adoption: null, settings };
  return { text: undefined, effective: stored, adoption: null, settings };
}

/**
 * What each EKS step of a walk loses, computed separately: the first step as adoption or drift decides, then
 * every later step against its own version and schema. A setting is lost at the first step that loses it
 * (a setting the v1.13 schema cannot carry is lost at the v1.13 step, even though v1.14's could); each lost
 * setting names its step.
 */
export function withLossesPerStep(
  firstSettings: SettingsComparison,
  facts: ClusterFacts,
  steps: Array<PlanStep & { resolveConflicts?: 'PRESERVE' | 'OVERWRITE' | 'NONE' | null }>,
  first: PlanStep & { resolveConflicts?: 'PRESERVE' | 'OVERWRITE' | 'NONE' | null },
  userValues: Record<string, unknown> | null,
  schemas: ReadonlyMap<string, string>,
): SettingsComparison {
  const of = steps.length;
  const firstIndex = steps.findIndex((s) => s.action !== 'apply');
  const at = (index: number) => ({ number: index + 1, of, to: steps[index]!.to });
  const lost = firstSettings.lost.map((d) => ({ ...d, step: at(firstIndex) }));
  const seen = new Set(lost.map((d) => d.path));
  steps.forEach((step, index) => {
    const schema = schemas.get(step.to);
    if (index <= firstIndex || step.action === 'apply' || schema === undefined) return;
    // A later step sends the user's values, else EKS keeps what the first step stored: nothing new is carried.
    const sent = userValues ?? firstSettings.values;
    const later = settingsOfStep(facts, { ...first, to: step.to, resolveConflicts: step.resolveConflicts ?? first.resolveConflicts ?? null }, userValues, schema, sent);
    for (const d of later?.lost ?? []) {
      if (seen.has(d.path)) continue;
      seen.add(d.path);
      lost.push({ ...d, step: at(index) });
    }
  });
  const laterPaths = new Set(lost.filter((d) => d.step.number !== firstIndex + 1).map((d) => d.path));
  const kept = firstSettings.kept.filter((d) => !laterPaths.has(d.path));
  const carried = firstSettings.carried.filter((d) => !laterPaths.has(d.path));
  const differences = [...carried, ...kept, ...lost].sort((a, b) => a.path.localeCompare(b.path));
  return { ...firstSettings, differences, carried, kept, lost };
}

function valueAt(values: Record<string, unknown>, path: string): unknown {
  let node: unknown = values;
  for (const seg of path.split('.')) node = isObject(node) ? node[seg] : undefined;
  return node;
}

/**
 * The fate of every custom setting of the live install when EKS applies `step`: a create adopts (custom
 * settings against the upstream manifest of the running version, carried into values where the schema has
 * a place); an update compares the drift against what EKS rendered with the stored values, and keeps the
 * values it is given (the user's, else the stored ones).
 */
export function settingsOfStep(
  facts: ClusterFacts,
  step: PlanStep & { resolveConflicts?: 'PRESERVE' | 'OVERWRITE' | 'NONE' | null },
  userValues: Record<string, unknown> | null,
  schemaText: string,
  /** A later step of a walk: the values it sends are those given here, nothing more is carried. */
  sent?: Record<string, unknown>,
): SettingsComparison | null {
  const raw = (facts as Partial<GatheredFacts>).raw?.objects;
  const live = liveInstall(raw ?? { daemonSet: (facts.daemonSet?.raw as unknown as KubeObject) ?? null });
  if (!live) return null;
  const registry = registryFor(facts);
  const target = { version: step.to, schemaText, registry, ipFamily: facts.cluster.ipFamily };
  const stored = parseStoredConfigurationValues(facts.addon.configurationValues);
  if (step.action === 'create' || !facts.addon.managed || !facts.addon.version) {
    return compareSettings({
      live,
      baseline: upstreamBaseline(step.from, registry),
      target,
      mode: step.resolveConflicts ?? 'NONE',
      ...(sent ? { values: sent, carry: false } : userValues ? { values: userValues } : {}),
    });
  }
  // The baseline is what EKS rendered, from EKS's own registry: a mirror set with kubectl is drift, named.
  const mode = step.resolveConflicts ?? 'PRESERVE';
  return compareSettings({
    live,
    baseline: managedBaseline(facts.addon.version, stored, { registry, ipFamily: facts.cluster.ipFamily }),
    target,
    mode,
    values: sent ?? userValues ?? stored,
    // Under OVERWRITE the drift the schema can hold is carried into the values (on the first EKS step only).
    carry: mode === 'OVERWRITE' && sent === undefined,
  });
}

/** A lost setting as OVERWRITE's preview shows it: `field: current → after`. */
export function asReset(d: SettingDifference): ResetSetting {
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  return { field: d.path, current: d.current === undefined ? '(removed)' : show(d.current), after: d.rendered === undefined ? null : show(d.rendered) };
}

function leafPaths(value: unknown, prefix: string[] = []): string[] {
  if (isObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  }
  return prefix.length > 0 ? [prefix.join('.')] : [];
}

/**
 * The settings the add-on stores now that new `--configuration-values` would remove: EKS replaces the stored
 * values as a whole, it does not merge them.
 */
export function storedValuesDropped(facts: ClusterFacts, user: { value: Record<string, unknown> } | null): string[] {
  if (!user || !facts.addon.managed) return [];
  const kept = new Set(leafPaths(user.value));
  const keptPrefix = (path: string) => [...kept].some((k) => path === k || path.startsWith(`${k}.`));
  return leafPaths(parseStoredConfigurationValues(facts.addon.configurationValues)).filter((p) => !keptPrefix(p));
}

/** Validation problems of the effective values against each step's schema, labelled by version. */
export function valueProblems(values: Record<string, unknown>, schemas: Map<string, string>): Array<ConfigProblem & { version: string }> {
  const problems: Array<ConfigProblem & { version: string }> = [];
  for (const [version, schema] of schemas) {
    for (const problem of validateConfigurationValues(values, schema)) problems.push({ ...problem, version });
  }
  return problems;
}

/**
 * The registry EKS will pull from: the live one when it is EKS's own registry for this region, else the region's
 * (from the user guide's table: China, GovCloud and opt-in regions use other accounts than 602401143452).
 */
export function registryFor(facts: ClusterFacts): string {
  const image = facts.daemonSet?.images['aws-node'];
  const host = image ? splitImage(image).repository.split('/')[0] ?? '' : '';
  const regional = eksImageRegistry(facts.cluster.region);
  if (host !== '' && isEksRegistryHost(host) && host.split('.')[0] === regional.split('.')[0]) return host;
  return regional;
}

/** What OVERWRITE on the first step would reset on the live DaemonSet. */
export function overwriteResets(facts: ClusterFacts, firstVersion: string, effective: Record<string, unknown>): ResetSetting[] {
  if (!facts.daemonSet) return [];
  const desired = desiredDaemonSet(firstVersion, effective as ConfigurationValues, {
    registry: registryFor(facts),
    ipFamily: facts.cluster.ipFamily,
  });
  return settingsResetByOverwrite(facts.daemonSet.raw as unknown as KubeObject, desired);
}

/**
 * Throws a UsageError when the role ARN is of another partition (`arn:aws-cn:` on an `aws` cluster) or
 * another account than the cluster's: IRSA can only assume a role of the cluster's partition, and a role of
 * another account is almost always a typo (checked only when the cluster's ARN is known).
 */
export function assertRoleFitsCluster(roleArn: string, clusterArn: string | null): void {
  const role = /^arn:([a-z-]+):iam::(\d{12}):role\//.exec(roleArn);
  const cluster = clusterArn ? /^arn:([a-z-]+):eks:[a-z0-9-]+:(\d{12}):cluster\//.exec(clusterArn) : null;
  if (!role || !cluster) return;
  if (role[1] !== cluster[1]) {
    throw new UsageError(`The role ${roleArn} is in partition ${role[1]}, but the cluster ${clusterArn} is in ${cluster[1]}; use a role ARN that starts with arn:${cluster[1]}:iam::.`);
  }
  if (role[2] !== cluster[2]) {
    throw new UsageError(`The role ${roleArn} is in account ${role[2]}, but the cluster ${clusterArn} is in account ${cluster[2]}; use a role of the cluster's account.`);
  }
}

/** Throws a UsageError unless the role exists and trusts this cluster's OIDC provider for aws-node. */
export function assertRoleUsable(role: RoleInfo, issuer: string | null, providerArns: string[]): void {
  if (!role.exists) {
    throw new UsageError(`The IAM role ${role.arn} does not exist; create it (eksctl create iamserviceaccount, or the EKS user guide's "Configure the Amazon VPC CNI plugin to use IRSA") or fix --service-account-role-arn.`);
  }
  if (!issuer) {
    throw new UsageError('The cluster has no OIDC issuer, so a service account role cannot be used; create an IAM OIDC provider for the cluster first (eksctl utils associate-iam-oidc-provider).');
  }
  const provider = oidcProviderArnFor(role.arn, issuer);
  if (!provider || !providerArns.includes(provider)) {
    throw new UsageError(`The cluster's IAM OIDC provider ${provider ?? issuer} does not exist; create it (eksctl utils associate-iam-oidc-provider --cluster <name> --approve) before using a service account role.`);
  }
  const host = issuer.replace(/^https:\/\//, '').replace(/\/+$/, '');
  if (!trustAllowsAwsNode(role.trustPolicy, provider, host)) {
    throw new UsageError(`The IAM role ${role.arn} does not trust ${provider} for system:serviceaccount:kube-system:aws-node with sts:AssumeRoleWithWebIdentity; fix its trust policy.`);
  }
}
