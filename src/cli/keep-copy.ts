/** `snapshot --keep`: marks the user-data copy of a run as manual, so that `prune` keeps it forever; and which copy a run has. */
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
  const copy = userDataCopyOf(result, userDataDir);
  if (copy === undefined) {
    logger.warn(`--keep: this run has no user-data copy to keep (${outcome.outcome})`);
    return undefined;
  }
  const sidecar = await markManual(copy);
  logger.info(`kept ${copy} (manual: prune never deletes it)`);
  return sidecar;
}

/**
 * The directory of the copy this run made or, when user data was unchanged, of the copy
 * `latest` points at; undefined when the run has none.
 */
export function userDataCopyOf(
  result: SnapshotResult,
  userDataDir: string | undefined,
): string | undefined {
  const outcome = result.userData;
  if (outcome.outcome === 'created') return outcome.path;
  if (outcome.outcome === 'unchanged' && userDataDir !== undefined)
    return join(userDataDir, result.host, outcome.latest);
  return undefined;
}
