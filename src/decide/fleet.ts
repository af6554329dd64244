/**
 * Pure: the verdict on one cluster of a fleet, from the same deciders the single-cluster commands use
 * (status's findings, check's readiness rule, plan's planner), and what the whole fleet comes to: the JSON
 * document (schemas/fleet.schema.json), the exit code and the GitHub Actions matrix.
 */
import type { AddonOwner, ClusterFacts, Finding } from '../domain.js';
import { ownerFinding, ownerOf, withOwnerRemediation } from './owner.js';
import { VpccniError } from '../errors.js';
import { checkReadiness, installedVersion } from './checks/index.js';
import { buildPlanReport, buildStatusReport, planFromFacts } from './reports.js';
import { formatKubernetesVersion, parseKubernetesVersion } from '../upgrade-planner/version.js';

/** What a fleet run asks of every cluster. */
export type FleetMode =
  | { kind: 'status' }
  | { kind: 'check'; kubernetesVersion?: string }
  | { kind: 'plan'; to: string };

/** Who a row is about, and as whom it was read. */
export interface FleetIdentity {
  cluster: string;
  region: string;
  account: string | null;
  profile?: string;
  roleArn?: string;
}

/** One row of the fleet document. */
export interface FleetRow extends FleetIdentity {
  /** The installed vpc-cni version (the add-on's, else the aws-node image's). */
  version: string | null;
  kubernetesVersion: string | null;
  managed: boolean | null;
  pass: boolean;
  /** What readiness was judged for: the Kubernetes version (check) or the add-on version (plan). */
  target: string | null;
  /** The add-on version `vpccni upgrade --to` should take the cluster to, when one is known. */
  upgradeTo: string | null;
  /** The versions of the plan's steps (plan), else of the suggested upgrade. */
  steps: string[];
  /** Who owns the add-on (its tags, `--owner-tag`); null when nothing says or the cluster was not read. */
  owner: AddonOwner | null;
  findings: Finding[];
  error: string | null;
}

/** The `fleet … --output json` document. */
export interface FleetReport {
  schemaVersion: 1;
  command: FleetMode['kind'];
  pass: boolean;
  clusters: FleetRow[];
}

/** The next minor of a Kubernetes version (`1.29` → `1.30`). */
function nextMinor(version: string): string {
  const { major, minor } = parseKubernetesVersion(version);
  return `${major}.${minor + 1}`;
}

/** The verdict on one cluster whose facts were read. */
export function decideCluster(identity: FleetIdentity, facts: ClusterFacts, mode: FleetMode): FleetRow {
  const base = {
    ...identity,
    account: identity.account ?? accountOfClusterArn(facts.cluster.arn),
    version: installedVersion(facts),
    kubernetesVersion: facts.cluster.kubernetesVersion,
    managed: facts.addon.managed,
    owner: ownerOf(facts),
    error: null,
  };
  if (mode.kind === 'check') {
    const readiness = checkReadiness(facts, mode.kubernetesVersion ?? nextMinor(facts.cluster.kubernetesVersion));
    return {
      ...base,
      pass: readiness.pass,
      target: readiness.kubernetesVersion,
      upgradeTo: readiness.suggestedUpgrade?.to ?? null,
      steps: readiness.suggestedUpgrade?.steps.map((s) => s.to) ?? [],
      findings: readiness.pass
        ? readiness.findings
        : [...withOwnerRemediation(readiness.findings, base.owner, readiness.suggestedUpgrade?.steps.map((s) => s.to) ?? []), ...ownerFinding(base.owner)],
    };
  }
  if (mode.kind === 'plan') {
    const installed = base.version;
    let findings: Finding[];
    let steps: string[] = [];
    let to: string | null = null;
    if (!installed) {
      findings = [
        {
          id: 'no-upgrade-path',
          severity: 'error',
          message: 'The cluster has neither a vpc-cni add-on nor an aws-node DaemonSet with a readable version; there is nothing to plan from.',
        },
      ];
    } else {
      try {
        const report = buildPlanReport(facts, planFromFacts(facts, installed, mode.to));
        findings = report.findings;
        steps = report.steps.map((s) => s.to);
        to = report.to;
      } catch (error) {
        if (!(error instanceof VpccniError)) throw error;
        findings = [{ id: 'no-upgrade-path', severity: 'error', message: error.message }];
      }
    }
    const pass = !findings.some((f) => f.severity === 'error');
    return { ...base, pass, target: to ?? mode.to, upgradeTo: steps.length > 0 ? to : null, steps, findings };
  }
  const report = buildStatusReport(facts);
  return {
    ...base,
    pass: !report.findings.some((f) => f.severity === 'error'),
    target: null,
    upgradeTo: report.upgradePath.at(-1) ?? null,
    steps: report.upgradePath,
    findings: report.findings,
  };
}

