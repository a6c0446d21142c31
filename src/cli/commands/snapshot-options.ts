/**
 * The options of `schema_backup snapshot`, apart from its handler (snapshot.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { SnapshotArgs } from './snapshot.js';
import { withConnectionOptions } from '../connection-options.js';
import { numberOption } from '../number-option.js';

export function snapshotBuilder(yargs: Argv): Argv<SnapshotArgs> {
  return withConnectionOptions(yargs)
    .option('dry-run', {
      type: 'boolean',
      describe: 'read the database and report what would change; write and commit nothing',
    })
    .option('commit', {
      type: 'boolean',
      describe: 'commit the host directory (--no-commit: only write files); default git.commit',
    })
    .option('wait-lock', {
      type: 'number',
      coerce: numberOption('--wait-lock', { min: 0 }),
      describe: 'seconds to wait for another run on this host directory to finish',
      default: 0,
    })
    .option('json', { type: 'boolean', describe: 'print the result as JSON' })
    .option('model', {
      alias: 'm',
      type: 'boolean',
      describe:
        'stop the consumers, restart the providers and wait for the database, snapshot, start the consumers again (also when the snapshot fails)',
    })
    .option('target', {
      // -t/--target is the contract's (DESIGN.md); --keep-stopped says what it does, and is
      // not restore's --target DB.
      alias: ['t', 'keep-stopped'],
      type: 'boolean',
      describe: 'as --model, but leave the consumers stopped (before an upgrade)',
    })
    .option('ephemeral-directory', {
      alias: 'e',
      type: 'string',
      describe: 'also write the rows of ephemeral tables into this directory',
    })
    .option('keep', {
      type: 'boolean',
      describe:
        "mark this run's user-data copy (or the latest one) as manual: prune never deletes it",
    })
    .option('offsite', {
      type: 'boolean',
      describe:
        "upload this run's user-data copy to offsite.remote (--no-offsite: keep this run local); default yes when offsite: is configured",
    })
    .conflicts('model', 'target');
}
