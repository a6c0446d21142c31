/**
 * The options of `schema_backup verify`, apart from its handler (verify.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { VerifyArgs } from './verify.js';
import { withConnectionOptions } from '../connection-options.js';
import { numberOption } from '../number-option.js';
import { snapshotSelectionOptions, userDataSelectionOptions } from './restore-options.js';

export function verifyBuilder(yargs: Argv): Argv<VerifyArgs> {
  return withConnectionOptions(userDataSelectionOptions(snapshotSelectionOptions(yargs)))
    .option('live', {
      type: 'boolean',
      describe: 'compare the live database with the snapshot instead of a restore',
    })
    .option('parallel', {
      type: 'number',
      coerce: numberOption('--parallel', { min: 1, max: 16, whole: true }),
      default: 2,
      describe: 'connections loading tables at once',
    })
    .option('allow-external-access', {
      type: 'boolean',
      describe:
        'restore into the scratch database definitions that reach outside the database (see restore --allow-external-access)',
    })
    .option('json', { type: 'boolean', describe: 'print the result as JSON' });
}
