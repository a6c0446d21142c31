/** Cleaning up after a run that was killed (temporary directories, links, staging files). */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Removes the entries of `directory` whose names match `pattern`. */
export async function removeLeftovers(directory: string, pattern: RegExp): Promise<void> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return;
  }
  for (const name of names.filter((entry) => pattern.test(entry))) {
    await rm(join(directory, name), { recursive: true, force: true });
  }
}
