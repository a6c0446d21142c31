/**
 * The options of `schema_backup restore`, apart from its handler (restore.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { RestoreArgs, SnapshotSelectionArgs, UserDataSelectionArgs } from './restore.js';
import { withConnectionOptions } from '../connection-options.js';
import { withBackupHostOption } from '../backup-host-option.js';
import { numberOption } from '../number-option.js';

/** --rev and --backup-host, shared with verify. */
export function snapshotSelectionOptions<T>(yargs: Argv<T>): Argv<T & SnapshotSelectionArgs> {
  return withBackupHostOption(yargs).option('rev', {
    type: 'string',
    describe: 'git revision of the snapshot (default: the working tree)',
  });
}

/** --copy, --identity and --no-user-data, shared with verify. */
export function userDataSelectionOptions<T>(yargs: Argv<T>): Argv<T & UserDataSelectionArgs> {
  return yargs
    .option('copy', {
      type: 'string',
      describe:
        'user-data copy: a timestamp directory name, or latest (default: latest; with --rev, the newest copy made by then)',
    })
    .option('identity', {
      alias: 'i',
      type: 'string',
      describe: 'age identity file for the user data (default: encryption.identity_file)',
    })
    .option('user-data', {
      type: 'boolean',
      default: true,
      describe: 'load the rows of local tables (--no-user-data: structure only)',
    });
}

export function restoreBuilder(yargs: Argv): Argv<RestoreArgs> {
  return withConnectionOptions(userDataSelectionOptions(snapshotSelectionOptions(yargs)))
    .option('target', {
      type: 'string',
      demandOption: true,
      describe: 'database to restore into (created when missing)',
    })
    .option('legacy', {
      type: 'string',
      describe: 'restore a directory written by the original tool (one mysqldump file per table)',
    })
    .option('force', {
      type: 'boolean',
      describe: 'restore into a database that exists and is not empty',
    })
    .option('force-source', {
      type: 'boolean',
      describe: 'allow the target to be the database the config snapshots',
    })
    .option('only', {
      type: 'string',
      array: true,
      describe:
        'restore only tables matching these shell patterns, names as the categories of the config write them',
    })
    .option('exclude', {
      type: 'string',
      array: true,
      describe: 'leave out tables matching these shell patterns (names as for --only)',
    })
    .option('parallel', {
      type: 'number',
      coerce: numberOption('--parallel', { min: 1, max: 16, whole: true }),
      default: 2,
      describe: 'connections loading tables at once',
    })
    .option('keep-events-enabled', {
      type: 'boolean',
      describe:
        "create events with the status the snapshot has (default: disabled, so the copy runs none of the original's scheduled jobs)",
    })
    .option('allow-external-access', {
      type: 'boolean',
      describe:
        'create definitions that reach outside the database: MariaDB tables kept in files or on other servers (CONNECT, FEDERATED, SPIDER, S3, MERGE UNION, DATA/INDEX DIRECTORY, CONNECTION), PostgreSQL extensions with file or network access and routines in C or untrusted languages (default: refused)',
    })
    .option('trust', {
      type: 'boolean',
      describe:
        'run every statement of the files as it is and skip the manifest checks (files edited by hand)',
    })
    .option('from-offsite', {
      type: 'string',
      describe:
        'take the user-data copy from offsite.remote: a timestamp name, or nothing for the newest (with --rev, the newest made by then)',
    })
    .conflicts('from-offsite', 'copy')
    .option('json', { type: 'boolean', describe: 'print the result as JSON' });
}
