/**
 * The options of `schema_backup prune`, apart from its handler (prune.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { PruneArgs } from './prune.js';
import { numberOption } from '../number-option.js';

export function pruneBuilder(yargs: Argv): Argv<PruneArgs> {
  return yargs
    .option('dry-run', { type: 'boolean', describe: 'list what would be deleted; delete nothing' })
    .option('wait-lock', {
      type: 'number',
      coerce: numberOption('--wait-lock', { min: 0 }),
      describe: 'seconds to wait for a run on this host to finish',
      default: 0,
    })
    .option('json', { type: 'boolean', describe: 'print the result as JSON' })
    .option('offsite', {
      type: 'boolean',
      describe:
        'also apply offsite.retention to the copies and dumps on offsite.remote (--no-offsite: local only); default yes when offsite: is configured',
    });
}
