/**
 * Issue 18: what `status --all-hosts` and `diff --model` read from git for every host
 * directory at once: the newest commit touching each (one `git log`), and every host
 * directory's files with their blob ids (one `git ls-tree`), whatever the names hold.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Repository } from '../../../src/git/repository.js';
import { createGitRepo, git } from '../../helpers/git-repo.js';

async function commitFiles(
  root: string,
  files: Readonly<Record<string, string>>,
  date: string,
  subject: string,
): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  git(root, 'add', '--all');
  // The test helper `git` pins the dates; this commit has its own.
  execFileSync('git', ['commit', '--quiet', '-m', subject], {
    cwd: root,
    env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
  });
  return git(root, 'rev-parse', 'HEAD').trim();
}

describe('host directories read together (#18)', () => {
  it('the newest commit of each host directory, for names git quotes too', async () => {
    const root = await createGitRepo('fleet-history');
    const backupDir = join(root, 'backups');
    const quoted = 'b"q';
    const accented = 'é.example';
    const both = await commitFiles(
      root,
      { 'backups/a/t.sql': '1', [`backups/${quoted}/t.sql`]: '1', 'backups/README': 'x' },
      '2026-03-01T10:00:00Z',
      'a and b',
    );
    const second = await commitFiles(
      root,
      { 'backups/a/t.sql': '2' },
      '2026-03-02T10:00:00+02:00',
      'a again',
    );
    await commitFiles(root, { 'other/a/t.sql': '1' }, '2026-03-03T10:00:00Z', 'not a host');
    const third = await commitFiles(
      root,
      { [`backups/${accented}/t.sql`]: '1', [`backups/${accented}/deeper/x.sql`]: '1' },
      '2026-03-04T10:00:00Z',
      'accented',
    );
    const repository = await Repository.find(backupDir);
    if (repository === undefined) throw new Error('no repository');

    const commits = await repository.lastCommitsUnder(backupDir, [
      'a',
      quoted,
      accented,
      'missing',
    ]);
    expect(Object.fromEntries(commits)).toEqual({
      a: {
        id: second,
        date: '2026-03-02T10:00:00+02:00',
        author: 'Test <test@example.org>',
        subject: 'a again',
      },
      [quoted]: {
        id: both,
        date: '2026-03-01T10:00:00+00:00',
        author: 'Test <test@example.org>',
        subject: 'a and b',
      },
      [accented]: expect.objectContaining({ id: third, subject: 'accented' }) as unknown,
    });

    const blobs = await repository.listBlobsUnder('HEAD', backupDir);
    expect([...blobs.keys()].sort()).toEqual(['a', quoted, accented].sort());
    expect([...(blobs.get(accented)?.keys() ?? [])]).toEqual(['t.sql']);
    expect(blobs.get('a')?.get('t.sql')).toBe(
      git(root, 'rev-parse', 'HEAD:backups/a/t.sql').trim(),
    );
    expect((await repository.listBlobsUnder('HEAD~3', backupDir)).has(accented)).toBe(false);
    expect((await repository.listBlobsUnder('HEAD', join(root, 'nosuch'))).size).toBe(0);
  });

  it('a repository without commits holds no host commits', async () => {
    const root = await createGitRepo('fleet-empty');
    const repository = await Repository.find(root);
    if (repository === undefined) throw new Error('no repository');
    expect((await repository.lastCommitsUnder(root, ['a'])).size).toBe(0);
  });
});