/** The row of a cluster (or of a whole account and region, `cluster: "*"`) that could not be read. */
export function failedRow(identity: FleetIdentity, error: string): FleetRow {
  return { ...identity, version: null, kubernetesVersion: null, managed: null, pass: false, target: null, upgradeTo: null, steps: [], owner: null, findings: [], error };
}

/** `arn:aws:eks:<region>:<account>:cluster/<name>` → the account. */
export function accountOfClusterArn(arn: string | null): string | null {
  return (arn && /^arn:aws[a-z-]*:eks:[^:]*:(\d{12}):/.exec(arn)?.[1]) || null;
}

/** Rows in a stable order: region, account, cluster. */
export function sortRows(rows: FleetRow[]): FleetRow[] {
  const key = (r: FleetRow) => `${r.region}\u0000${r.account ?? ''}\u0000${r.cluster}`;
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The JSON document. */
export function fleetReport(mode: FleetMode, rows: FleetRow[]): FleetReport {
  const clusters = sortRows(rows);
  return { schemaVersion: 1, command: mode.kind, pass: clusters.length > 0 && clusters.every((r) => r.pass), clusters };
}

/** 3 when some cluster or account could not be read, else 1 when any is not ready, else 0. */
export function fleetExitCode(rows: FleetRow[]): 0 | 1 | 3 {
  if (rows.some((r) => r.error !== null)) return 3;
  return rows.some((r) => !r.pass) ? 1 : 0;
}

/** The findings that keep a cluster from passing. */
export function blockingFindings(row: FleetRow): Finding[] {
  return row.findings.filter((f) => f.severity === 'error');
}

/** One job of the GitHub Actions matrix: the cluster and what `vpccni upgrade` needs. */
export interface MatrixEntry {
  cluster: string;
  region: string;
  account: string | null;
  to: string;
  profile?: string;
  roleArn?: string;
}

/**
 * `{"include": [...]}` of the clusters that are not ready and that an upgrade can fix: check's clusters that
 * fail with a suggested upgrade, plan's clusters with steps to take, status's clusters with an error finding
 * and a newer version. Unreadable clusters are not in it (they make the exit code 3), nor are clusters whose
 * add-on infrastructure code owns (`owner`): a `vpccni upgrade` job would be reverted by the owner's next run, so
 * their pins move in the owner instead (`notUpgradable` names them with that reason).
 */
export function githubMatrix(mode: FleetMode, rows: FleetRow[]): { include: MatrixEntry[] } {
  const wanted = sortRows(rows).filter((r) => {
    if (r.error !== null || r.upgradeTo === null || r.owner !== null) return false;
    return mode.kind === 'plan' ? r.pass : !r.pass;
  });
  return {
    include: wanted.map((r) => ({
      cluster: r.cluster,
      region: r.region,
      account: r.account,
      to: r.upgradeTo!,
      ...(r.profile ? { profile: r.profile } : {}),
      ...(r.roleArn ? { roleArn: r.roleArn } : {}),
    })),
  };
}

/** The not-ready clusters the matrix leaves out because no upgrade fixes them (said on stderr). */
export function notUpgradable(mode: FleetMode, rows: FleetRow[]): FleetRow[] {
  const inMatrix = new Set(githubMatrix(mode, rows).include.map((e) => `${e.region}/${e.account}/${e.cluster}`));
  return sortRows(rows).filter((r) => r.error === null && !r.pass && !inMatrix.has(`${r.region}/${r.account}/${r.cluster}`));
}

/** `--kubernetes-version` as `x.y`, refused (exit 2) before any call when malformed. */
export function normaliseKubernetesVersion(text: string): string {
  return formatKubernetesVersion(text);
}
