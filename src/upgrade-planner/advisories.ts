/**
 * Known-bad vpc-cni versions, as data: each advisory (advisories/advisories.json, schemas/advisories.schema.json)
 * names its versions as semver ranges and, in a small declarative form, the facts of the cluster under which it
 * applies. This module only evaluates them: pure, no I/O, no clock. The advisories in force come in with the
 * context (`context.advisories`: the shipped file, or the one `--advisories` names, loaded by src/gather/advisories.ts).
 */
import semver from 'semver';
import type { Finding, Severity } from '../domain.js';
import { readPackageJson } from '../package-files.js';
import { tryParseAddonVersion, type AddonVersion } from './version.js';

/** A condition over the cluster's facts (schemas/advisories.schema.json#/definitions/condition). */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { fact: string; is: boolean }
  | { fact: string; equals: string }
  | { fact: string; notEquals: string }
  | { fact: string; range: string };

/** One known issue of one or more versions, as the advisories file holds it. */
export interface Advisory {
  /** Stable kebab-case id, used as the finding id. */
  id: string;
  /** Semver ranges over major.minor.patch (the eksbuild ignored); affected when any matches. */
  versions: string[];
  /** The advisory applies only when this holds (always when absent). */
  when?: Condition;
  severity: Severity;
  /** Raises the severity to error when this holds. */
  errorWhen?: Condition;
  message: string;
  remediation: string;
  /** Where the knowledge comes from (a quote and a URL). */
  source: string;
}

/** The facts an advisory decides on; null is "unknown" and satisfies no comparison. */
export type FactValue = string | boolean | null;

/** What the advisories decide on: the cluster's settings, as gathered now. */
export interface AdvisoryContext {
  kubernetesVersion: string;
  customNetworking: boolean;
  podEni: boolean;
  /** Tag of the `aws-network-policy-agent` image (e.g. `v1.3.5`), null when unknown or absent. */
  nodeAgentImageTag: string | null;
  nodeAgentPresent: boolean;
  networkPolicyEnforcingModeSet: boolean;
  prometheusAdapterPresent?: boolean | null;
  /** True when the EKS add-on exists; false means the next step creates it over a self-managed install. */
  managed?: boolean;
  eniConfigWithoutSecurityGroups?: boolean;
  podIdentityAssociated?: boolean;
  podIdentityAgentRunning?: boolean | null;
  /** IAM actions → whether the role aws-node uses allows them (null or absent: not read). */
  roleAllows?: Record<string, boolean | null>;
  /** Further facts by their full name (`env.X`, `configMap.k`, `config.k`, `imagePullPolicy.c`, `crd.name`). */
  facts?: Record<string, FactValue>;
  /** The advisories in force; the shipped ones (`SHIPPED_ADVISORIES`) when absent. */
  advisories?: readonly Advisory[];
}

/** An advisories file (schemas/advisories.schema.json). */
export interface AdvisoriesFile {
  schemaVersion: 1;
  updated?: string;
  advisories: Advisory[];
}

// The shipped file is data that comes with the program (like a constant): read once when this module loads.
const shipped: readonly Advisory[] = readPackageJson<AdvisoriesFile>('advisories/advisories.json').advisories;

/** The advisories shipped with this release (advisories/advisories.json), used when a context names none. */
export const SHIPPED_ADVISORIES: readonly Advisory[] = shipped;

/** The value of a fact in `context` by its name in the advisories file. */
export function factValue(context: AdvisoryContext, name: string): FactValue {
  switch (name) {
    case 'kubernetesVersion':
      return context.kubernetesVersion;
    case 'customNetworking':
      return context.customNetworking;
    case 'podEni':
      return context.podEni;
    case 'nodeAgentPresent':
      return context.nodeAgentPresent;
    case 'nodeAgentVersion':
      return context.nodeAgentImageTag;
    case 'networkPolicyEnforcingModeSet':
      return context.networkPolicyEnforcingModeSet;
    case 'prometheusAdapterPresent':
      return context.prometheusAdapterPresent ?? null;
    case 'managed':
      return context.managed ?? null;
    case 'adopting':
      return context.managed === undefined ? null : !context.managed;
    case 'eniConfigWithoutSecurityGroups':
      return context.eniConfigWithoutSecurityGroups ?? null;
    case 'podIdentityAssociated':
      return context.podIdentityAssociated ?? null;
    case 'podIdentityAgentRunning':
      return context.podIdentityAgentRunning ?? null;
  }
  if (name.startsWith('role.allows.')) return context.roleAllows?.[name.slice('role.allows.'.length)] ?? null;
  return context.facts?.[name] ?? null;
}

