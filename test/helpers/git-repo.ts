/**
 * Real git repositories for tests, with a pinned identity and no signing, hooks or gc, so
 * that a developer's global git config cannot change what a test sees.
 */
import { execFileSync } from 'node:child_process';
import { createTempDir } from './temp-dir.js';

/** Environment that isolates git from the user's global and system config. */
export const ISOLATED_GIT_ENV: Readonly<Record<string, string>> = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
};

/** Runs git in `dir` and returns its stdout. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    env: { ...process.env, ...ISOLATED_GIT_ENV },
    encoding: 'utf8',
  });
}

/** A new, empty repository (no commit yet) with a pinned identity. */
export async function createGitRepo(label = 'repo'): Promise<string> {
  const dir = await createTempDir(label);
  git(dir, 'init', '--quiet', '--initial-branch=main');
  git(dir, 'config', 'user.name', 'Test');
  git(dir, 'config', 'user.email', 'test@example.org');
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'config', 'gc.auto', '0');
  return dir;
}
