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
  let compromised = false;
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
        compromised = true;
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
  return {
    async release() {
      if (released) return;
      released = true;
      await release().catch(() => undefined);
    },
    assertHeld() {
      if (compromised) {
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
