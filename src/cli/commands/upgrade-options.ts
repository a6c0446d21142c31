/**
 * The options of `schema_backup upgrade`, apart from its handler (upgrade.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { UpgradeArgs } from './upgrade.js';
import { withConnectionOptions } from '../connection-options.js';
import { numberOption } from '../number-option.js';

export function upgradeBuilder(yargs: Argv): Argv<UpgradeArgs> {
  // usage() replaces the command's description in its help: it says it again.
  return withConnectionOptions(yargs)
    .usage(
      '$0 upgrade [options] -- CMD [ARGS…]\n\nStop the consumers, snapshot, run CMD (the upgrade), snapshot again, show the schema diff between the two snapshots, and start the consumers again (--keep-stopped: leave them stopped). If CMD fails: no second snapshot, the restore command to go back is printed, the consumers are started, exit 1.',
    )
    .option('dry-run', {
      type: 'boolean',
      describe: 'print the plan; stop, run and commit nothing',
    })
    .option('keep-stopped', {
      type: 'boolean',
      describe: 'leave the consumers stopped at the end',
    })
    .option('shell', {
      type: 'boolean',
      describe: 'run CMD (one string) through /bin/sh -c instead of directly',
    })
    .option('wait-lock', {
      type: 'number',
      coerce: numberOption('--wait-lock', { min: 0 }),
      default: 0,
      describe: 'seconds to wait for another run on this host directory to finish',
    })
    .example('$0 upgrade -- apt-get install -y mariadb-server', 'upgrade the database server')
    .example("$0 upgrade --shell -- 'cd /opt/app && ./migrate'", 'a pipeline needs --shell');
}
