import { afterEach, describe, expect, it } from 'vitest';
import { runGit } from '../../src/git/run-git.js';
import { createTempDir } from '../helpers/temp-dir.js';

/** What a git child process sees of MALLOC_TRIM_THRESHOLD_ (a shell alias prints it). */
async function thresholdSeenByGit(): Promise<string> {
  const cwd = await createTempDir();
  return (
    await runGit(cwd, ['-c', 'alias.threshold=!printenv MALLOC_TRIM_THRESHOLD_', 'threshold'])
  ).trim();
}

describe('the environment of git child processes', () => {
  const saved = process.env.MALLOC_TRIM_THRESHOLD_;
  afterEach(() => {
    if (saved === undefined) delete process.env.MALLOC_TRIM_THRESHOLD_;
    else process.env.MALLOC_TRIM_THRESHOLD_ = saved;
  });

  it("raises glibc's heap trim threshold to 8 MiB", async () => {
    delete process.env.MALLOC_TRIM_THRESHOLD_;
    expect(await thresholdSeenByGit()).toBe(String(8 * 1024 * 1024));
  });

  it("keeps the user's own threshold", async () => {
    process.env.MALLOC_TRIM_THRESHOLD_ = '131072';
    expect(await thresholdSeenByGit()).toBe('131072');
  });
});
