/**
 * The snapshot workflow: read every object of the database inside one consistent-snapshot
 * transaction, write the files that changed into the host directory, and commit exactly that
 * directory. A run that fails leaves the host directory and the git history as they were:
 * new contents are staged first and renamed into place only after every read succeeded.
 *
 * Workflows never print, read argv or the environment, or exit: they log through the given
 * logger and return a result or throw a SchemaBackupError.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Categories } from '../config/schema.js';
import {
  sessionDatabase,
  type ConnectionOptions,
  type Engine,
  type Session,
} from '../engine/engine.js';
import { InternalError, SnapshotError } from '../errors.js';
import { Repository, type Author } from '../git/repository.js';
import { removeLeftovers } from '../support/remove-leftovers.js';
import type { HeldLock } from '../support/lock.js';
import type { Interruption } from '../support/interruption.js';
import type { ProgressCallback } from '../support/progress.js';
import { withHostLock } from './work-dir.js';
import type { Logger } from '../support/logger.js';
import {
  commitSnapshot,
  previousManifestFormat,
  pushSnapshot,
  snapshotCommitMessage,
} from './commit-snapshot.js';
import { putInPlace } from './put-in-place.js';
import { hostDirectory, WORK_DIR_NAME } from './layout.js';
import { planSnapshot, type CategorySource, type SnapshotPlan } from './plan-snapshot.js';
import { MANIFEST_FORMAT, READABLE_FORMATS, type ManifestTable } from './manifest.js';
import type { Compression } from '../dump/compression.js';
import { loadFingerprintKey, UserDataCopy, type UserDataOutcome } from './user-data-copy.js';
import { EphemeralCopy } from './ephemeral-copy.js';
import { checkStrict, readSnapshot } from './read-snapshot.js';
import {
  SnapshotStager,
  type FileChange,
  type ObjectOutcome,
  type TableOutcome,
} from './stage-snapshot.js';

export interface SnapshotGitOptions {
  /** Commit the host directory when it changed. */
  readonly commit: boolean;
  /** Create a repository in the backup directory when it is in none. */
  readonly init: boolean;
  readonly author: Author;
  /** Remote to push to: every run pushes whatever the remote lacks. */
  readonly push?: string | undefined;
  readonly branch?: string | undefined;
  /** Pushes tried when other hosts keep pushing first (default 12). */
  readonly pushAttempts?: number | undefined;
  /** Seconds of retried pushes before giving up (default 120). */
  readonly pushTimeoutSeconds?: number | undefined;
}

/** Where and how the rows of local tables are saved. */
export interface UserDataOptions {
  /** `user_data_backup_dir`: holds one directory per host. */
  readonly dir: string;
  /** age public keys; at least one. */
  readonly recipients: readonly string[];
  /** This host's key for fingerprinting user data (created on first use). */
  readonly fingerprintKeyFile: string;
  /** How each table's rows are compressed before encryption; default zstd (gzip without zstd). */
  readonly compression?: Compression | undefined;
}

export interface SnapshotOptions {
  readonly connection: ConnectionOptions;
  readonly database: string;
  /** The schemas to snapshot (PostgreSQL's `database.schemas`); omitted: every user schema. */
  readonly schemas?: readonly string[] | undefined;
  /** The git-tracked directory that holds the host directories. */
  readonly backupDir: string;
  /** Name of this host's directory. */
  readonly host: string;
  readonly categories: Categories;
  /** Where the categories are written (errors about an entry point at its line). */
  readonly categorySource?: CategorySource | undefined;
  /** Uncategorized tables are an error (exit 2, nothing written). */
  readonly strict: boolean;
  readonly git: SnapshotGitOptions;
  /** Read and compare, but write and commit nothing. */
  readonly dryRun: boolean;
  /**
   * The file format to write (the manifest's format number, one of {@link READABLE_FORMATS});
   * default the current one. `verify` compares a snapshot of an earlier format with one of
   * the same format.
   */
  readonly format?: number | undefined;
  readonly lockWaitSeconds: number;
  /**
   * The host directory's lock, already held by the caller for a longer workflow (services
   * stopped, an upgrade): used as it is, and not released. Default: taken and released here.
   */
  readonly heldLock?: HeldLock | undefined;
  /** Stops the run at its next step (its connection is dropped at once); nothing is changed. */
  readonly interruption?: Interruption | undefined;
  /** Undefined: the rows of local tables are not saved (user_data_backup_dir is not set). */
  readonly userData?: UserDataOptions | undefined;
  /**
   * Runs once the read view is open, before any row is read (pause hooks): what it changes
   * in InnoDB tables is not in the snapshot.
   */
  readonly afterReadViewOpen?: (() => Promise<void>) | undefined;
  /** Also write the rows of ephemeral tables, one `.sql` file per table, into this directory. */
  readonly ephemeralDir?: string | undefined;
  /** Put before the commit message's subject, e.g. `before upgrade: `. */
  readonly commitPrefix?: string | undefined;
  /** The run's time, for the user-data copy's name. Default now. */
  readonly now?: Date | undefined;
  readonly logger: Logger;
  /** Tables and rows read so far, against the server's estimate (for a progress display). */
  readonly onProgress?: ProgressCallback | undefined;
}

