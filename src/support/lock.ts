/**
 * An exclusive lock on a host directory, so that two runs never interleave. Built on
 * proper-lockfile: an atomic mkdir whose mtime the holder refreshes, so that the lock of a
 * run that was killed goes stale and is taken over instead of blocking every later night.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { LockError } from '../errors.js';

export interface LockOptions {
  /** How long to wait for another run to finish, in seconds. 0 = fail at once. */
  readonly waitSeconds?: number;
}

/** Releases the lock; safe to call twice. */
export type ReleaseLock = () => Promise<void>;

/**
 * Takes the lock at `lockPath` (a directory is created there). Throws {@link LockError} when
 * another live run holds it past `waitSeconds`.
 */
export async function acquireLock(
  lockPath: string,
  options: LockOptions = {},
): Promise<ReleaseLock> {
  await mkdir(dirname(lockPath), { recursive: true });
  const waitMs = Math.max(0, (options.waitSeconds ?? 0) * 1000);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(lockPath, {
      realpath: false,
      lockfilePath: lockPath,
      stale: 30_000,
      update: 10_000,
      retries:
        waitMs === 0
          ? 0
          : { retries: Math.ceil(waitMs / 500), minTimeout: 500, maxTimeout: 500, factor: 1 },
      onCompromised: () => {
        // The lock was taken over (we stalled past `stale`); the run goes on, and the commit
        // is still serialised by git's own index lock.
      },
    });
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
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await release().catch(() => undefined);
  };
}
