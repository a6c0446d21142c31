import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  renameDurably,
  syncDirectory,
  temporaryPathFor,
  writeFileAtomic,
} from '../../src/support/atomic-write.js';
import { createTempDir } from '../helpers/temp-dir.js';

describe('temporaryPathFor', () => {
  it('is a hidden sibling, unique per call', () => {
    const path = '/var/backups/host/auth_user.sql';
    const first = temporaryPathFor(path);
    const second = temporaryPathFor(path);
    expect(dirname(first)).toBe('/var/backups/host');
    expect(basename(first)).toMatch(/^\.auth_user\.sql\.[0-9a-f]{12}\.tmp$/);
    expect(first).not.toBe(second);
  });
});

describe('writeFileAtomic', () => {
  it('creates a file with the content, mode 0644 by default (less the umask)', async () => {
    const dir = await createTempDir('atomic');
    const path = join(dir, 'new.sql');
    await writeFileAtomic(path, 'hello\n');
    expect(await readFile(path, 'utf8')).toBe('hello\n');
    const mode = (await stat(path)).mode & 0o777;
    expect(mode & 0o600).toBe(0o600);
    expect(mode & 0o133).toBe(0);
    expect(await readdir(dir)).toEqual(['new.sql']);
  });

  it('respects the mode asked for', async () => {
    const dir = await createTempDir('atomic');
    const path = join(dir, 'secret');
    await writeFileAtomic(path, 'x', { mode: 0o600 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await writeFileAtomic(path, 'y', { mode: 0o640 });
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });

  it('replaces the destination with a new file', async () => {
    const dir = await createTempDir('atomic');
    const path = join(dir, 't.sql');
    await writeFile(path, 'old content that is longer\n', { mode: 0o600 });
    const before = await stat(path);
    await writeFileAtomic(path, 'new\n');
    expect(await readFile(path, 'utf8')).toBe('new\n');
    const after = await stat(path);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).not.toBe(0o600);
    expect(await readdir(dir)).toEqual(['t.sql']);
  });

  it('writes bytes as they are', async () => {
    const dir = await createTempDir('atomic');
    const path = join(dir, 'bin');
    const bytes = new Uint8Array([0, 255, 10, 13, 0x1a]);
    await writeFileAtomic(path, bytes);
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);
    await writeFileAtomic(path, '');
    expect((await stat(path)).size).toBe(0);
  });

  it('removes the temporary file and keeps the destination when the rename fails', async () => {
    const dir = await createTempDir('atomic');
    const path = join(dir, 'target');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'keep');
    const error = (await writeFileAtomic(path, 'data').catch((caught: unknown) => caught)) as {
      code?: string;
    };
    expect(error.code).toMatch(/^E(ISDIR|NOTEMPTY|EXIST)$/);
    expect((await readdir(dir)).sort()).toEqual(['target']);
    expect(await readFile(join(path, 'inside'), 'utf8')).toBe('keep');
  });

  it('removes the temporary file and keeps the destination when the write fails', async () => {
    const dir = await createTempDir('atomic');
    const path = join(dir, 'target.sql');
    await writeFile(path, 'original');
    await expect(writeFileAtomic(path, 42 as unknown as string)).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['target.sql']);
    expect(await readFile(path, 'utf8')).toBe('original');
  });

  it('fails without leaving anything when the directory does not exist', async () => {
    const dir = await createTempDir('atomic');
    await expect(writeFileAtomic(join(dir, 'missing', 'f'), 'x')).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('renameDurably and syncDirectory', () => {
  it('moves a file over another', async () => {
    const dir = await createTempDir('atomic');
    await writeFile(join(dir, 'a'), 'A');
    await writeFile(join(dir, 'b'), 'B');
    await renameDurably(join(dir, 'a'), join(dir, 'b'));
    expect(await readdir(dir)).toEqual(['b']);
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('A');
  });

  it('removes the source when the rename fails', async () => {
    const dir = await createTempDir('atomic');
    await writeFile(join(dir, 'a'), 'A');
    await mkdir(join(dir, 'd'));
    await writeFile(join(dir, 'd', 'x'), 'x');
    await expect(renameDurably(join(dir, 'a'), join(dir, 'd'))).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['d']);
  });

  it('does not throw for a directory it cannot sync', async () => {
    const dir = await createTempDir('atomic');
    await expect(syncDirectory(join(dir, 'absent'))).resolves.toBeUndefined();
    await expect(syncDirectory(dir)).resolves.toBeUndefined();
  });
});