export type GitOutcome = 'committed' | 'no-changes' | 'no-repository' | 'disabled' | 'dry-run';

export type { FileChange, ObjectOutcome, TableOutcome } from './stage-snapshot.js';

export interface SnapshotResult {
  readonly host: string;
  readonly hostDir: string;
  readonly database: string;
  readonly serverVersion: string;
  readonly plan: SnapshotPlan;
  readonly tables: readonly TableOutcome[];
  readonly objects: readonly ObjectOutcome[];
  /** Files of objects that no longer exist, removed (or, in a dry run, to be removed). */
  readonly removed: readonly string[];
  readonly git: GitOutcome;
  readonly commit?: { readonly id: string; readonly message: string } | undefined;
  /** The remote that received commits in this run (this run's and any left by earlier runs). */
  readonly pushed?: string | undefined;
  /** Commits pushed (0: the remote had them all); undefined when `git.push` is not set. */
  readonly pushedCommits?: number | undefined;
  /** Commits the remote still lacks: 0 after a push; undefined when `git.push` is not set. */
  readonly unpushedCommits?: number | undefined;
  readonly bytesWritten: number;
  /** The manifest of this snapshot (written as manifest.json), by table. */
  readonly manifest: ReadonlyMap<string, ManifestTable>;
  /** SHA-256 of each object file, by file name (as recorded in the manifest). */
  readonly objectHashes: ReadonlyMap<string, string>;
  /** Whether manifest.json changed. */
  readonly manifestChange: FileChange;
  /** Whether the database defaults file changed (`added` for a host directory without one). */
  readonly databaseDefaultsChange: FileChange;
  /** Files written by `ephemeralDir` (empty without it). */
  readonly ephemeralFiles: readonly string[];
  /** What became of the rows of local tables. */
  readonly userData:
    UserDataOutcome | { readonly outcome: 'no-local-tables' | 'not-configured' | 'dry-run' };
}

/** Takes a snapshot as described by `options` with `engine`. */
export async function takeSnapshot(
  engine: Engine,
  options: SnapshotOptions,
): Promise<SnapshotResult> {
  const format = options.format ?? MANIFEST_FORMAT;
  if (!READABLE_FORMATS.includes(format))
    throw new InternalError(`no snapshot file format ${String(format)}`);
  const { interruption } = options;
  // The session until the read is done (it is closed before the files go in place).
  const connection: { session?: Session | undefined } = {};
  const dropConnection = (): void => connection.session?.abort();
  interruption?.signal.addEventListener('abort', dropConnection);
  try {
    interruption?.throwIfInterrupted();
    // Connect and check the categories before anything is created on disk: a wrong
    // password or a strict-mode refusal leaves the backup directory as it was.
    const session = await engine.openSession({
      ...options.connection,
      database: options.database,
      readsOnly: true,
    });
    connection.session = session;
    // A signal while connecting found no session to drop.
    interruption?.throwIfInterrupted();
    // A connection that named no database (PostgreSQL: $PGDATABASE, a service) reads its own.
    const run: SnapshotOptions = {
      ...options,
      database: sessionDatabase(session, options.database),
    };
    if (run.strict)
      checkStrict(
        planSnapshot(
          await session.listObjects(run.database, { schemas: run.schemas }),
          run.categories,
          engine,
        ),
        options,
      );
    const closeSession = async (): Promise<void> => {
      await session.close();
      connection.session = undefined;
    };
    // A dry run writes nothing in the backup directory: it needs no lock.
    if (run.dryRun)
      return await snapshotWithSession(engine, run, format, session, closeSession, undefined);
    return await withHostLock(
      run.backupDir,
      run.host,
      {
        waitSeconds: run.lockWaitSeconds,
        abortSignal: interruption?.signal,
        logger: run.logger,
        heldLock: run.heldLock,
      },
      (lock) => snapshotWithSession(engine, run, format, session, closeSession, lock),
    );
  } catch (error) {
    // A read that failed because the interruption dropped the connection is an interruption.
    interruption?.throwIfInterrupted();
    throw error;
  } finally {
    interruption?.signal.removeEventListener('abort', dropConnection);
    await connection.session?.close();
  }
}

