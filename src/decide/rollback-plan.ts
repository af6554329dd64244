/**
 * The way back of `upgrade --atomic`: from where a stopped walk left the add-on to the version the run
 * started from, one minor at a time, as pure data (no I/O). EKS takes UpdateAddon to an older version one
 * minor at a time ("Updating VPC-CNI can only go up or down 1 minor version at a time", docs/domain.md), so
 * a managed start is walked back by updates through the versions the run passed, the last one carrying the
 * configuration values the add-on had. An adoption started with no add-on: the way back updates down to the
 * version the add-on was created at, deletes the add-on record with `preserve` (aws-node stays) and puts the
 * backup's objects back, which makes the install self-managed at its starting version again. A self-managed
 * run (`apply` steps) goes back by putting the backup's objects back.
 */
import { sameRelease, tryParseAddonVersion } from '../upgrade-planner/version.js';

/** One step of the way back. */
export interface RollbackStep {
  from: string;
  to: string;
  /** `update`: UpdateAddon to `to`; `forget`: DeleteAddon --preserve; `restore`: the backup's objects put back. */
  action: 'update' | 'forget' | 'restore';
  result: 'planned' | 'succeeded' | 'failed';
  error?: string;
}

/** Where the run started: the version, and whether (with which values) the add-on was managed. */
export interface RollbackStart {
  version: string;
  managed: boolean;
  /** The add-on's configuration values at the start (the backup's DescribeAddon record), null for none. */
  configurationValues: string | null;
}

/** Where the cluster is now. */
export interface RollbackPosition {
  managed: boolean;
  /** The add-on record's version (null without a record). */
  version: string | null;
  status: string | null;
  configurationValues: string | null;
  /** The version aws-node's images carry. */
  running: string | null;
}

/** The forward steps of the run, as the journal holds them. */
export interface WalkedStep {
  from: string;
  to: string;
  action: 'create' | 'update' | 'apply';
}

const same = (a: string | null, b: string | null): boolean => {
  const x = a ? tryParseAddonVersion(a) : null;
  const y = b ? tryParseAddonVersion(b) : null;
  return Boolean(x && y && sameRelease(x, y));
};

/** True when two configuration texts say the same (absent and `{}` alike); a text that is not JSON compares as text. */
export function sameValues(a: string | null, b: string | null): boolean {
  const parse = (t: string | null): unknown => {
    if (t === null || t.trim() === '') return {};
    try {
      return JSON.parse(t);
    } catch {
      return t;
    }
  };
  return JSON.stringify(sortKeys(parse(a))) === JSON.stringify(sortKeys(parse(b)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => [k, sortKeys(v)]));
  return value;
}

/**
 * The steps back from `now` to `start`. The versions the run passed are the chain `steps[0].from, steps[i].to…`;
 * the add-on's record says how far along it EKS got. An empty list means the cluster is at the start already.
 */
export function planRollback(steps: WalkedStep[], start: RollbackStart, now: RollbackPosition): RollbackStep[] {
  const step = (from: string, to: string, action: RollbackStep['action']): RollbackStep => ({ from, to, action, result: 'planned' });
  if (steps.some((s) => s.action === 'apply') && !now.managed) {
    return same(now.running, start.version) ? [] : [step(now.running ?? '?', start.version, 'restore')];
  }
  const chain = [steps[0]?.from ?? start.version, ...steps.map((s) => s.to)];
  const out: RollbackStep[] = [];
  if (now.managed && now.version) {
    // The last version of the chain the record is at (a version the run went through twice counts once, at its latest).
    let at = chain.findLastIndex((v) => same(v, now.version));
    if (at < 0) at = chain.length - 1;
    const floor = start.managed ? 0 : 1;
    let version = now.version;
    for (let i = at; i > floor; i--) {
      out.push(step(version, chain[i - 1]!, 'update'));
      version = chain[i - 1]!;
    }
    if (start.managed) {
      // At the start version already but failed, or with other values: one update at that version puts it back.
      const settled = out.length > 0 || (now.status === 'ACTIVE' && sameValues(now.configurationValues, start.configurationValues) && same(now.running, start.version));
      if (!settled) out.push(step(version, start.version, 'update'));
      return out;
    }
    out.push(step(version, version, 'forget'));
    out.push(step(version, start.version, 'restore'));
    return out;
  }
  if (start.managed) return [step(now.running ?? '?', start.version, 'restore')];
  // An adoption whose create never took: aws-node as the backup holds it is all there is to go back to.
  out.push(step(now.running ?? '?', start.version, 'restore'));
  return out;
}
