/**
 * The options of `schema_backup install-timer`, apart from its handler (install-timer.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { InstallTimerArgs } from './install-timer.js';

export function installTimerBuilder(yargs: Argv): Argv<InstallTimerArgs> {
  return yargs
    .option('root', {
      type: 'string',
      describe: 'install below this directory instead of / (etc/systemd/system or etc/cron.d)',
      default: '/',
    })
    .option('dry-run', { type: 'boolean', describe: 'print the files; write nothing' })
    .option('cron', { type: 'boolean', describe: 'install /etc/cron.d/schema_backup instead' })
    .option('at', { type: 'string', describe: 'time of day, HH:MM', default: '02:30' })
    .option('randomized-delay', {
      type: 'string',
      describe: 'random delay after --at (e.g. 15m)',
      default: '15m',
    })
    .option('bin', {
      type: 'string',
      describe: 'path of the schema_backup executable (default: found on PATH, else this one)',
    })
    .option('user', { type: 'string', describe: 'run as this user instead of root' })
    .option('force', { type: 'boolean', describe: 'replace installed files that differ' })
    .option('json', { type: 'boolean', describe: 'print the files written as JSON' });
}
