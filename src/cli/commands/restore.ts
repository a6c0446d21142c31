/**
 * `schema_backup restore`: rebuild a database from a snapshot (the working tree, a git
 * revision, or a directory the original tool wrote) and a user-data copy.
 */
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { engineFor } from '../engine-for.js';
import { tablePatterns } from '../table-patterns.js';
import { UsageError } from '../../errors.js';
import { Repository } from '../../git/repository.js';
import {
  restoreSnapshot,
  type RestoreOptions,
  type UserDataInput,
} from '../../restore/restore-snapshot.js';
import {
  directorySource,
  gitRevisionSource,
  type SnapshotSource,
} from '../../restore/snapshot-source.js';
import { hostDirectory } from '../../snapshot/layout.js';
import { openUserDataCopy } from '../../restore/user-data-input.js';
import {
  copyTimestamp,
  findCopy,
  fingerprintKeyPath,
  LATEST_LINK,
  listCopies,
  readCopyAt,
  readFingerprintKey,
  type UserDataManifest,
} from '../../snapshot/user-data-copy.js';
import { fetchUserDataCopy, type FetchedItem } from '../../offsite/fetch-from-offsite.js';
import { requireOffsiteStore } from '../ops-config.js';
import type { Logger } from '../../support/logger.js';
import {
  connectionFor,
  hostNameFor,
  loadContext,
  requireKnownHost,
  type GlobalArgs,
} from '../context.js';
import { BACKUP_HOST_OPTION, type BackupHostArgs } from '../backup-host-option.js';
import { printable } from '../../support/printable.js';
import { printJson, printLine } from '../output/print.js';
import { progressDisplay } from '../output/progress-bar.js';

export interface SnapshotSelectionArgs extends BackupHostArgs {
  readonly rev?: string | undefined;
}

export interface RestoreArgs extends GlobalArgs, SnapshotSelectionArgs {
  readonly target?: string | undefined;
  readonly copy?: string | undefined;
  readonly identity?: string | undefined;
  readonly userData?: boolean | undefined;
  readonly legacy?: string | undefined;
  readonly force?: boolean | undefined;
  readonly forceSource?: boolean | undefined;
  readonly only?: readonly string[] | undefined;
  readonly exclude?: readonly string[] | undefined;
  readonly parallel?: number | undefined;
  readonly trust?: boolean | undefined;
  readonly keepEventsEnabled?: boolean | undefined;
  readonly allowExternalAccess?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly fromOffsite?: string | undefined;
}

export interface UserDataSelectionArgs {
  readonly copy?: string | undefined;
  readonly identity?: string | undefined;
  readonly userData?: boolean | undefined;
}

/** The host directory's files at `--rev` (read from git), or in the working tree. */
export async function snapshotSourceFor(
  config: Config,
  args: SnapshotSelectionArgs,
): Promise<{ source: SnapshotSource; host: string; committed?: Date | undefined }> {
  const host = await hostNameFor(config, args.backupHost);
  const hostDir = hostDirectory(config.backupDir, host);
  if (args.rev === undefined) {
    await requireKnownHost(
      config,
      host,
      args.backupHost === undefined ? 'this host' : BACKUP_HOST_OPTION,
      undefined,
    );
    return { source: directorySource(hostDir, `working tree ${hostDir}`), host };
  }
  const repository = await Repository.find(config.backupDir);
  if (repository === undefined)
    throw new UsageError(`${config.backupDir} is not in a git repository: --rev needs one`);
  const revision = await repository.resolveRevision(args.rev);
  await requireKnownHost(
    config,
    host,
    args.backupHost === undefined ? 'this host' : BACKUP_HOST_OPTION,
    repository,
    [revision],
  );
  return {
    source: gitRevisionSource(repository, revision, hostDir),
    host,
    committed: await repository.commitTime(revision),
  };
}

/**
 * The user-data copy to use: the one named, else with a revision the newest copy made by
 * the time it was committed (the rows that went with that schema), else `latest`.
 */
export async function chooseCopy(
  config: Config,
  host: string,
  named: string | undefined,
  committed: Date | undefined,
): Promise<string> {
  if (named !== undefined || committed === undefined || config.userDataBackupDir === undefined)
    return named ?? LATEST_LINK;
  const limit = copyTimestamp(committed);
  const before = (await listCopies(join(config.userDataBackupDir, host))).filter(
    (name) => name.slice(0, limit.length) <= limit,
  );
  return before.at(-1) ?? LATEST_LINK;
}

