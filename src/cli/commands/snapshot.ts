/** `schema_backup [snapshot]`: take a snapshot of the configured database and commit it. */
import { dirname, resolve } from 'node:path';
import { collectRecipients } from '../../crypto/recipients.js';
import { ConfigError, CryptoError, ExitCode, PushError, UsageError } from '../../errors.js';
import { fingerprintKeyPath } from '../../snapshot/user-data-copy.js';
import { engineFor } from '../engine-for.js';
import {
  fileInTheWay,
  gitDirectoryContaining,
  isSameOrInside,
} from '../../config/directory-rules.js';
import type { Config } from '../../config/schema.js';
import type { ConnectionSettings } from '../../config/resolve-connection.js';
import { parseAuthor } from '../../git/repository.js';
import type { Logger } from '../../support/logger.js';
import type { SnapshotOptions, SnapshotResult } from '../../snapshot/take-snapshot.js';
import { keepUserDataCopy, userDataCopyOf } from '../keep-copy.js';
import { uploadAfterRun } from '../offsite-after-run.js';
import { journalSnapshot } from '../snapshot-run-summary.js';
import { withRunJournal } from '../with-run-journal.js';
import { connectionFor, hostNameFor, loadContext, type GlobalArgs } from '../context.js';
import { printJson, printLine } from '../output/print.js';
import { progressDisplay } from '../output/progress-bar.js';
import { consumerControlFor, failIfNotStarted } from '../service-control.js';
import { takeGuardedSnapshot, type ServiceMode } from '../../upgrade/guarded-snapshot.js';
import type { ServicesOutcome } from '../../services/consumer-control.js';

export interface SnapshotArgs extends GlobalArgs {
  readonly dryRun?: boolean | undefined;
  readonly commit?: boolean | undefined;
  readonly waitLock?: number | undefined;
  readonly json?: boolean | undefined;
  readonly model?: boolean | undefined;
  readonly target?: boolean | undefined;
  readonly ephemeralDirectory?: string | undefined;
  readonly keep?: boolean | undefined;
  readonly offsite?: boolean | undefined;
}

/** Builds the workflow's options from the config and the command line. */
export async function snapshotOptionsFrom(
  config: Config,
  connection: ConnectionSettings,
  args: SnapshotArgs,
  logger: Logger,
): Promise<SnapshotOptions> {
  const host = await hostNameFor(config);
  return {
    connection,
    database: connection.database,
    schemas: config.database.schemas,
    backupDir: config.backupDir,
    host,
    categories: config.categories,
    categorySource: { file: config.file, lines: config.categoryLines },
    strict: config.strict,
    git: {
      commit: args.commit ?? config.git.commit,
      init: config.git.init,
      author: parseAuthor(config.git.author ?? `schema_backup <schema_backup@${host}>`),
      push: config.git.push,
      branch: config.git.branch,
      pushAttempts: config.git.pushAttempts,
      pushTimeoutSeconds: config.git.pushTimeoutSeconds,
    },
    userData:
      config.userDataBackupDir === undefined
        ? undefined
        : {
            dir: config.userDataBackupDir,
            recipients: await configuredRecipients(config),
            fingerprintKeyFile: fingerprintKeyPath(config.backupDir, host),
            compression: config.userDataCompression,
          },
    ephemeralDir:
      args.ephemeralDirectory === undefined ? undefined : resolve(args.ephemeralDirectory),
    dryRun: args.dryRun === true,
    lockWaitSeconds: args.waitLock ?? 0,
    logger,
  };
}

/** The config's recipients, checked; a bad one is a config error (exit 2) before anything runs. */
async function configuredRecipients(config: Config): Promise<string[]> {
  try {
    return await collectRecipients(config.encryption.recipients, config.encryption.recipientsFile);
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    throw new ConfigError({ file: config.file, key: 'encryption.recipients' }, error.message, {
      hint: error.hint,
      cause: error,
    });
  }
}

/**
 * Refuses an `--ephemeral-directory` where its plaintext rows would do harm: inside a git
 * directory, in the git-tracked backup directory (a host directory's `<table>.sql` files have
 * the same names) or in the user-data directory, or where a file is in the way. Throws a
 * UsageError (exit 2) before the run starts.
 */
function checkEphemeralDirectory(dir: string, config: Config): void {
  const refuse = (problem: string): never => {
    throw new UsageError(`--ephemeral-directory ${dir} ${problem}`, {
      hint: 'Give a directory of its own, e.g. /var/tmp/schema_backup-ephemeral.',
    });
  };
  const gitDir = gitDirectoryContaining(dir);
  if (gitDir !== undefined) refuse(`is inside the git directory ${gitDir}`);
  if (isSameOrInside(dir, config.backupDir))
    refuse(`is inside csv2_backup_dir ${config.backupDir}, which git tracks`);
  const userData = config.userDataBackupDir;
  if (userData !== undefined && isSameOrInside(dir, userData))
    refuse(`is inside user_data_backup_dir ${userData}, which holds encrypted data only`);
  const blocker = fileInTheWay(dir);
  if (blocker !== undefined)
    refuse(blocker === dir ? 'is a file' : `cannot be made: ${blocker} is a file`);
}

