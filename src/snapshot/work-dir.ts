/** The work directory beside the host directories: locks, staging, keys, service records. */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../support/atomic-write.js';
import { acquireLock, type HeldLock } from '../support/lock.js';
import type { Logger } from '../support/logger.js';
import { WORK_DIR_NAME } from './layout.js';

/** `<backupDir>/.schema_backup`, made if missing. It ignores itself, so nothing in it reaches git. */
export async function ensureWorkDir(workDir: string): Promise<void> {
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const ignoreFile = join(workDir, '.gitignore');
  if (!existsSync(ignoreFile)) await writeFileAtomic(ignoreFile, '*\n');
}

export function workDirOf(backupDir: string): string {
  return join(backupDir, WORK_DIR_NAME);
}

export interface HostLockOptions {
  /** How long to wait for another run, in seconds (0: fail at once). */
  readonly waitSeconds: number;
  /** Ends the wait (an interrupted run). */
  readonly abortSignal?: AbortSignal | undefined;
  /** Told when the lock of a killed run is taken over. */
  readonly logger?: Logger | undefined;
}

/**
 * Takes the lock of `<backupDir>/<host>`: one run at a time per host directory. The lock of a
 * run of this machine that no longer runs is taken over at once (and logged). Waits up to
 * `waitSeconds` for a live run, then fails with a LockError.
 */
export async function acquireHostLock(
  backupDir: string,
  host: string,
  options: HostLockOptions,
): Promise<HeldLock> {
  const workDir = workDirOf(backupDir);
  await ensureWorkDir(workDir);
  return acquireLock(join(workDir, `${host}.lock`), options);
}

/**
 * Runs `work` holding the lock of `<backupDir>/<host>` (see {@link acquireHostLock}) and
 * releases it however `work` ends. A lock the caller already holds for a longer workflow
 * (`heldLock`) is used as it is and not released.
 */
export async function withHostLock<T>(
  backupDir: string,
  host: string,
  options: HostLockOptions & { readonly heldLock?: HeldLock | undefined },
  work: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  if (options.heldLock !== undefined) return work(options.heldLock);
  const lock = await acquireHostLock(backupDir, host, options);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}