/** The decrypting readers of a user-data copy's files, or undefined when there is nothing to load. */
export async function userDataInputFor(
  config: Config,
  host: string,
  args: {
    copy?: string | undefined;
    identity?: string | undefined;
    userData?: boolean | undefined;
  },
  logger: Logger,
): Promise<UserDataInput | undefined> {
  if (args.userData === false) return undefined;
  if (config.userDataBackupDir === undefined) {
    if (config.categories.local.length > 0)
      logger.warn('user_data_backup_dir is not set: local tables are restored without rows');
    return undefined;
  }
  let copy;
  try {
    copy = await findCopy(config.userDataBackupDir, host, args.copy ?? LATEST_LINK);
  } catch (error) {
    // No copy is normal where no table is local; otherwise say what is missing.
    if (config.categories.local.length === 0 && (args.copy ?? LATEST_LINK) === LATEST_LINK)
      return undefined;
    if ((args.copy ?? LATEST_LINK) !== LATEST_LINK) throw error;
    logger.warn(`${(error as Error).message}: local tables are restored without rows`);
    return undefined;
  }
  return userDataInputOf(config, host, copy, args.identity, logger);
}

/**
 * The decrypting readers of the copy `copy` (on disk, or downloaded from off-site), each
 * file checked against its manifest first. `identity`: --identity, else encryption.identity_file.
 */
export async function userDataInputOf(
  config: Config,
  host: string,
  copy: { dir: string; manifest: UserDataManifest },
  identity: string | undefined,
  logger: Logger,
): Promise<UserDataInput> {
  const identityFile = identity ?? config.encryption.identityFile;
  if (identityFile === undefined) {
    throw new UsageError('the rows of local tables need the age identity to decrypt them', {
      hint: 'Pass --identity key.txt (or set encryption.identity_file), or --no-user-data to restore local tables empty.',
    });
  }
  const { readIdentityFile } = await import('../../crypto/recipients.js');
  const identities = await readIdentityFile(identityFile);
  // With this host's fingerprint key, each file's rows are checked against the copy's keyed
  // fingerprints before anything runs: a file forged by whoever can write the directory fails.
  const fingerprintKey = await readFingerprintKey(fingerprintKeyPath(config.backupDir, host));
  if (fingerprintKey === undefined)
    logger.info(
      `no fingerprint key of ${host} here: user-data files are checked by size and row count, not by their keyed fingerprints`,
    );
  return openUserDataCopy(copy.dir, copy.manifest, identities, fingerprintKey);
}

export async function restoreHandler(args: RestoreArgs): Promise<number> {
  const context = await loadContext(args);
  const { config, logger } = context;
  const connection = await connectionFor(context, args);
  const target = args.target ?? '';
  let source: SnapshotSource;
  let userData: UserDataInput | undefined;
  let fetched: FetchedItem | undefined;
  if (args.legacy !== undefined) {
    source = directorySource(args.legacy, `legacy snapshot ${args.legacy}`);
  } else {
    const selected = await snapshotSourceFor(config, args);
    source = selected.source;
    if (args.fromOffsite !== undefined && args.userData !== false) {
      const store = requireOffsiteStore(config, logger, '--from-offsite');
      fetched = await fetchUserDataCopy(store, {
        host: selected.host,
        name: args.fromOffsite,
        madeBy: selected.committed,
        logger,
      });
      try {
        const copy = await readCopyAt(fetched.path);
        userData = await userDataInputOf(config, selected.host, copy, args.identity, logger);
      } catch (error) {
        await fetched.remove();
        throw error;
      }
    } else {
      const copy = await chooseCopy(config, selected.host, args.copy, selected.committed);
      userData = await userDataInputFor(config, selected.host, { ...args, copy }, logger);
    }
  }
  try {
    return await restoreWith(config, connection, target, source, userData, args, logger);
  } finally {
    await fetched?.remove();
  }
}

async function restoreWith(
  config: Config,
  connection: Awaited<ReturnType<typeof connectionFor>>,
  target: string,
  source: SnapshotSource,
  userData: UserDataInput | undefined,
  args: RestoreArgs,
  logger: Logger,
): Promise<number> {
  const display = progressDisplay('restored', logger, { quiet: args.quiet === true });
  const options: RestoreOptions = {
    connection,
    target,
    source,
    userData,
    legacy: args.legacy !== undefined,
    force: args.force === true,
    protectedDatabase: connection.database,
    forceSource: args.forceSource === true,
    only: tablePatterns(await engineFor(config), args.only),
    exclude: tablePatterns(await engineFor(config), args.exclude),
    parallel: args.parallel ?? 2,
    trust: args.trust === true,
    keepEventsEnabled: args.keepEventsEnabled === true,
    allowExternalAccess: args.allowExternalAccess === true,
    logger,
    onProgress: display.onProgress,
  };
  let result;
  try {
    result = await restoreSnapshot(await engineFor(config), options);
  } finally {
    display.close();
  }
  if (args.json === true) {
    printJson(result);
  } else {
    printLine(`restored ${result.source} into ${result.target} in ${result.seconds.toFixed(1)} s`);
    printLine(
      `  ${String(result.tables.length)} tables, ${String(result.userDataTables.length)} with user data, ${String(result.objects.length)} other objects, ${String(result.statements)} statements`,
    );
    if (result.disabledEvents.length > 0)
      printLine(
        `  events created disabled (--keep-events-enabled keeps their status): ${result.disabledEvents.map(printable).join(', ')}`,
      );
  }
  return 0;
}
