/**
 * The options of `schema_backup decrypt`, apart from its handler (decrypt.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { DecryptArgs } from './decrypt.js';

export function decryptBuilder(yargs: Argv): Argv<DecryptArgs> {
  return yargs
    .positional('files', {
      type: 'string',
      array: true,
      describe: '.age files to decrypt (default: the tables of a copy)',
    })
    .option('table', {
      alias: 't',
      type: 'string',
      array: true,
      describe: 'tables of the copy to decrypt (default: all)',
    })
    .option('copy', {
      type: 'string',
      describe: 'the copy: latest, or a timestamp directory name',
      // LATEST_LINK of snapshot/layout.ts; a literal keeps start-up light.
      default: 'latest',
    })
    .option('identity', {
      alias: 'i',
      type: 'string',
      describe: 'age identity file (default: encryption.identity_file)',
    })
    .option('from-offsite', {
      type: 'string',
      describe:
        'take the copy from offsite.remote: a timestamp name, or nothing for the newest (or --copy)',
    });
}