export async function snapshotHandler(args: SnapshotArgs): Promise<number> {
  const context = await loadContext(args);
  const { config } = context;
  if (args.ephemeralDirectory !== undefined)
    checkEphemeralDirectory(resolve(args.ephemeralDirectory), config);
  const servicesWanted = args.model === true || args.target === true;
  // A dry run is no backup: it is not recorded as a run (state, metrics, notifications).
  return withRunJournal(
    context,
    'snapshot',
    async (journal, interruption) => {
      const { logger } = journal;
      const connection = await journal.phase('connect', () => connectionFor(context, args));
      const display = progressDisplay('snapshot', logger, { quiet: args.quiet === true });
      const options: SnapshotOptions = {
        ...(await snapshotOptionsFrom(config, connection, args, logger)),
        onProgress: display.onProgress,
      };
      if (servicesWanted && options.dryRun)
        logger.info(
          `dry run: would stop ${config.consumers.join(', ') || 'no consumers'}, restart ${config.providers.join(', ') || 'no providers'}, snapshot, and ${args.target === true ? 'leave the consumers stopped' : 'start the consumers again'}`,
        );
      const mode: ServiceMode =
        servicesWanted && !options.dryRun
          ? {
              kind: args.target === true ? 'target' : 'model',
              control: await consumerControlFor(
                config,
                options.host,
                `snapshot --${args.target === true ? 'target' : 'model'}`,
                logger,
              ),
              readyTimeoutSeconds: config.serviceManager.readyTimeoutSeconds,
            }
          : { kind: 'none', pauseHooks: config.pauseHooks, pauseSeconds: config.pauseInterval };
      const engine = await engineFor(config);
      const { snapshot: result, services } = await journal
        .phase('snapshot', () =>
          takeGuardedSnapshot(engine, options, mode, interruption).finally(() => {
            display.close();
          }),
        )
        .catch((error: unknown) => {
          // A failed push leaves commits waiting: the state and the metrics count them.
          if (error instanceof PushError)
            journal.summarize({ unpushedCommits: error.unpushedCommits });
          throw error;
        });
      journalSnapshot(journal, result);
      if (services !== undefined)
        journal.summarize({
          consumersStopped: services.stopped,
          consumersLeftStopped: services.keptStopped,
          consumersNotStarted: services.failedToStart,
        });
      if (args.keep === true && !options.dryRun)
        await keepUserDataCopy(result, config.userDataBackupDir, logger);
      // After the commit and the copy are in place: the local result stands whatever happens here.
      const copyDir = userDataCopyOf(result, config.userDataBackupDir);
      const offsiteFailure =
        options.dryRun || args.offsite === false || copyDir === undefined
          ? undefined
          : await uploadAfterRun(
              journal,
              config,
              options.host,
              { kind: 'user-data', copyDir },
              interruption,
            );
      if (args.json === true) printJson(services === undefined ? result : { ...result, services });
      else {
        printSnapshotSummary(result);
        if (services !== undefined) printServices(services);
      }
      if (offsiteFailure !== undefined) throw offsiteFailure;
      return services === undefined ? ExitCode.Ok : failIfNotStarted(services, logger);
    },
    { enabled: args.dryRun !== true },
  );
}

function printServices(services: ServicesOutcome): void {
  if (services.keptStopped.length > 0) {
    printLine(`  consumers left STOPPED: ${services.keptStopped.join(', ')}`);
    printLine('  start them when done with: schema_backup services start');
  } else if (services.stopped.length > 0) {
    printLine(`  consumers stopped and started again: ${services.stopped.join(', ')}`);
  }
}

function printSnapshotSummary(result: SnapshotResult): void {
  const count = (predicate: (change: string) => boolean): number =>
    [...result.tables, ...result.objects].filter((item) => predicate(item.change)).length;
  const byCategory = new Map<string, number>();
  for (const table of result.tables)
    byCategory.set(table.category, (byCategory.get(table.category) ?? 0) + 1);
  const categories = [...byCategory.entries()]
    .map(([category, n]) => `${String(n)} ${category}`)
    .join(', ');
  const verb = result.git === 'dry-run' ? 'would write' : 'wrote';
  printLine(`snapshot of ${result.database} (${result.serverVersion}) into ${result.hostDir}`);
  printLine(
    `  ${String(result.tables.length)} tables (${categories || 'none'}), ${String(result.plan.ignored.length)} ignored, ${String(result.objects.length)} other objects`,
  );
  printLine(
    `  ${verb} ${String(count((c) => c === 'added'))} new and ${String(count((c) => c === 'changed'))} changed files, removed ${String(result.removed.length)}, ${String(count((c) => c === 'unchanged'))} unchanged`,
  );
  switch (result.git) {
    case 'committed':
      printLine(
        `  committed ${result.commit?.id.slice(0, 12) ?? ''}: ${result.commit?.message.split('\n')[0] ?? ''}${result.pushed === undefined ? '' : ` (pushed to ${result.pushed})`}`,
      );
      break;
    case 'no-changes':
      printLine(
        `  no changes: nothing committed${result.pushed === undefined ? '' : ` (pushed ${String(result.pushedCommits ?? 0)} waiting commit(s) to ${result.pushed})`}`,
      );
      break;
    case 'no-repository':
      printLine('  not in a git repository: nothing committed');
      break;
    case 'disabled':
      printLine('  commit disabled: nothing committed');
      break;
    case 'dry-run':
      printLine('  dry run: nothing written or committed');
      break;
  }
  if (result.ephemeralFiles.length > 0)
    printLine(
      `  ephemeral rows: ${String(result.ephemeralFiles.length)} table(s) written to ${dirname(result.ephemeralFiles[0] ?? '')}`,
    );
  switch (result.userData.outcome) {
    case 'created':
      printLine(
        `  user data: ${String(result.userData.tables)} local tables encrypted into ${result.userData.path}${result.userData.reused > 0 ? ` (${String(result.userData.reused)} unchanged, linked to the previous copy)` : ''}`,
      );
      break;
    case 'unchanged':
      printLine(`  user data: unchanged since ${result.userData.latest}, no new copy`);
      break;
    case 'not-configured':
      printLine('  user data: NOT saved (user_data_backup_dir is not set)');
      break;
    default:
      break;
  }
}
