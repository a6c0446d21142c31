/**
 * An exclusive lock on a host directory, so that two runs never interleave. Built on
 * proper-lockfile: an atomic mkdir whose mtime the holder refreshes, so that the lock of a
 * run that was killed goes stale and is taken over instead of blocking every later night.
 */
import { mkdir, readFile, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { LockError } from '../errors.js';
import { currentProcess, isStillRunning, type ProcessIdentity } from './process-identity.js';

/** A lock not refreshed for this long is taken over (its holder hung or was killed). */
const STALE_MS = 30_000;
/** A lock younger than this is never taken over early: its owner file may not be written yet. */
const TAKEOVER_MIN_AGE_MS = 2_000;

export interface LockOptions {
  /** How long to wait for another run to finish, in seconds. 0 = fail at once. */
  readonly waitSeconds?: number;
  /** Stops the wait (an interrupted run); the wait then ends with the signal's reason. */
  readonly abortSignal?: AbortSignal | undefined;
}

/** Releases the lock; safe to call twice. */
export interface HeldLock {
  /** Releases the lock; safe to call twice. */
  release(): Promise<void>;
  /**
   * Throws {@link LockError} if the lock was taken over (this run stalled past the stale
   * time and another run took it): the caller must not write or commit after that.
   */
  assertHeld(): void;
}

/**
 * Takes the lock at `lockPath` (a directory is created there). Throws {@link LockError} when
 * another live run holds it past `waitSeconds`.
 */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<HeldLock> {
  await mkdir(dirname(lockPath), { recursive: true });
  const state = { compromised: false };
  const waitMs = Math.max(0, (options.waitSeconds ?? 0) * 1000);
  const takeOnce = (): Promise<() => Promise<void>> =>
    lockfile.lock(lockPath, {
      realpath: false,
      lockfilePath: lockPath,
      stale: STALE_MS,
      update: 10_000,
      retries: 0,
      onCompromised: () => {
        state.compromised = true;
      },
    });
  // Waits here rather than in proper-lockfile's retries, so that an interruption ends it.
  const deadline = Date.now() + waitMs;
  const take = async (): Promise<() => Promise<void>> => {
    for (;;) {
      try {
        return await takeOnce();
      } catch (error) {
        if ((error as { code?: string }).code !== 'ELOCKED' || Date.now() >= deadline) throw error;
        await pause(500, options.abortSignal);
      }
    }
  };
  let release: () => Promise<void>;
  try {
    try {
      release = await take();
    } catch (error) {
      // A holder killed with kill -9 leaves a lock that would block for STALE_MS; when its
      // owner is known to be gone, take it over at once.
      if ((error as { code?: string }).code !== 'ELOCKED' || !(await removeIfOwnerGone(lockPath)))
        throw error;
      release = await take();
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOCKED') {
      throw new LockError(`another schema_backup run holds the lock ${lockPath}`, {
        hint: 'Wait for it to finish (check with `pgrep -af schema_backup`), or pass --wait-lock SECONDS. A lock left by a killed run goes stale after 30 seconds.',
        cause: error,
      });
    }
    throw new LockError(`could not take the lock ${lockPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const ownerFile = `${lockPath}.owner`;
  await writeFile(ownerFile, JSON.stringify(currentProcess())).catch(() => undefined);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await unlink(ownerFile).catch(() => undefined);
      await release().catch(() => undefined);
    },
    assertHeld() {
      if (state.compromised) {
        throw new LockError(
          `the lock ${lockPath} was taken over by another run while this one stalled`,
          {
            hint: 'Nothing was written by this run; the other run goes on. Run again once it has finished.',
          },
        );
      }
    },
  };
}

/**
 * Removes the lock at `lockPath` if its owner file names a process that no longer runs (and
 * the lock is not brand new). Returns whether it did.
 */
async function removeIfOwnerGone(lockPath: string): Promise<boolean> {
  try {
    const owner = JSON.parse(await readFile(`${lockPath}.owner`, 'utf8')) as ProcessIdentity;
    if (typeof owner.pid !== 'number' || isStillRunning(owner)) return false;
    const { mtimeMs } = await stat(lockPath);
    if (Date.now() - mtimeMs < TAKEOVER_MIN_AGE_MS) return false;
    await rmdir(lockPath);
    await unlink(`${lockPath}.owner`).catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}

/** Waits `ms`; rejects with the signal's reason when it aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
