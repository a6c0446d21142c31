/**
 * The lock's owner file (issue 17): a lock whose owner no longer runs on this machine is
 * taken over at once; one written on another machine (a shared file system) or without an
 * owner file keeps the age rule (30 s without a refresh). Real directories, real processes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockError } from '../../../src/errors.js';
import { acquireLock } from '../../../src/support/lock.js';
import { createMemoryLogger } from '../../../src/support/logger.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const BOOT_ID = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();

/** The pid of a process that has run and ended. */
function deadPid(): number {
  return spawnSync('true').pid;
}

/**
 * A lock left by a killed run: its directory, last refreshed `ageSeconds` ago, and the owner
 * file it wrote (when `hostName` is given).
 */
async function leftLock(hostName: string | undefined, ageSeconds: number): Promise<string> {
  const lockPath = join(await createTempDir('lock'), 'h.lock');
  await mkdir(lockPath);
  if (hostName !== undefined)
    await writeFile(
      join(lockPath, 'owner.json'),
      JSON.stringify({ pid: deadPid(), startTicks: '1', bootId: BOOT_ID, hostName }),
    );
  const when = new Date(Date.now() - ageSeconds * 1000);
  await utimes(lockPath, when, when);
  return lockPath;
}

describe('lock owner', () => {
  it('a dead owner of this machine: taken over at once, with a log line', async () => {
    const lockPath = await leftLock(hostname(), 0);
    const logger = createMemoryLogger();
    const lock = await acquireLock(lockPath, { logger });
    await lock.release();
    expect(logger.lines.map((line) => `${line.level}: ${line.message}`)).toEqual([
      expect.stringMatching(/^warn: took over the lock .* of run \d+, which no longer runs$/),
    ]);
    expect(existsSync(lockPath)).toBe(false);
  });

  it('a dead owner of another machine keeps the age rule: refused, then taken over at 30 s', async () => {
    const fresh = await leftLock('elsewhere.example.org', 5);
    const logger = createMemoryLogger();
    await expect(acquireLock(fresh, { logger })).rejects.toThrow(LockError);
    expect(existsSync(join(fresh, 'owner.json'))).toBe(true);

    const old = await leftLock('elsewhere.example.org', 31);
    const lock = await acquireLock(old, { logger });
    const owner = JSON.parse(await readFile(join(old, 'owner.json'), 'utf8')) as {
      pid: number;
      hostName: string;
    };
    expect(owner).toMatchObject({ pid: process.pid, hostName: hostname() });
    await lock.release();
    expect(existsSync(old)).toBe(false);
    expect(logger.lines).toEqual([]);
  });

  it('a lock without an owner file keeps the age rule', async () => {
    await expect(acquireLock(await leftLock(undefined, 5))).rejects.toThrow(LockError);
    const lock = await acquireLock(await leftLock(undefined, 31));
    await lock.release();
  });

  it('a live owner of this machine blocks', async () => {
    const lockPath = await createTempDir('lock').then((dir) => join(dir, 'h.lock'));
    const held = await acquireLock(lockPath);
    try {
      const owner = JSON.parse(await readFile(join(lockPath, 'owner.json'), 'utf8')) as {
        pid: number;
      };
      expect(owner.pid).toBe(process.pid);
      await expect(acquireLock(lockPath)).rejects.toThrow(LockError);
    } finally {
      await held.release();
    }
    expect(existsSync(lockPath)).toBe(false);
  });

  it('stays held past its first refresh (10 s), and is removed on release', async () => {
    // The owner file was written into the lock directory after proper-lockfile recorded its
    // mtime: the refresh 10 s on took the lock for compromised, so a snapshot of more than
    // 10 s failed ("taken over by another run") and left its lock behind (issue 17).
    const lockPath = await createTempDir('lock').then((dir) => join(dir, 'h.lock'));
    const held = await acquireLock(lockPath);
    try {
      await new Promise((resolve) => setTimeout(resolve, 11_500));
      expect(() => {
        held.assertHeld();
      }).not.toThrow();
    } finally {
      await held.release();
    }
    expect(existsSync(lockPath)).toBe(false);
  }, 30_000);
});
