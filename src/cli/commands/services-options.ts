/**
 * The options of `schema_backup services`, apart from its handler (services.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { ServicesArgs } from './services.js';

const ACTIONS = ['stop', 'start', 'status'] as const;

export function servicesBuilder(yargs: Argv): Argv<ServicesArgs> {
  return yargs
    .positional('action', { type: 'string', choices: ACTIONS, describe: 'what to do' })
    .option('resume', {
      type: 'boolean',
      describe: 'start: only the services a run stopped and did not start again',
    })
    .option('json', { type: 'boolean', describe: 'status: print as JSON' })
    .demandOption('action');
}
