/**
 * The options of `schema_backup status`, apart from its handler (status.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { StatusArgs } from './status.js';

export function statusBuilder(yargs: Argv): Argv<StatusArgs> {
  return yargs
    .option('max-age', {
      type: 'string',
      describe:
        'exit 1 when the last successful snapshot is older than this (e.g. 26h, 90m, 2d); default status.max_age',
    })
    .option('all-hosts', {
      type: 'boolean',
      describe:
        'every host directory of the repository: its last snapshot commit, stale past the max age (exit 1); no database needed',
    })
    .option('backup-dir', {
      type: 'string',
      describe:
        'with --all-hosts: this clone of the shared repository instead of backup_dir (no config needed)',
    })
    .option('json', { type: 'boolean', describe: 'print the status as JSON' });
}
