/**
 * The options of `schema_backup load`, apart from its handler (load.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { LoadArgs } from './load.js';
import { withConnectionOptions } from '../connection-options.js';
import { numberOption } from '../number-option.js';

export function loadBuilder(yargs: Argv): Argv<LoadArgs> {
  return withConnectionOptions(yargs)
    .positional('dump', { type: 'string', describe: 'a dump file or dump directory' })
    .option('into', {
      type: 'string',
      describe:
        'database to load a single-database dump into (default: the one it was taken from); created when missing',
    })
    .option('identity', {
      type: 'string',
      describe: 'age identity file for an encrypted dump (default: encryption.identity_file)',
    })
    .option('threads', {
      type: 'number',
      coerce: numberOption('--threads', { min: 1, max: 64, whole: true }),
      describe: 'connections loading at once (default: dump.threads, else 2)',
    })
    .option('force', {
      type: 'boolean',
      describe: 'load into a database that already has objects (replaces them; no rollback)',
    })
    .option('keep-events-enabled', {
      type: 'boolean',
      describe:
        "create events with the status the dump has (default: disabled, so the copy runs none of the original's scheduled jobs)",
    })
    .option('allow-external-access', {
      type: 'boolean',
      describe:
        'create definitions that reach outside the database: MariaDB tables kept in files or on other servers (CONNECT, FEDERATED, SPIDER, S3, MERGE UNION, DATA/INDEX DIRECTORY, CONNECTION), PostgreSQL extensions with file or network access and routines in C or untrusted languages (default: refused)',
    })
    .option('from-offsite', {
      type: 'string',
      describe:
        "take the dump from offsite.remote: its name or timestamp, or nothing for this host's newest",
    })
    .option('json', { type: 'boolean', describe: 'print the result as JSON' });
}
