/** The file-system rules of config paths: git directories, files in the way, overlaps. */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  fileInTheWay,
  gitDirectoryContaining,
  isSameOrInside,
  realPathOf,
} from '../../src/config/directory-rules.js';
import { createTempDir } from '../helpers/temp-dir.js';

describe('gitDirectoryContaining', () => {
  it('finds a .git segment, existing or not, in any case', () => {
    expect(gitDirectoryContaining('/srv/repo/.git')).toBe('/srv/repo/.git');
    expect(gitDirectoryContaining('/srv/repo/.git/modules/x/inner')).toBe('/srv/repo/.git');
    expect(gitDirectoryContaining('/srv/repo/.GIT/x')).toBe('/srv/repo/.GIT');
    expect(gitDirectoryContaining('/srv/repo/schema_backup')).toBeUndefined();
    expect(gitDirectoryContaining('/srv/repo/.github/x')).toBeUndefined();
    expect(gitDirectoryContaining('/srv/repo/x.git/y')).toBeUndefined();
  });

  it('finds a bare repository, and a git directory through a symbolic link', async () => {
    const dir = await createTempDir('rules');
    execFileSync('git', ['init', '--quiet', '--bare', join(dir, 'bare.git')]);
    expect(gitDirectoryContaining(join(dir, 'bare.git/snapshots'))).toBe(join(dir, 'bare.git'));
    execFileSync('git', ['init', '--quiet', join(dir, 'work')]);
    await symlink(join(dir, 'work/.git'), join(dir, 'link'));
    expect(gitDirectoryContaining(join(dir, 'link/inner'))).toBe(join(dir, 'link'));
    await symlink(join(dir, 'work/.git/info'), join(dir, 'deeper'));
    expect(gitDirectoryContaining(join(dir, 'deeper/x'))).toBe(join(realPathOf(dir), 'work/.git'));
    expect(gitDirectoryContaining(join(dir, 'work/schema_backup'))).toBeUndefined();
  });
});

describe('fileInTheWay', () => {
  it('names the first part that is a file, itself or an ancestor', async () => {
    const dir = await createTempDir('rules');
    await writeFile(join(dir, 'file'), '');
    expect(fileInTheWay(join(dir, 'file'))).toBe(join(dir, 'file'));
    expect(fileInTheWay(join(dir, 'file/a/b'))).toBe(join(dir, 'file'));
    expect(fileInTheWay(join(dir, 'missing/a'))).toBeUndefined();
    expect(fileInTheWay(dir)).toBeUndefined();
  });
});

describe('isSameOrInside', () => {
  it('compares whole segments, as written and through symbolic links', async () => {
    expect(isSameOrInside('/a/b', '/a/b/')).toBe(true);
    expect(isSameOrInside('/a/b/c', '/a/b')).toBe(true);
    expect(isSameOrInside('/a/bc', '/a/b')).toBe(false);
    expect(isSameOrInside('/a', '/a/b')).toBe(false);
    expect(isSameOrInside('/a/b/../c', '/a/b')).toBe(false);
    const dir = await createTempDir('rules');
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real'), join(dir, 'alias'));
    expect(isSameOrInside(join(dir, 'alias/user'), join(dir, 'real'))).toBe(true);
    expect(isSameOrInside(join(dir, 'real'), join(dir, 'alias'))).toBe(true);
  });
});
