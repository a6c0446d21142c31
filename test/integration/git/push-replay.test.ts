/**
 * Repository.push when the remote moved (issue 18), at the git layer: several waiting commits
 * are replayed in order with their authors and messages; uncommitted work in the way of the
 * remote's files stops the push with nothing moved; a merge among the local commits is not
 * replayed.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PushError } from '../../../src/errors.js';
import { Repository } from '../../../src/git/repository.js';
import { git } from '../../helpers/git-repo.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const AUTHOR = { name: 'schema_backup', email: 'schema_backup@example.org' };

async function createRemote(): Promise<string> {
  const bare = await createTempDir('bare');
  git(bare, 'init', '--quiet', '--bare', '--initial-branch=main');
  const seed = await cloneOf(bare, 'seed');
  await writeFile(join(seed, 'README.md'), 'fleet\n');
  git(seed, 'add', 'README.md');
  commitAs(seed, 'Someone', 'seed');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
  return bare;
}

async function cloneOf(bare: string, label: string): Promise<string> {
  const dir = await createTempDir(label);
  execFileSync('git', ['clone', '--quiet', bare, '.'], { cwd: dir, stdio: 'pipe' });
  git(dir, 'symbolic-ref', 'HEAD', 'refs/heads/main');
  return dir;
}

function commitAs(dir: string, name: string, message: string): void {
  git(
    dir,
    '-c',
    `user.name=${name}`,
    '-c',
    'user.email=x@example.org',
    '-c',
    'commit.gpgsign=false',
    'commit',
    '--quiet',
    '-m',
    message,
  );
}

/** Writes `file` (relative) in `dir` with `text`, and commits it as `name`. */
async function commitFile(dir: string, file: string, text: string, name: string): Promise<void> {
  const path = join(dir, file);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  git(dir, 'add', file);
  commitAs(dir, name, `${file}: ${text.trim()}\n\nbody line`);
}

async function repositoryOf(dir: string): Promise<Repository> {
  const repository = await Repository.find(dir);
  if (repository === undefined) throw new Error(`no repository in ${dir}`);
  return repository;
}

describe('Repository.push onto a remote that moved', () => {
  it('replays every waiting commit in order, keeping authors and messages; nothing waits afterwards', async () => {
    const bare = await createRemote();
    const mine = await cloneOf(bare, 'mine');
    const other = await cloneOf(bare, 'other');
    await commitFile(mine, 'a.example.org/t.sql', 'one', 'Alice');
    await commitFile(mine, 'a.example.org/t.sql', 'two', 'Bob');
    await commitFile(other, 'b.example.org/t.sql', 'theirs', 'Carol');
    git(other, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');

    const repository = await repositoryOf(mine);
    expect(await repository.countUnpushed('origin')).toBe(2);
    const result = await repository.push('origin', undefined, {
      owned: [join(mine, 'a.example.org')],
      committer: AUTHOR,
    });
    expect(result).toMatchObject({ commits: 2, replayed: 1, attempts: 2 });
    expect(git(bare, 'log', '--format=%an|%B', 'main')).toBe(
      [
        'Bob|a.example.org/t.sql: two\n\nbody line\n',
        'Alice|a.example.org/t.sql: one\n\nbody line\n',
        'Carol|b.example.org/t.sql: theirs\n\nbody line\n',
        'Someone|seed\n\n',
      ].join('\n'),
    );
    expect(git(mine, 'rev-parse', 'HEAD')).toBe(git(bare, 'rev-parse', 'main'));
    expect(await readFile(join(mine, 'b.example.org/t.sql'), 'utf8')).toBe('theirs');
    expect(git(mine, 'status', '--porcelain')).toBe('');
    expect(await repository.countUnpushed('origin')).toBe(0);
  });

  it('an untracked file where the remote adds one stops the push; nothing moves, the commit waits', async () => {
    const bare = await createRemote();
    const mine = await cloneOf(bare, 'mine');
    const other = await cloneOf(bare, 'other');
    await commitFile(mine, 'a.example.org/t.sql', 'one', 'Alice');
    await commitFile(other, 'notes.txt', 'theirs', 'Carol');
    git(other, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    await writeFile(join(mine, 'notes.txt'), 'my own notes\n');
    const head = git(mine, 'rev-parse', 'HEAD');

    const repository = await repositoryOf(mine);
    const failure = await repository
      .push('origin', undefined, { owned: [join(mine, 'a.example.org')] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(PushError);
    expect((failure as PushError).message).toMatch(/work tree cannot be updated/);
    expect((failure as PushError).unpushedCommits).toBe(1);
    expect(git(mine, 'rev-parse', 'HEAD')).toBe(head);
    expect(await readFile(join(mine, 'notes.txt'), 'utf8')).toBe('my own notes\n');
    expect(git(mine, 'status', '--porcelain')).toBe('?? notes.txt\n');
    expect(await repository.countUnpushed('origin')).toBe(1);
  });

  it('a merge among the waiting commits is not replayed', async () => {
    const bare = await createRemote();
    const mine = await cloneOf(bare, 'mine');
    const other = await cloneOf(bare, 'other');
    git(mine, 'checkout', '--quiet', '-b', 'side');
    await commitFile(mine, 'a.example.org/x.sql', 'side', 'Alice');
    git(mine, 'checkout', '--quiet', 'main');
    await commitFile(mine, 'a.example.org/y.sql', 'main', 'Alice');
    git(
      mine,
      '-c',
      'user.name=Alice',
      '-c',
      'user.email=a@example.org',
      'merge',
      '--quiet',
      '--no-ff',
      '--no-edit',
      'side',
    );
    await commitFile(other, 'b.example.org/t.sql', 'theirs', 'Carol');
    git(other, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');

    const repository = await repositoryOf(mine);
    const failure = await repository.push('origin').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PushError);
    expect((failure as PushError).message).toMatch(/is a merge/);
    expect((failure as PushError).unpushedCommits).toBe(3);
  });

  it('gives up after maxAttempts rejections, with the commit waiting', async () => {
    const bare = await createRemote();
    const mine = await cloneOf(bare, 'mine');
    const other = await cloneOf(bare, 'other');
    await commitFile(mine, 'a.example.org/t.sql', 'one', 'Alice');
    await commitFile(other, 'b.example.org/t.sql', 'theirs', 'Carol');
    git(other, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    const remoteTip = git(bare, 'rev-parse', 'main');

    const repository = await repositoryOf(mine);
    const failure = await repository.push('origin', undefined, { maxAttempts: 1 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PushError);
    expect((failure as PushError).message).toMatch(/was rejected 1 time: .*1 commit waits/);
    expect((failure as PushError).unpushedCommits).toBe(1);
    expect(git(bare, 'rev-parse', 'main')).toBe(remoteTip);
  });

  it('a push the remote refuses (a hook) is not retried, and says so', async () => {
    const bare = await createRemote();
    const hook = join(bare, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\necho "no pushes today" >&2\nexit 1\n', { mode: 0o755 });
    const mine = await cloneOf(bare, 'mine');
    await commitFile(mine, 'a.example.org/t.sql', 'one', 'Alice');

    const repository = await repositoryOf(mine);
    const failure = await repository.push('origin').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PushError);
    expect((failure as PushError).message).toMatch(
      /^cannot push to origin \(branch main\): .*no pushes today/,
    );
    expect((failure as PushError).hint).toMatch(/The remote refused it/);
    expect((failure as PushError).unpushedCommits).toBe(1);
  });
});
