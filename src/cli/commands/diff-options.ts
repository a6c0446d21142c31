/**
 * The options of `schema_backup diff`, apart from its handler (diff.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { DiffArgs } from './diff.js';
import { withConnectionOptions } from '../connection-options.js';
import { withBackupHostOption } from '../backup-host-option.js';

export function diffBuilder(yargs: Argv): Argv<DiffArgs> {
  return withConnectionOptions(withBackupHostOption(yargs))
    .positional('revisions', {
      type: 'string',
      array: true,
      describe: 'A [B]: git revisions (default: HEAD and the working tree)',
    })
    .option('against-host', {
      type: 'string',
      describe:
        'compare --backup-host with this host directory, at the same revision; exit 3 when they differ',
    })
    .option('live', {
      type: 'boolean',
      describe: 'compare the live database with the last commit; exit 3 on drift',
    })
    .option('stat', { type: 'boolean', describe: 'only the summary' })
    .option('json', { type: 'boolean', describe: 'print the result as JSON' })
    .option('table', {
      type: 'string',
      array: true,
      describe: 'only these tables (shell patterns)',
    })
    .option('hosts', {
      type: 'string',
      array: true,
      // Exactly two: a word after them is the revision (`diff --hosts A B HEAD~1`).
      nargs: 2,
      describe:
        'A B: the committed snapshots of two host directories (at HEAD, or the one revision given); exit 3 when they differ',
    })
    .option('model', {
      type: 'string',
      describe:
        'compare every other host directory with this one (at HEAD, or the one revision given); exit 3 when any differs',
    })
    .option('rows', {
      type: 'boolean',
      describe:
        'compare the rows of global tables too (default: yes, but for --hosts and --model, which compare the schema); --no-rows leaves them out',
    })
    .option('backup-dir', {
      type: 'string',
      describe:
        'with --hosts or --model: this clone of the shared repository instead of backup_dir (no config needed)',
    });
}
