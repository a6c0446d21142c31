/** Bytes a file or directory tree takes, for `status` and `prune`. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The apparent size in bytes of `path`: a file's size, or the sum over a directory tree
 * (symlinks count as themselves and are not followed). A file with several hard links (an
 * unchanged table shared by user-data copies) counts once, however many of its links the
 * tree holds. 0 when `path` does not exist; entries that vanish meanwhile are skipped.
 */
export async function diskUsage(path: string): Promise<number> {
  let total = 0;
  await walk(path, new Set(), (file) => (total += file.size));
  return total;
}

/**
 * What deleting all of `paths` would free, by path: a file counts only when every one of its
 * hard links is under `paths`, once, for the path holding its last link in `paths`' order.
 */
export async function bytesFreedBy(paths: readonly string[]): Promise<number[]> {
  const linksSeen = new Map<string, number>();
  const freed: number[] = [];
  for (const path of paths) {
    let total = 0;
    await walk(path, undefined, (file) => {
      if (file.nlink <= 1) {
        total += file.size;
        return;
      }
      const key = `${String(file.dev)}:${String(file.ino)}`;
      const seen = (linksSeen.get(key) ?? 0) + 1;
      linksSeen.set(key, seen);
      if (seen === file.nlink) total += file.size;
    });
    freed.push(total);
  }
  return freed;
}

interface FileInfo {
  readonly size: number;
  readonly nlink: number;
  readonly dev: number;
  readonly ino: number;
}

/** Calls `visit` for each non-directory under `path`; with `seen`, once per hard-linked file. */
async function walk(
  path: string,
  seen: Set<string> | undefined,
  visit: (file: FileInfo) => void,
): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return;
  }
  if (!info.isDirectory()) {
    if (seen !== undefined && info.nlink > 1) {
      const key = `${String(info.dev)}:${String(info.ino)}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    visit(info);
    return;
  }
  let names: string[];
  try {
    names = await readdir(path);
  } catch {
    return;
  }
  for (const name of names) await walk(join(path, name), seen, visit);
}
