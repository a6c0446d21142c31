/**
 * The put-in-place part of a snapshot: the staged files renamed over those in the host
 * directory, each atomically, with the old contents kept as hard links for a rollback.
 */
import { link, mkdir, rename, unlink } from 'node:fs/promises';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { syncDirectory } from '../support/atomic-write.js';
import { mapWithConcurrency } from '../support/concurrency.js';
import type { PendingWrite } from './stage-snapshot.js';

/** Files staged or spilled at once, fsynced before any is renamed into place. */
const PARALLEL_WRITES = 16;

/** Puts the files of a run back as they were before {@link putInPlace}. */
export type Rollback = () => Promise<void>;

/**
 * Writes every pending file into the staging directory and fsyncs those that replace a
 * file (in parallel, which lets the file system batch its journal commits), then renames
 * each into place and fsyncs the directory once. Each destination is at every moment its old
 * or its new content. The old contents are kept as hard links in `stagingDir`, so the
 * returned rollback can put them back if the commit then fails; a failure here rolls back
 * at once.
 */
export async function putInPlace(
  hostDir: string,
  stagingDir: string,
  pending: readonly PendingWrite[],
  removed: readonly string[],
): Promise<Rollback> {
  await mkdir(hostDir, { recursive: true });
  const prepared = await mapWithConcurrency(pending, PARALLEL_WRITES, async (write) => ({
    from: await write.content.prepareForRename(0o644, { durable: write.replaces }),
    to: join(hostDir, write.file),
    replaces: write.replaces,
  }));
  const undo: { path: string; previous?: string }[] = [];
  const rollback: Rollback = async () => {
    for (const { path, previous } of [...undo].reverse()) {
      if (previous === undefined) await unlink(path).catch(() => undefined);
      else await rename(previous, path);
    }
    await syncDirectory(hostDir);
  };
  const keepPrevious = async (path: string): Promise<string> => {
    const previous = join(stagingDir, `previous-${String(undo.length)}`);
    await link(path, previous);
    return previous;
  };
  try {
    // Old contents are linked aside first (in order, so the rollback list is complete),
    // then the renames run in parallel: each is atomic on its own.
    for (const { to, replaces } of prepared) {
      undo.push({ path: to, ...(replaces ? { previous: await keepPrevious(to) } : {}) });
    }
    // Synchronous: each rename is one short call, cheaper than a thread-pool round trip.
    for (const { from, to } of prepared) renameSync(from, to);
    for (const file of removed) {
      const path = join(hostDir, file);
      undo.push({ path, previous: await keepPrevious(path) });
      await unlink(path);
    }
    await syncDirectory(hostDir);
  } catch (error) {
    await rollback().catch(() => undefined);
    throw error;
  }
  return rollback;
}
