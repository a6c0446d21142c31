/** Bytes a file or directory tree takes, for `status` and `prune`. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The apparent size in bytes of `path`: a file's size, or the sum over a directory tree
 * (symlinks count as themselves and are not followed). 0 when `path` does not exist;
 * entries that vanish meanwhile are skipped.
 */
export async function diskUsage(path: string): Promise<number> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return 0;
  }
  if (!info.isDirectory()) return info.size;
  let names: string[];
  try {
    names = await readdir(path);
  } catch {
    return 0;
  }
  let total = 0;
  for (const name of names) total += await diskUsage(join(path, name));
  return total;
}
