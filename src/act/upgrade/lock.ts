/**
 * The journal lock: one upgrade of a cluster at a time from one backup directory. A lock file created with
 * O_EXCL holds `{pid, host, startedAt}`; a second run stops at once and says who holds it. A lock left by a
 * process that is gone (same host, pid not running) is taken over; one from another host never is.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
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

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock of `journalFile` or throws a UsageError naming the holder. `me` is for tests (default:
 * this process on this host).
 */
export async function acquireJournalLock(journalFile: string, me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }): Promise<JournalLock> {
  const path = lockPath(journalFile);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(me)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return {
        path,
        async release() {
          const owner = await readOwner(path);
          if (owner && owner.pid === me.pid && owner.host === me.host && owner.startedAt === me.startedAt) {
            await unlink(path).catch(() => undefined);
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(path);
    if (owner && owner.host === me.host && owner.pid !== me.pid && !alive(owner.pid)) {
      // Left by a run that is gone: take it over (remove, then race for O_EXCL again).
      await unlink(path).catch(() => undefined);
      continue;
    }
    const who = owner ? `process ${owner.pid} on ${owner.host}, started ${owner.startedAt}` : 'another run (the lock file is unreadable)';
    throw new UsageError(
      `Another vpccni upgrade of this cluster is running from this backup directory (${who}); wait for it to finish, or delete ${path} if that process is gone.`,
    );
  }
  throw new UsageError(`Could not take the upgrade lock ${path}; try again.`);
}
