/** Temporary directories removed when the test finishes. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

export async function createTempDir(label = 'sb'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${label}-`));
  onTestFinished(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}
