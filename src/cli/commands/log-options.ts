/**
 * The options of `schema_backup log`, apart from its handler (log.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { LogArgs } from './log.js';
import { withBackupHostOption } from '../backup-host-option.js';
import { numberOption } from '../number-option.js';

export function logBuilder(yargs: Argv): Argv<LogArgs> {
  return withBackupHostOption(yargs)
    .option('table', { alias: 't', type: 'string', describe: 'the history of one table' })
    .option('since', {
      type: 'string',
      describe: 'commits after this date (as git log --since takes it)',
    })
    .option('max-count', {
      alias: 'n',
      type: 'number',
      describe: 'at most this many commits',
      coerce: numberOption('--max-count', { min: 1, whole: true }),
    })
    .option('json', { type: 'boolean', describe: 'print the history as JSON' });
}
