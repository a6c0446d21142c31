/**
 * The options of `schema_backup check`, apart from its handler (check.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { CheckArgs } from './check.js';
import { withConnectionOptions } from '../connection-options.js';

export function checkBuilder(yargs: Argv): Argv<CheckArgs> {
  return withConnectionOptions(yargs).option('json', {
    type: 'boolean',
    describe: 'print the report as JSON',
  });
}
