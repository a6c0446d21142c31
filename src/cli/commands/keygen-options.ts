/**
 * The options of `schema_backup keygen`, apart from its handler (keygen.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { KeygenArgs } from './keygen.js';

export function keygenBuilder(yargs: Argv): Argv<KeygenArgs> {
  return yargs.option('output', {
    alias: 'o',
    type: 'string',
    describe:
      'write the identity to this file (mode 0600; never overwritten) and print only the recipient',
  });
}
