/** Whether something is at a path, for the checks that only need to know that. */
import { lstat, stat } from 'node:fs/promises';

/**
 * True when `path` names something. With `followSymlinks: false` a symbolic link counts
 * itself (even one pointing nowhere): the name is taken.
 */
export async function pathExists(
  path: string,
  options: { readonly followSymlinks?: boolean } = {},
): Promise<boolean> {
  try {
    await (options.followSymlinks === false ? lstat(path) : stat(path));
    return true;
  } catch {
    return false;
  }
}
