/**
 * The rclone store against the real rclone: a local-path remote and an SFTP remote (a real
 * sshd on 127.0.0.1). Upload, check (a tampered remote file is found), list, download,
 * delete; and no credential in what it logs or throws.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffsiteError } from '../../../src/errors.js';
import { RcloneRemote } from '../../../src/offsite/rclone-remote.js';
import type { Logger } from '../../../src/support/logger.js';
import {
  localRemote,
  startSftpServer,
  type SftpServer,
  type TestRemote,
} from '../../helpers/offsite-remotes.js';
import { createTempDir } from '../../helpers/temp-dir.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

function recordingLogger(lines: string[]): Logger {
  const push = (message: string): void => {
    lines.push(message);
  };
  return { debug: push, info: push, warn: push, error: push };
}

async function exercise(remote: TestRemote): Promise<void> {
  const lines: string[] = [];
  const store = new RcloneRemote({
    remote: remote.remote,
    configFile: remote.configFile,
    timeoutSeconds: 60,
    logger: recordingLogger(lines),
  });
  const local = await createTempDir('offsite-src');
  const copy = join(local, '2026-01-02T03-04-05Z');
  await mkdir(copy);
  await writeFile(join(copy, 'a.sql.age'), 'age-encryption.org/v1\nAAAA');
  await writeFile(join(copy, 'manifest.json'), '{}');

  expect(await store.list('h1')).toEqual([]);
  await store.upload(copy, 'h1/user-data/2026-01-02T03-04-05Z', ['a.sql.age']);
  await store.upload(copy, 'h1/user-data/2026-01-02T03-04-05Z');
  expect(await store.check('upload', copy, 'h1/user-data/2026-01-02T03-04-05Z')).toMatch(
    /hash|download/,
  );
  const listed = await store.list('h1');
  expect(
    listed
      .filter((entry) => !entry.isDir)
      .map((entry) => entry.path)
      .sort(),
  ).toEqual([
    'user-data/2026-01-02T03-04-05Z/a.sql.age',
    'user-data/2026-01-02T03-04-05Z/manifest.json',
  ]);

  // Same size, other bytes: only a hash (or reading both sides) tells them apart.
  const remoteFile = join(remote.root, 'h1/user-data/2026-01-02T03-04-05Z/a.sql.age');
  await writeFile(remoteFile, 'age-encryption.org/v1\nBBBB');
  const tampered = await store
    .check('upload', copy, 'h1/user-data/2026-01-02T03-04-05Z')
    .catch((error: unknown) => error);
  expect(tampered).toBeInstanceOf(OffsiteError);
  expect((tampered as Error).message).toMatch(/differences: .*a\.sql\.age/);

  const down = await mkdtemp(join(tmpdir(), 'offsite-down-'));
  try {
    await store.download('h1/user-data/2026-01-02T03-04-05Z', join(down, 'c'));
    await store.check('download', join(down, 'c'), 'h1/user-data/2026-01-02T03-04-05Z');
    expect(await readFile(join(down, 'c/a.sql.age'), 'utf8')).toContain('BBBB');
  } finally {
    await rm(down, { recursive: true, force: true });
  }

  await store.deleteFile('h1/user-data/2026-01-02T03-04-05Z/manifest.json');
  await store.deleteDirectory('h1/user-data/2026-01-02T03-04-05Z');
  expect((await store.list('h1')).filter((entry) => !entry.isDir)).toEqual([]);

  const broken = new RcloneRemote({
    remote: 'offsite_nowhere:x',
    configFile: remote.configFile,
    timeoutSeconds: 30,
    logger: recordingLogger(lines),
  });
  const failure = await broken.upload(copy, 'h1').catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(OffsiteError);
  expect((failure as Error).message).toMatch(/upload to offsite_nowhere:x\/h1 failed/);
  for (const secret of remote.secrets) {
    expect(lines.join('\n')).not.toContain(secret);
    expect((failure as Error).message).not.toContain(secret);
  }
}

describe('rclone store', () => {
  it('works against a local-path remote', async () => {
    await exercise(await localRemote());
  });

  describe('against an SFTP remote (sshd on 127.0.0.1)', () => {
    let server: SftpServer | undefined;
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'offsite-sshd-'));
      server = await startSftpServer(dir);
    });
    afterAll(async () => {
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('uploads, checks, lists, downloads and deletes', async () => {
      if (server === undefined) throw new Error('sshd did not start');
      await exercise(server);
    });

    it('checks by reading both sides where the remote has no hash (sftp without md5sum)', async () => {
      if (server === undefined) throw new Error('sshd did not start');
      const configFile = join(dir, 'rclone-nohash.conf');
      const base = await readFile(server.configFile, 'utf8');
      await writeFile(configFile, `${base.trimEnd()}\ndisable_hashcheck = true\n`, { mode: 0o600 });
      const store = new RcloneRemote({
        remote: server.remote,
        configFile,
        timeoutSeconds: 60,
        logger: recordingLogger([]),
      });
      const local = await createTempDir('offsite-nohash');
      await writeFile(join(local, 'd.sql.age'), 'age-encryption.org/v1\nCCCC');
      await store.upload(local, 'nohash', ['d.sql.age']);
      expect(await store.check('upload', local, 'nohash', ['d.sql.age'])).toBe('download');
      await writeFile(join(server.root, 'nohash/d.sql.age'), 'age-encryption.org/v1\nDDDD');
      await expect(store.check('upload', local, 'nohash', ['d.sql.age'])).rejects.toThrow(
        /differences/,
      );
    });
  });
});
