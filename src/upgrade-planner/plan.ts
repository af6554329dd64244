/**
 * The upgrade planner: from the running version to a target, one minor version per step, never through a
 * version an applicable advisory marks as an error. Pure: no I/O, no clock.
 */
import type { CatalogueEntry, Finding, PlanStep } from '../domain.js';
import { UsageError } from '../errors.js';
import { advisoriesFor, isExcluded, type AdvisoryContext } from './advisories.js';
import { defaultFor, kubernetesVersionsOffering, versionsFor } from './catalogue.js';
import {
  compareAddonVersions,
  formatAddonVersion,
  formatKubernetesVersion,
  minorIndex,
  parseAddonVersion,
  tryParseAddonVersion,
  versionMatches,
  type AddonVersion,
} from './version.js';

export type { AdvisoryContext } from './advisories.js';

/** What the planner needs: where the cluster is, where to go, and what EKS offers. */
export interface PlanInput {
  /** The running version, e.g. `v1.12.6-eksbuild.2`, or a plain `v1.12.6` for a self-managed install. */
  installed: string;
  /** True when the EKS add-on exists (every step updates); false for self-managed (first step creates). */
  managed: boolean;
  /** `latest`, `default`, or a version with or without `v` and build. */
  target: string;
  catalogue: CatalogueEntry[];
  kubernetesVersion: string;
  context: AdvisoryContext;
}

/** A planned path: `from` the running version `to` the exact target, with the findings that apply. */
export interface UpgradePlan {
  from: string;
  to: string;
  steps: PlanStep[];
  findings: Finding[];
}

interface Offered {
  version: string;
  parsed: AddonVersion;
}

function offeredFor(catalogue: CatalogueEntry[], kubernetesVersion: string): Offered[] {
  const out: Offered[] = [];
  for (const entry of versionsFor(catalogue, kubernetesVersion)) {
    const parsed = tryParseAddonVersion(entry.version);
    if (parsed) out.push({ version: entry.version, parsed });
  }
  return out; // newest first
}

/** The context a version runs in once EKS has installed it: its own manifest's node agent, present. */
export function shippedContext(context: AdvisoryContext): AdvisoryContext {
  return { ...context, nodeAgentPresent: true, nodeAgentImageTag: null, networkPolicyEnforcingModeSet: context.networkPolicyEnforcingModeSet };
}

/** Resolves `latest`, `default` or a (partial) version to the exact version string of the catalogue. */
export function resolveTarget(input: Pick<PlanInput, 'target' | 'catalogue' | 'kubernetesVersion' | 'context'>): string {
  const k8s = formatKubernetesVersion(input.kubernetesVersion);
  const offered = offeredFor(input.catalogue, k8s);
  const wanted = input.target.trim().toLowerCase();
  if (wanted === 'latest') {
    const newest = offered.find((o) => !isExcluded(o.version, shippedContext({ ...input.context, kubernetesVersion: k8s }))) ?? offered[0];
    if (!newest) throw new UsageError(`EKS offers no vpc-cni version for Kubernetes ${k8s}; check the cluster version with \`aws eks describe-addon-versions --addon-name vpc-cni --kubernetes-version ${k8s}\`.`);
    return newest.version;
  }
  if (wanted === 'default') {
    const found = defaultFor(input.catalogue, k8s);
    if (!found) throw new UsageError(`EKS marks no vpc-cni version as default for Kubernetes ${k8s}; use \`--to latest\` or an explicit version.`);
    return found;
  }
  const parsed = parseAddonVersion(input.target);
  const shown = formatAddonVersion(parsed);
  const known = input.catalogue.some((e) => {
    const p = tryParseAddonVersion(e.version);
    return p !== null && versionMatches(parsed, p);
  });
  if (!known) {
    throw new UsageError(
      `${shown} is not a vpc-cni version EKS offers; run \`vpccni plan --to latest\` or see \`aws eks describe-addon-versions --addon-name vpc-cni\`.`,
    );
  }
  const match = offered.find((o) => versionMatches(parsed, o.parsed));
  if (!match) {
    const ks = kubernetesVersionsOffering(input.catalogue, shown);
    const where = ks.length > 0 ? `it is offered for Kubernetes ${ks.join(', ')}` : 'it is offered for no Kubernetes version';
    throw new UsageError(
      `${shown} is not offered for Kubernetes ${k8s} (${where}); choose a version offered for ${k8s}, for example with \`vpccni plan --to latest\`.`,
    );
  }
  return match.version;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    const key = `${f.id}\u0000${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

/**
 * Plans the path from `installed` to `target`: one minor per step (up or down), each intermediate step the
 * newest usable build of its minor, the last step the exact target. Throws a UsageError when impossible.
 */
export function planUpgrade(input: PlanInput): UpgradePlan {
  const k8s = formatKubernetesVersion(input.kubernetesVersion);
  const running: AdvisoryContext = { ...input.context, kubernetesVersion: k8s };
  // Every step installs its version's whole manifest through EKS, node agent included, so the node agent
  // running today says nothing about the versions we move to.
  const context = shippedContext(running);
  const installed = parseAddonVersion(input.installed);
  const to = resolveTarget({ ...input, kubernetesVersion: k8s, context });
  const target = parseAddonVersion(to);
  const from = input.installed.trim();

  if (installed.major !== target.major) {
    throw new UsageError(`Cannot plan from ${from} to ${to} across major versions; EKS moves vpc-cni one minor version at a time within a major.`);
  }

  const findings: Finding[] = [];
  if (input.managed && (from === to || (installed.build !== null && compareAddonVersions(installed, target) === 0))) {
    return { from, to, steps: [], findings: advisoriesFor(to, running) };
  }

  const offered = offeredFor(input.catalogue, k8s);
  const fromMinor = minorIndex(installed);
  const toMinor = minorIndex(target);
  const direction = Math.sign(toMinor - fromMinor);
  const path: string[] = [];
  for (let m = fromMinor + direction; direction !== 0 && m !== toMinor; m += direction) {
    const inMinor = offered.filter((o) => minorIndex(o.parsed) === m);
    const usable = inMinor.find((o) => !isExcluded(o.version, context));
    const label = `v${Math.floor(m / 1000)}.${m % 1000}`;
    if (!usable) {
      const why =
        inMinor.length === 0
          ? `EKS offers no ${label} version for Kubernetes ${k8s}`
          : `every ${label} version offered for Kubernetes ${k8s} is excluded by a known issue (${dedupe(inMinor.flatMap((o) => advisoriesFor(o.version, context).filter((f) => f.severity === 'error'))).map((f) => f.id).join(', ')})`;
      throw new UsageError(`Cannot plan from ${from} to ${to}: ${why}, and EKS moves one minor version at a time; choose a target in a reachable minor.`);
    }
    path.push(usable.version);
    findings.push(...advisoriesFor(usable.version, context));
  }
  path.push(to);
  findings.push(...advisoriesFor(to, context));

  const steps: PlanStep[] = [];
  let previous = from;
  for (const version of path) {
    steps.push({ from: previous, to: version, action: steps.length === 0 && !input.managed ? 'create' : 'update' });
    previous = version;
  }
  return { from, to, steps, findings: dedupe(findings) };
}

/** True when the plan ends on an older version than it starts from (a downgrade). */
export function isDowngrade(plan: UpgradePlan): boolean {
  const a = tryParseAddonVersion(plan.from);
  const b = tryParseAddonVersion(plan.to);
  return a !== null && b !== null && compareAddonVersions(b, a) < 0;
}
