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
  sameRelease,
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
  /**
   * The releases (`v1.13.4`) whose upstream manifest vpccni ships: the versions a self-managed `apply` step
   * can install. Without them no `apply` step is planned.
   */
  manifests?: readonly string[];
  /** Stay self-managed: every step applies the upstream manifest of its version (`upgrade --self-managed`). */
  selfManaged?: boolean;
  /** Adopt a self-managed install with one CreateAddon straight at the target, skipping minors (`--jump`). */
  jump?: boolean;
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
  const minors: number[] = [];
  for (let m = fromMinor + direction; direction !== 0 && m !== toMinor; m += direction) minors.push(m);
  const usableIn = (m: number) => offered.find((o) => minorIndex(o.parsed) === m && !isExcluded(o.version, context));
  const whyNot = (m: number): string => {
    const inMinor = offered.filter((o) => minorIndex(o.parsed) === m);
    return inMinor.length === 0
      ? `EKS offers no ${labelOf(m)} version for Kubernetes ${k8s}`
      : `every ${labelOf(m)} version offered for Kubernetes ${k8s} is excluded by a known issue (${dedupe(inMinor.flatMap((o) => advisoriesFor(o.version, context).filter((f) => f.severity === 'error'))).map((f) => f.id).join(', ')})`;
  };

  if (!input.managed && input.jump) {
    findings.push(...advisoriesFor(to, context));
    if (minors.length > 0) {
      findings.push({
        id: 'jump-skips-minors',
        severity: 'warning',
        message: `CreateAddon goes from ${from} straight to ${to}, skipping ${minors.map(labelOf).join(', ')}; the one-minor-at-a-time rule guards against exactly this (settings and defaults that changed in between are not migrated step by step).`,
        remediation: 'Leave out --jump to move one minor at a time.',
      });
    }
    return { from, to, steps: [{ from, to, action: 'create' }], findings: dedupe(findings) };
  }

  // An old self-managed install: where EKS offers no version of the next minors for this Kubernetes version,
  // move by the upstream manifests up to the first minor from which EKS offers every minor to the target.
  let adoptAt = 0;
  if (!input.managed && direction > 0) {
    while (adoptAt < minors.length && minors.slice(adoptAt).some((m) => !usableIn(m))) adoptAt++;
  }
  const path: Array<{ version: string; action: PlanStep['action'] }> = [];
  for (const [i, m] of minors.entries()) {
    if (i < adoptAt) {
      const manifest = manifestIn(input.manifests ?? [], m, null, context);
      if (!manifest) throw new UsageError(`Cannot plan from ${from} to ${to}: ${whyNot(m)}, and vpccni ships no upstream manifest of ${labelOf(m)} to move the self-managed install by; choose a target in a reachable minor.`);
      path.push({ version: manifest, action: 'apply' });
      findings.push(...advisoriesFor(manifest, context));
      continue;
    }
    const usable = usableIn(m);
    if (!usable) {
      throw new UsageError(`Cannot plan from ${from} to ${to}: ${whyNot(m)}, and EKS moves one minor version at a time; choose a target in a reachable minor.`);
    }
    path.push({ version: usable.version, action: 'update' });
    findings.push(...advisoriesFor(usable.version, context));
  }
  path.push({ version: to, action: 'update' });
  findings.push(...advisoriesFor(to, context));
  if (adoptAt > 0) {
    const applied = path.slice(0, adoptAt).map((p) => p.version);
    const createdAt = path[adoptAt]!.version;
    findings.push({
      id: 'adopt-through-manifests',
      severity: 'info',
      message: `${describeGaps(minors.slice(0, adoptAt), (m) => offered.some((o) => minorIndex(o.parsed) === m), whyNot, k8s)}; so the self-managed install moves by the upstream manifests of ${applied.join(', ')} (server-side apply, custom settings carried over) and is adopted with CreateAddon at ${createdAt}.`,
      remediation: `To adopt it with one CreateAddon at ${to} instead, skipping ${[...minors].map(labelOf).join(', ')}, pass --jump.`,
    });
  }

  const steps: PlanStep[] = [];
  let previous = from;
  let created = input.managed;
  for (const { version, action } of path) {
    const a: PlanStep['action'] = action === 'apply' ? 'apply' : created ? 'update' : 'create';
    if (a === 'create') created = true;
    steps.push({ from: previous, to: version, action: a });
    previous = version;
  }
  return { from, to, steps, findings: dedupe(findings) };
}

/** "EKS offers no v1.13, v1.14 or v1.15 version for Kubernetes 1.30", and each excluded minor's reason. */
function describeGaps(minors: number[], anyOffered: (m: number) => boolean, whyNot: (m: number) => string, k8s: string): string {
  const none = minors.filter((m) => !anyOffered(m)).map(labelOf);
  const parts: string[] = [];
  if (none.length > 0) {
    const list = none.length === 1 ? none[0] : `${none.slice(0, -1).join(', ')} or ${none.at(-1)}`;
    parts.push(`EKS offers no ${list} version for Kubernetes ${k8s}`);
  }
  for (const m of minors.filter(anyOffered)) parts.push(whyNot(m));
  return parts.join('; ');
}

