/**
 * The commit part of a snapshot: the commit message of what was staged, the commit of the
 * host directory (undone with the files put in place when git refuses it), and the push.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommitResult, PushResult, Repository } from '../git/repository.js';
import type { Logger } from '../support/logger.js';
import { composeCommitMessage, type ObjectChange } from './commit-message.js';
import { objectForFileName } from './layout.js';
import { FORMAT_CHANGES, MANIFEST_FILE, MANIFEST_FORMAT, manifestFormatOf } from './manifest.js';
import type { Rollback } from './put-in-place.js';
import type { ObjectOutcome, StagedSnapshot, TableOutcome } from './stage-snapshot.js';
import type { SnapshotGitOptions } from './take-snapshot.js';

/**
 * The commit message of `staged`, put in place over a host directory whose manifest had
 * format `formatBefore` (undefined: none). The first snapshot of a new file format rewrites
 * every file, and its message says why.
 */
export function snapshotCommitMessage(
  host: string,
  database: string,
  staged: StagedSnapshot,
  formatBefore: number | undefined,
  prefix = '',
): string {
  const changes = describeChanges(staged.tables, staged.objects, staged.removed);
  const formatChange =
    formatBefore !== undefined && formatBefore !== MANIFEST_FORMAT
      ? { from: formatBefore, to: MANIFEST_FORMAT, what: FORMAT_CHANGES[MANIFEST_FORMAT] ?? '' }
      : undefined;
  // A new host directory's defaults are no news; a changed default, or the file a format
  // upgrade adds, are.
  if (
    staged.databaseDefaultsChange === 'changed' ||
    (formatChange !== undefined && staged.databaseDefaultsChange === 'added')
  )
    changes.push({
      kind: 'database defaults',
      name: database,
      change: staged.databaseDefaultsChange === 'added' ? 'added' : 'changed',
      structureChanged: true,
      rowsAdded: 0,
      rowsRemoved: 0,
      rowsChanged: 0,
    });
  return `${prefix}${composeCommitMessage(host, database, changes, formatChange)}`;
}

/**
 * Commits `hostDir` (nothing without a repository or when nothing changed). A refused commit
 * (a hook, a full disk) leaves the host directory and the index as they were before this
 * run: `rollback` puts the files back and the index is reset, then the commit's error is
 * thrown.
 */
export async function commitSnapshot(
  repository: Repository | undefined,
  hostDir: string,
  message: string,
  git: SnapshotGitOptions,
  options: {
    readonly manyFiles: boolean;
    /** The run wrote and removed no file in `hostDir`. */
    readonly nothingWritten: boolean;
    readonly rollback: Rollback;
    readonly logger: Logger;
  },
): Promise<CommitResult | undefined> {
  try {
    return git.commit && repository !== undefined
      ? await repository.commitPath(hostDir, () => message, git.author, {
          manyFiles: options.manyFiles,
          nothingWritten: options.nothingWritten,
        })
      : undefined;
  } catch (error) {
    // The commit's own error is the one to report; a failing cleanup is only logged.
    try {
      await options.rollback();
      await repository?.unstage(hostDir);
    } catch (cleanupError) {
      options.logger.error(
        `could not put ${hostDir} back as it was: ${(cleanupError as Error).message}`,
      );
    }
    throw error;
  }
}

/**
 * Pushes whatever the remote lacks, not only what this run committed: commits left by a run
 * whose push failed (an unreachable remote) go out with the next one (issue 21). Undefined
 * when `git.push` is not set or there is no repository.
 */
export async function pushSnapshot(
  repository: Repository | undefined,
  hostDir: string,
  git: SnapshotGitOptions,
  logger: Logger,
): Promise<PushResult | undefined> {
  if (git.push === undefined || repository === undefined) return undefined;
  const push = await repository.push(git.push, git.branch, {
    owned: [hostDir],
    committer: git.author,
    maxAttempts: git.pushAttempts,
    maxSeconds: git.pushTimeoutSeconds,
  });
  if (push.commits > 0)
    logger.info(
      `pushed ${String(push.commits)} commit(s) to ${git.push}${push.replayed > 0 ? ` (replayed onto commits of other hosts ${String(push.replayed)} time(s))` : ''}`,
    );
  return push;
}

/** The format number of the manifest in `hostDir`; undefined when there is none. */
export async function previousManifestFormat(hostDir: string): Promise<number | undefined> {
  try {
    return manifestFormatOf(await readFile(join(hostDir, MANIFEST_FILE), 'utf8'));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

function describeChanges(
  tables: readonly TableOutcome[],
  objects: readonly ObjectOutcome[],
  removed: readonly string[],
): ObjectChange[] {
  const changes: ObjectChange[] = [];
  for (const table of tables) {
    if (table.change === 'unchanged') continue;
    changes.push({
      kind: 'table',
      name: table.name,
      change: table.change === 'added' ? 'added' : 'changed',
      structureChanged: table.structureChanged,
      rowsAdded: table.rowsAdded,
      rowsRemoved: table.rowsRemoved,
      rowsChanged: table.rowsChanged,
      rowsCounted: table.rowsCounted,
    });
  }
  for (const object of objects) {
    if (object.change === 'unchanged') continue;
    changes.push({
      kind: object.kind,
      name: object.name,
      change: object.change === 'added' ? 'added' : 'changed',
      structureChanged: true,
      rowsAdded: 0,
      rowsRemoved: 0,
      rowsChanged: 0,
    });
  }
  for (const file of removed) {
    const object = objectForFileName(file);
    if (object !== undefined)
      changes.push({
        kind: object.kind,
        name: object.name,
        change: 'removed',
        structureChanged: true,
        rowsAdded: 0,
        rowsRemoved: 0,
        rowsChanged: 0,
      });
  }
  return changes;
}