/** `v1.4.1-eksbuild.1`, `1.27` → a semver (`1.4.1`, `1.27.0`), or null. */
function asSemver(value: string): string | null {
  return semver.coerce(value)?.version ?? null;
}

/** Each range's parsed form, made once (every cluster of a fleet, every step of a plan, tests the same ones); null when invalid. */
const ranges = new Map<string, semver.Range | null>();

/** `semver.satisfies`, with the range parsed once. */
function satisfies(version: string | semver.SemVer, range: string): boolean {
  let parsed = ranges.get(range);
  if (parsed === undefined) {
    try {
      parsed = new semver.Range(range);
    } catch {
      parsed = null;
    }
    if (ranges.size < 10_000) ranges.set(range, parsed);
  }
  return parsed !== null && parsed.test(version);
}

/** True when `condition` holds over `context`. */
export function holds(condition: Condition, context: AdvisoryContext): boolean {
  if ('all' in condition) return condition.all.every((c) => holds(c, context));
  if ('any' in condition) return condition.any.some((c) => holds(c, context));
  if ('not' in condition) return !holds(condition.not, context);
  const value = factValue(context, condition.fact);
  if (value === null) return false;
  if ('is' in condition) return value === condition.is;
  if ('equals' in condition) return String(value) === condition.equals;
  if ('notEquals' in condition) return String(value) !== condition.notEquals;
  const version = typeof value === 'string' ? asSemver(value) : null;
  return version !== null && satisfies(version, condition.range);
}

/** True when the advisory's ranges include the release of `version`. */
export function affects(advisory: Advisory, version: AddonVersion): boolean {
  const release = semver.parse(`${version.major}.${version.minor}.${version.patch}`);
  return release !== null && advisory.versions.some((range) => satisfies(release, range));
}

/** The severity of `advisory` in `context`, or null when it does not apply. */
export function severityIn(advisory: Advisory, context: AdvisoryContext): Severity | null {
  if (advisory.when && !holds(advisory.when, context)) return null;
  if (advisory.errorWhen && holds(advisory.errorWhen, context)) return 'error';
  return advisory.severity;
}

/** `>=1.12.5 <1.13.2` → `v1.12.5 – v1.13.1`-style text for people: the ranges as written, joined. */
export function versionsText(advisory: Advisory): string {
  return advisory.versions.map((r) => (r === '*' ? 'every version' : r)).join(' or ');
}

/** The findings of every advisory that applies to `version` in `context` (none for an unparseable version). */
export function advisoriesFor(version: string, context: AdvisoryContext): Finding[] {
  const parsed = tryParseAddonVersion(version);
  if (!parsed) return [];
  const findings: Finding[] = [];
  for (const advisory of context.advisories ?? shipped) {
    if (!affects(advisory, parsed)) continue;
    const severity = severityIn(advisory, context);
    if (severity === null) continue;
    findings.push({
      id: advisory.id,
      severity,
      message: `${version}: ${advisory.message}`,
      remediation: advisory.remediation,
    });
  }
  return findings;
}

/** True when an advisory of severity error applies to `version` in `context`: never plan through it. */
export function isExcluded(version: string, context: AdvisoryContext): boolean {
  return advisoriesFor(version, context).some((f) => f.severity === 'error');
}

/** The shipped advisories (an alias kept for existing callers). */
export const ADVISORIES = SHIPPED_ADVISORIES;