function labelOf(m: number): string {
  return `v${Math.floor(m / 1000)}.${m % 1000}`;
}

/**
 * The shipped manifest release to install for minor `m`: the release of `preferred` when it is shipped, else
 * the newest shipped release of the minor no error advisory excludes; null when none.
 */
function manifestIn(manifests: readonly string[], m: number, preferred: AddonVersion | null, context: AdvisoryContext): string | null {
  const inMinor = manifests
    .map((v) => ({ v, p: tryParseAddonVersion(v) }))
    .filter((x): x is { v: string; p: AddonVersion } => x.p !== null && minorIndex(x.p) === m && !isExcluded(x.v, context))
    .sort((a, b) => compareAddonVersions(b.p, a.p));
  const exact = preferred ? inMinor.find((x) => sameRelease(x.p, preferred)) : undefined;
  return (exact ?? inMinor[0])?.v ?? null;
}

/**
 * Plans a self-managed walk (`upgrade --self-managed`): every step applies a shipped upstream manifest, one
 * minor at a time; each step takes the release EKS would pick for that minor and Kubernetes version when
 * vpccni ships its manifest, else the newest shipped release of the minor. `latest` and `default` resolve
 * through the catalogue as for the add-on, then to the release's manifest.
 */
export function planSelfManaged(input: PlanInput): UpgradePlan {
  const k8s = formatKubernetesVersion(input.kubernetesVersion);
  const running: AdvisoryContext = { ...input.context, kubernetesVersion: k8s };
  const context = shippedContext(running);
  const manifests = input.manifests ?? [];
  const from = input.installed.trim();
  if (input.managed) {
    throw new UsageError(`The vpc-cni add-on is managed by EKS (${from}), so --self-managed cannot apply manifests over it; leave out --self-managed, or delete the add-on with \`aws eks delete-addon --preserve\` first.`);
  }
  const installed = parseAddonVersion(from);
  const wanted = input.target.trim().toLowerCase();
  let target: AddonVersion;
  if (wanted === 'latest' || wanted === 'default') {
    const eks = versionsFor(input.catalogue, k8s).length > 0 ? resolveTarget({ ...input, kubernetesVersion: k8s, context }) : null;
    const newest = manifests.map((v) => tryParseAddonVersion(v)).filter((p): p is AddonVersion => p !== null && !isExcluded(formatAddonVersion(p), context)).sort((a, b) => compareAddonVersions(b, a))[0];
    const picked = eks ? parseAddonVersion(eks) : newest;
    if (!picked) throw new UsageError('vpccni ships no upstream manifest to move to; choose a version with --to.');
    const release = manifestIn(manifests, minorIndex(picked), picked, context);
    if (!release) throw new UsageError(`vpccni ships no upstream manifest of ${labelOf(minorIndex(picked))} (EKS's ${wanted} for Kubernetes ${k8s} is ${formatAddonVersion(picked)}); choose a version with --to.`);
    target = parseAddonVersion(release);
  } else {
    const asked = parseAddonVersion(input.target);
    const release = manifests.find((v) => { const p = tryParseAddonVersion(v); return p !== null && sameRelease(p, asked); });
    if (!release) {
      const same = manifests.filter((v) => { const p = tryParseAddonVersion(v); return p !== null && minorIndex(p) === minorIndex(asked); });
      throw new UsageError(`vpccni ships no upstream manifest of ${formatAddonVersion({ ...asked, build: null })}${same.length > 0 ? ` (of ${labelOf(minorIndex(asked))} it ships ${same.join(', ')})` : ''}; choose a shipped release with --to.`);
    }
    target = parseAddonVersion(release);
  }
  const to = formatAddonVersion(target);
  if (installed.major !== target.major) {
    throw new UsageError(`Cannot plan from ${from} to ${to} across major versions; move one minor version at a time within a major.`);
  }
  if (sameRelease(installed, target)) return { from, to, steps: [], findings: advisoriesFor(to, running) };

  const findings: Finding[] = [];
  const fromMinor = minorIndex(installed);
  const toMinor = minorIndex(target);
  const direction = Math.sign(toMinor - fromMinor);
  const path: string[] = [];
  const offered = offeredFor(input.catalogue, k8s);
  for (let m = fromMinor + direction; direction !== 0 && m !== toMinor; m += direction) {
    const eksPick = offered.find((o) => minorIndex(o.parsed) === m && !isExcluded(o.version, context));
    const release = manifestIn(manifests, m, eksPick?.parsed ?? null, context);
    if (!release) throw new UsageError(`Cannot plan from ${from} to ${to}: vpccni ships no upstream manifest of ${labelOf(m)}, and the install moves one minor version at a time; choose a target in a reachable minor.`);
    path.push(release);
    findings.push(...advisoriesFor(release, context));
  }
  path.push(to);
  findings.push(...advisoriesFor(to, context));
  const steps: PlanStep[] = [];
  let previous = from;
  for (const version of path) {
    steps.push({ from: previous, to: version, action: 'apply' });
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
