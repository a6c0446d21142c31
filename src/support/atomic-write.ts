/**
 * The one way this project writes a final file: write a temporary sibling, fsync it, rename
 * it over the destination, fsync the directory. A reader (or a crash) sees the old file or
 * the new one, never a half-written one. Imports nothing of this project but errors.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of the new file, e.g. 0o600. Default 0o644 (less the umask). */
  readonly mode?: number;
}

/** Temporary name beside `path`, unique per call, hidden from globbing. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `path` atomically. Throws whatever the file system throws; the temporary
 * file is removed on failure and the destination is left as it was.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temporary = temporaryPathFor(path);
  const handle = await open(temporary, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await renameDurably(temporary, path);
}

/** Renames `from` to `to` (atomic on one file system) and fsyncs the target directory. */
export async function renameDurably(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    await unlink(from).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(to));
}

/** Flushes a directory's entries (renames, unlinks) to disk. Best effort where unsupported. */
export async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory (EINVAL/EISDIR); the rename still happened.
  } finally {
    await handle?.close();
  }
}
