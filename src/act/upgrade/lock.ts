/**
 * The journal lock: one upgrade of a cluster at a time from one backup directory. The lock file holds
 * `{pid, host, startedAt}` and is never seen half written: the owner is written to a temporary file, synced,
 * and `link(2)`ed into place, which fails if a lock exists. A second run stops at once and says who holds it.
 *
 * A lock left by a process that is gone (same host, pid not running) is taken over without a window in which
 * two runs both win: the right to replace a given dead owner is itself a file created with `link(2)`
 * (`<lock>.claim.<owner>`), so only one run gets it; that run checks the lock still names the dead owner (only
 * a claim holder may change it) and renames its own owner file over it. A claim whose holder died is taken over
 * the same way, one level deeper. One from another host is never taken over.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../../errors.js';

/** What a lock file holds. */
export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/** A held lock; `release` removes the file (only if it is still ours). */
export interface JournalLock {
  path: string;
  release(): Promise<void>;
}

/** The named points of taking the lock, for tests that kill a run at each of them. */
export type LockStep = 'temp-written' | 'linked' | 'claim-linked' | 'claim-checked' | 'renamed' | 'claims-removed';

/** Options for tests: who takes the lock, and a hook called at each step. */
export interface LockOptions {
  me?: LockOwner;
  onStep?: (step: LockStep) => void | Promise<void>;
}

/** How deep claims on claims may go (each level needs a run killed at one exact instant). */
const MAX_CLAIM_DEPTH = 4;

/** The lock file of a journal. */
export function lockPath(journalFile: string): string {
  return `${journalFile}.lock`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isOwner(value: unknown): value is LockOwner {
  const o = value as LockOwner | null;
  return typeof o === 'object' && o !== null && typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.startedAt === 'string';
}

/** The owner a file names with its exact text (to compare), or why there is none. */
async function readOwner(path: string): Promise<{ owner: LockOwner; text: string } | 'absent' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'unreadable';
  }
  try {
    const owner: unknown = JSON.parse(text);
    return isOwner(owner) ? { owner, text } : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** The text of a file that names an owner, or null. */
async function ownerText(path: string): Promise<string | null> {
  const read = await readOwner(path);
  return typeof read === 'object' ? read.text : null;
}

function gone(owner: LockOwner, me: LockOwner): boolean {
  return owner.host === me.host && owner.pid !== me.pid && !alive(owner.pid);
}

/** A short, file-name-safe name for one owner's exact text. */
function idOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Writes the owner into a new temporary file beside `path`, synced; returns its path. */
async function writeTemp(path: string, text: string): Promise<string> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

/** Links `temp` to `target`; false when `target` exists. */
async function linkExclusive(temp: string, target: string): Promise<boolean> {
  try {
    await link(temp, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Removes what runs now gone left behind (best effort): their temporary owner files, and claims on an owner the
 * claimed file no longer names (a run killed between replacing the lock and removing its claim).
 */
async function sweepLeftovers(path: string, me: LockOwner): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
  const temps = names
    .filter((n) => n.endsWith('.tmp'))
    .filter((n) => {
      const pid = Number(n.slice(prefix.length).split('.')[0]);
      return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid);
    });
  const claims: string[] = [];
  for (const n of names.filter((n) => /\.claim\.[0-9a-f]{16}$/.test(n))) {
    const cut = n.lastIndexOf('.claim.');
    const holder = await readOwner(join(dir, n));
    const target = await ownerText(join(dir, n.slice(0, cut)));
    const stale = typeof holder === 'object' && gone(holder.owner, me) && (target === null || idOf(target) !== n.slice(cut + 7));
    if (stale) claims.push(n);
  }
  await Promise.all([...temps, ...claims].map((n) => unlink(join(dir, n)).catch(() => undefined)));
}

/**
 * Takes the lock of `journalFile` or throws a UsageError naming the holder. Tests may pass who takes it and a
 * hook for each step (default: this process on this host).
 */
export async function acquireJournalLock(journalFile: string, options: LockOptions = {}): Promise<JournalLock> {
  const me = options.me ?? { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const step = async (s: LockStep) => options.onStep?.(s);
  const path = lockPath(journalFile);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await sweepLeftovers(path, me);
  const text = `${JSON.stringify(me)}\n`;
  const temp = await writeTemp(path, text);
  await step('temp-written');
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await linkExclusive(temp, path)) {
        await step('linked');
        return held(path, text);
      }
      const current = await readOwner(path);
      if (current === 'absent') continue; // released meanwhile: try again
      if (current === 'unreadable') {
        // This vpccni never leaves one (the owner is linked in whole); an older one could, if killed.
        throw new UsageError(`The upgrade lock ${path} is unreadable (an older vpccni left it); delete it if no upgrade of this cluster is running.`);
      }
      if (gone(current.owner, me)) {
        if (await takeOver(path, current.text, { temp, text }, me, step, 0)) return held(path, text);
        continue;
      }
      const who = `process ${current.owner.pid} on ${current.owner.host}, started ${current.owner.startedAt}`;
      throw new UsageError(
        `Another vpccni upgrade of this cluster is running from this backup directory (${who}); wait for it to finish, or delete ${path} if that process is gone.`,
      );
    }
    throw new UsageError(`Could not take the upgrade lock ${path}; try again.`);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Replaces the lock that names the dead owner `deadText` with ours, if this run wins the claim on that owner.
 * Returns true when the lock is ours; false when another run got there first (the caller looks again).
 */
async function takeOver(
  target: string,
  deadText: string,
  mine: { temp: string; text: string },
  me: LockOwner,
  step: (s: LockStep) => Promise<void>,
  depth: number,
): Promise<boolean> {
  if (depth > MAX_CLAIM_DEPTH) return false;
  const claim = `${target}.claim.${idOf(deadText)}`;
  if (!(await linkExclusive(mine.temp, claim))) {
    // Someone holds the claim: if that run is gone too, claim its claim (one level deeper), then take this one.
    const holder = await readOwner(claim);
    if (typeof holder !== 'object' || !gone(holder.owner, me)) return false;
    if (!(await takeOver(claim, holder.text, mine, me, step, depth + 1))) return false;
  }
  await step('claim-linked');
  // Only the holder of this claim may change `target` now: it must still name the dead owner.
  const replaced = (await ownerText(target)) === deadText;
  await step('claim-checked');
  if (replaced) {
    const fresh = await writeTemp(target, mine.text);
    await rename(fresh, target);
    await step('renamed');
  }
  await removeClaims(target, deadText);
  await step('claims-removed');
  return replaced;
}

/** Removes the claim on a dead owner and any claims on that claim (the run holding them all is this one). */
async function removeClaims(target: string, deadText: string): Promise<void> {
  const claim = `${target}.claim.${idOf(deadText)}`;
  const prefix = `${basename(claim)}.claim.`;
  const names = await readdir(dirname(target)).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => unlink(join(dirname(target), n)).catch(() => undefined)));
  await unlink(claim).catch(() => undefined);
}

function held(path: string, text: string): JournalLock {
  return {
    path,
    async release() {
      if ((await ownerText(path)) === text) await unlink(path).catch(() => undefined);
    },
  };
}