/**
 * The snapshot once connected (and, unless a dry run, under the host's lock): reads, stages,
 * puts the files in place and commits. `closeSession` ends the session once the read is done.
 */
async function snapshotWithSession(
  engine: Engine,
  options: SnapshotOptions,
  format: number,
  session: Session,
  closeSession: () => Promise<void>,
  lock: HeldLock | undefined,
): Promise<SnapshotResult> {
  const { logger, interruption } = options;
  const hostDir = hostDirectory(options.backupDir, options.host);
  const workDir = join(options.backupDir, WORK_DIR_NAME);
  let stager: SnapshotStager | undefined;
  let stagingDir: string | undefined;
  let userDataCopy: UserDataCopy | undefined;
  let ephemeralCopy: EphemeralCopy | undefined;
  let repositoryLookup: Promise<Repository | undefined> | undefined;
  try {
    // Staging files of a run of this host that was killed; we hold its lock now.
    if (lock !== undefined)
      await removeLeftovers(
        workDir,
        new RegExp(`^staging-${escapeRegExp(options.host)}-[0-9a-f]+$`),
      );
    const staging = options.dryRun
      ? await mkdtemp(join(tmpdir(), 'schema_backup-dry-run-'))
      : join(workDir, `staging-${options.host}-${randomBytes(4).toString('hex')}`);
    stagingDir = staging;
    await mkdir(staging, { recursive: true, mode: 0o700 });
    // The repository is looked up (two git processes) while the database is read, and
    // awaited only once the files are staged.
    const finding =
      options.git.commit && !options.dryRun ? findRepository(options, logger) : undefined;
    repositoryLookup = finding;
    // Its failure is thrown where it is awaited, not as an unhandled rejection meanwhile.
    finding?.catch(() => undefined);

    stager = new SnapshotStager(engine.script, hostDir, staging, logger);
    // The read view starts only now, after any wait for the lock: a run that waited must not
    // commit data older than what the run it waited for committed.
    const read = await readSnapshot(
      engine,
      session,
      {
        database: options.database,
        schemas: options.schemas,
        categories: options.categories,
        categorySource: options.categorySource,
        strict: options.strict,
        format,
        localRowsSaved: options.userData !== undefined,
        afterReadViewOpen: options.afterReadViewOpen,
        beginCopies: async (plan) => {
          const localTables = plan.tables.filter((table) => table.rows === 'user-data');
          if (localTables.length > 0 && options.userData !== undefined && !options.dryRun) {
            userDataCopy = await UserDataCopy.begin({
              root: options.userData.dir,
              host: options.host,
              recipients: options.userData.recipients,
              fingerprintKey: await loadFingerprintKey(options.userData.fingerprintKeyFile),
              now: options.now ?? new Date(),
              database: options.database,
              compression: options.userData.compression,
            });
          }
          if (options.ephemeralDir !== undefined && !options.dryRun)
            ephemeralCopy = await EphemeralCopy.begin(options.ephemeralDir);
          return { userData: userDataCopy, ephemeral: ephemeralCopy };
        },
        logger,
        onProgress: options.onProgress,
      },
      stager,
    );
    await closeSession();
    const repository = await finding;
    const { plan } = read;
    const staged = await stager.finish(plan, format);
    const { tables, objects, removed, pending } = staged;
    const localTables = plan.tables.filter((table) => table.rows === 'user-data');
    const base = {
      host: options.host,
      hostDir,
      database: options.database,
      serverVersion: read.serverVersion,
      plan,
      tables,
      objects,
      removed,
      bytesWritten: staged.bytesWritten,
      manifest: read.manifest,
      objectHashes: read.objectHashes,
      manifestChange: staged.manifestChange,
      databaseDefaultsChange: staged.databaseDefaultsChange,
      ephemeralFiles: [] as readonly string[],
    };
    if (options.dryRun)
      return {
        ...base,
        git: 'dry-run',
        userData: { outcome: localTables.length > 0 ? 'dry-run' : 'no-local-tables' },
      };
    const noUserData = {
      outcome: localTables.length === 0 ? 'no-local-tables' : 'not-configured',
    } as const;

    lock?.assertHeld();
    interruption?.throwIfInterrupted();
    // Read before the new manifest replaces it: the first snapshot of a new file format
    // rewrites every file, and its commit message says why.
    const formatBefore = await previousManifestFormat(hostDir);
    const rollback = await putInPlace(hostDir, staging, pending, removed);
    const unchanged = [...tables, ...objects].filter((item) => item.change === 'unchanged').length;
    logger.debug(
      `${options.host}: ${String(pending.length)} file(s) written, ${String(removed.length)} removed, ${String(unchanged)} unchanged`,
    );

    const message = snapshotCommitMessage(
      options.host,
      options.database,
      staged,
      formatBefore,
      options.commitPrefix,
    );
    // What can still fail of the user-data copy fails before the commit, not after it.
    await userDataCopy?.prepare();
    const commit = await commitSnapshot(repository, hostDir, message, options.git, {
      manyFiles: pending.length > 100,
      nothingWritten: pending.length === 0 && removed.length === 0,
      rollback,
      logger,
    });
    let ephemeralFiles: string[] = [];
    try {
      ephemeralFiles = (await ephemeralCopy?.finish()) ?? [];
    } catch (error) {
      throw new SnapshotError(
        `the snapshot is complete${commit === undefined ? '' : ` and committed (${commit.id.slice(0, 12)})`}, but the rows of ephemeral tables could not be put in ${options.ephemeralDir ?? ''}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    ephemeralCopy = undefined;
    // What the result says (the command's summary prints it, the run journal records it) is
    // only a debug line here: an interactive run printed it twice (issue 21).
    if (ephemeralFiles.length > 0)
      logger.debug(
        `rows of ${String(ephemeralFiles.length)} ephemeral table(s) written to ${options.ephemeralDir ?? ''}`,
      );
    if (commit !== undefined)
      logger.debug(`committed ${commit.id.slice(0, 12)}: ${message.split('\n')[0] ?? ''}`);

    // The user-data copy goes in place only now that everything else succeeded, so that a
    // failed run never moves `latest`.
    const userData = userDataCopy === undefined ? noUserData : await userDataCopy.finish();
    userDataCopy = undefined;
    if (userData.outcome === 'unchanged')
      logger.debug(`user data unchanged since ${userData.latest}: no new copy`);
    if (userData.outcome === 'created') logger.debug(`user data saved in ${userData.path}`);

    const git: GitOutcome = !options.git.commit
      ? 'disabled'
      : repository === undefined
        ? 'no-repository'
        : commit === undefined
          ? 'no-changes'
          : 'committed';
    const push = await pushSnapshot(repository, hostDir, options.git, logger);
    const pushFields = {
      pushed: push !== undefined && push.commits > 0 ? options.git.push : undefined,
      pushedCommits: push?.commits,
      unpushedCommits: push === undefined ? undefined : 0,
    };
    return {
      ...base,
      ephemeralFiles,
      git,
      // Replayed onto other hosts' commits, this run's commit is HEAD under a new id.
      ...(commit === undefined
        ? {}
        : {
            commit: {
              id: push !== undefined && push.replayed > 0 ? (push.head ?? commit.id) : commit.id,
              message,
            },
          }),
      ...pushFields,
      userData,
    };
  } finally {
    // A read that failed leaves no git process behind (its error, if any, is not this run's).
    await repositoryLookup?.catch(() => undefined);
    await userDataCopy?.abort();
    await ephemeralCopy?.abort();
    await stager?.discard();
    if (stagingDir !== undefined) await rm(stagingDir, { recursive: true, force: true });
  }
}

async function findRepository(
  options: SnapshotOptions,
  logger: Logger,
): Promise<Repository | undefined> {
  const repository = await Repository.find(options.backupDir, { init: options.git.init });
  if (repository === undefined) {
    logger.warn(
      `${options.backupDir} is not inside a git repository: files are written but not committed (set git.init: true to create one)`,
    );
  }
  return repository;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
