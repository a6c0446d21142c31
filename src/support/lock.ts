/**
 * An exclusive lock on a host directory, so that two runs never interleave. Built on
 * proper-lockfile: an atomic mkdir whose mtime the holder refreshes, so that the lock of a
 * run that was killed goes stale and is taken over instead of blocking every later night.
 * The lock directory holds an owner file (pid, start time, boot id, host name): a lock
 * whose owner no longer runs on this machine is taken over at once, without waiting for
 * the stale time.
 */
import * as fs from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import lockfile from 'proper-lockfile';
import { LockError } from '../errors.js';
import type { Logger } from './logger.js';
import { currentProcess, isStillRunning, type ProcessIdentity } from './process-identity.js';

/** A lock not refreshed for this long is taken over (its holder hung or was killed). */
const STALE_MS = 30_000;
/** The owner file, inside the lock directory, so that it always belongs to that lock. */
const OWNER_FILE = 'owner.json';

/** Who holds a lock: the process, and the machine it runs on. */
export interface LockOwner extends ProcessIdentity {
  /** `os.hostname()` of the machine the owner runs on (locks may sit on a shared file system). */
  readonly hostName: string;
}

export interface LockOptions {
  /** How long to wait for another run to finish, in seconds. 0 = fail at once. */
  readonly waitSeconds?: number;
  /** Stops the wait (an interrupted run); the wait then ends with the signal's reason. */
  readonly abortSignal?: AbortSignal | undefined;
  /** Told when the lock of a run that no longer runs is taken over. */
  readonly logger?: Logger | undefined;
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
 * proper-lockfile removes a lock with rmdir (on release, on a stale takeover and at exit);
 * the owner file inside must go first. It is written as the directory is made, before
 * proper-lockfile sets and records the directory's mtime: a file written into it later
 * changed that mtime, and the first refresh, 10 s on, then took the lock for compromised
 * (the run failed with "taken over by another run", and left its lock behind).
 */
function lockFsFor(owner: LockOwner): typeof fs {
  return {
    ...fs,
    mkdir(path: fs.PathLike, callback: fs.NoParamCallback): void {
      fs.mkdir(path, (error) => {
        if (error !== null) {
          callback(error);
          return;
        }
        // Without its owner file, the lock keeps the age rule: a run killed before it is
        // written blocks for 30 s, never the other way round (a live lock taken over).
        fs.writeFile(join(String(path), OWNER_FILE), JSON.stringify(owner), () => {
          callback(null);
        });
      });
    },
    rmdir(path: fs.PathLike, callback: fs.NoParamCallback): void {
      fs.unlink(join(String(path), OWNER_FILE), () => {
        fs.rmdir(path, callback);
      });
    },
    rmdirSync(path: fs.PathLike): void {
      try {
        fs.unlinkSync(join(String(path), OWNER_FILE));
      } catch {
        // Not written yet, or already gone.
      }
      fs.rmdirSync(path);
    },
  } as typeof fs;
}

/**
 * Takes the lock at `lockPath` (a directory is created there). A lock whose owner file names
 * a process of this machine that no longer runs is taken over at once (logged at `warn`);
 * one of another machine, or without an owner file, only once not refreshed for 30 s.
 * Throws {@link LockError} when another live run holds it past `waitSeconds`.
 */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<HeldLock> {
  await mkdir(dirname(lockPath), { recursive: true });
  const state = { compromised: false };
  const lockFs = lockFsFor({ ...currentProcess(), hostName: hostname() });
  const waitMs = Math.max(0, (options.waitSeconds ?? 0) * 1000);
  const takeOnce = (): Promise<() => Promise<void>> =>
    lockfile.lock(lockPath, {
      realpath: false,
      lockfilePath: lockPath,
      stale: STALE_MS,
      update: 10_000,
      retries: 0,
      fs: lockFs,
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
        if ((error as { code?: string }).code !== 'ELOCKED') throw error;
        // A holder killed with kill -9 leaves a lock that would block for STALE_MS; when its
        // owner is known to be gone, take it over at once (also while waiting).
        const gone = await removeIfOwnerGone(lockPath);
        if (gone !== undefined) {
          options.logger?.warn(
            `took over the lock ${lockPath} of run ${String(gone.pid)}, which no longer runs`,
          );
          continue;
        }
        if (Date.now() >= deadline) throw error;
        await pause(500, options.abortSignal);
      }
    }
  };
  let release: () => Promise<void>;
  try {
    release = await take();
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOCKED') {
      throw new LockError(`another schema_backup run holds the lock ${lockPath}`, {
        hint: 'Wait for it to finish (check with `pgrep -af schema_backup`), or pass --wait-lock SECONDS. A lock left by a killed run of this machine is taken over at once; one of another machine (or without its owner file) goes stale after 30 seconds.',
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
 * Removes the lock at `lockPath` if its owner file names a process of this machine (same
 * host name and boot id) that no longer runs. Returns that owner, or undefined when the lock
 * was left alone (owner alive, of another machine, unknown, or the lock already gone).
 */
async function removeIfOwnerGone(lockPath: string): Promise<LockOwner | undefined> {
  const owner = await readOwner(lockPath);
  if (owner === undefined || !isGoneFromThisMachine(owner)) return undefined;
  // Moved aside before it is removed, and its owner read again: if another run took the
  // lock over in between, what was moved is that run's live lock, which goes back.
  const aside = `${lockPath}.gone-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return undefined;
  }
  const moved = await readOwner(aside);
  if (moved === undefined || !isSameOwner(moved, owner)) {
    await rename(aside, lockPath).catch(() => undefined);
    return undefined;
  }
  await rm(aside, { recursive: true, force: true });
  return owner;
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(join(lockPath, OWNER_FILE), 'utf8')) as Partial<
      Record<keyof LockOwner, unknown>
    >;
    if (typeof owner.pid !== 'number' || typeof owner.hostName !== 'string') return undefined;
    return owner as LockOwner;
  } catch {
    return undefined;
  }
}

/** Whether `owner` ran on this machine (since its last boot) and runs no more. */
function isGoneFromThisMachine(owner: LockOwner): boolean {
  if (owner.hostName !== hostname()) return false;
  // Another machine with the same name, or this one before a reboot: the age rule decides.
  const here = currentProcess();
  if (owner.bootId === undefined || owner.bootId !== here.bootId) return false;
  return !isStillRunning(owner);
}

function isSameOwner(a: LockOwner, b: LockOwner): boolean {
  return (
    a.pid === b.pid &&
    a.startTicks === b.startTicks &&
    a.bootId === b.bootId &&
    a.hostName === b.hostName
  );
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
