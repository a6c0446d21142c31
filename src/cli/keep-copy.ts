/** `snapshot --keep`: marks the user-data copy of a run as manual, so that `prune` keeps it forever. */
import { join } from 'node:path';
import { markManual } from '../ops/prune.js';
import type { SnapshotResult } from '../snapshot/take-snapshot.js';
import type { Logger } from '../support/logger.js';

/**
 * Marks the copy this run made or, when user data was unchanged, the copy `latest` points
 * at. Returns the sidecar written, or undefined (with a warning) when the run has no copy.
 */
export async function keepUserDataCopy(
  result: SnapshotResult,
  userDataDir: string | undefined,
  logger: Logger,
): Promise<string | undefined> {
  const outcome = result.userData;
  let copy: string | undefined;
  if (outcome.outcome === 'created') copy = outcome.path;
  else if (outcome.outcome === 'unchanged' && userDataDir !== undefined)
    copy = join(userDataDir, result.host, outcome.latest);
  if (copy === undefined) {
    logger.warn(`--keep: this run has no user-data copy to keep (${outcome.outcome})`);
    return undefined;
  }
  const sidecar = await markManual(copy);
  logger.info(`kept ${copy} (manual: prune never deletes it)`);
  return sidecar;
}
