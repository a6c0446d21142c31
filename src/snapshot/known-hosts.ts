/**
 * The host directories a backup directory holds, so that a mistyped `--host` is refused
 * instead of reading as an empty snapshot (issue 21: `diff --host nosuch` said "no
 * differences" and exited 0, which let a drift gate with a typo pass forever).
 */
import { readdir } from 'node:fs/promises';
import type { Repository } from '../git/repository.js';
import { isValidHostName, WORK_DIR_NAME } from './layout.js';

/**
 * The names of the host directories in `backupDir`: those in the working tree and, with a
 * repository, those committed at `revisions` (HEAD when none is given). Sorted, without
 * duplicates; dot directories (`.git`, the work directory) are left out. Never throws for a
 * missing backup directory or revision: those hold no hosts.
 */
export async function listHostDirectories(
  backupDir: string,
  repository: Repository | undefined,
  revisions: readonly string[] = [],
): Promise<string[]> {
  const names = new Set<string>();
  try {
    for (const entry of await readdir(backupDir, { withFileTypes: true }))
      if (entry.isDirectory()) names.add(entry.name);
  } catch {
    // No backup directory yet: no host in the working tree.
  }
  if (repository !== undefined && (await repository.head()) !== undefined) {
    for (const revision of revisions.length > 0 ? revisions : ['HEAD'])
      for (const name of await repository.listDirectories(revision, backupDir)) names.add(name);
  }
  return hostNamesAmong(names);
}

/**
 * The names of the host directories committed in `backupDir` at `revision`, sorted: the
 * hosts a shared repository holds, whatever this clone's working tree has. Empty without
 * commits, or when the backup directory or the revision does not exist.
 */
export async function listHostDirectoriesAt(
  repository: Repository,
  backupDir: string,
  revision: string,
): Promise<string[]> {
  if ((await repository.head()) === undefined) return [];
  return hostNamesAmong(await repository.listDirectories(revision, backupDir));
}

/** Dot directories (`.git`, the work directory) and unusable names are no host directories. */
function hostNamesAmong(names: Iterable<string>): string[] {
  return [...names]
    .filter((name) => !name.startsWith('.') && name !== WORK_DIR_NAME && isValidHostName(name))
    .sort();
}
