/**
 * The options of `schema_backup dump`, apart from its handler (dump.ts): main.ts builds every
 * command's options at start-up and imports a handler, with its dependencies, only when
 * that command runs.
 */
import type { Argv } from 'yargs';
import type { DumpArgs } from './dump.js';
import { withConnectionOptions } from '../connection-options.js';
import { numberOption } from '../number-option.js';
import { COMPRESSIONS } from '../../dump/compression.js';

export function dumpBuilder(yargs: Argv): Argv<DumpArgs> {
  return withConnectionOptions(yargs)
    .option('output', {
      alias: 'o',
      type: 'string',
      describe:
        'write the dump to FILE (or directory with --dir), or to stdout with - (default: a timestamped name in dump.dir)',
    })
    .option('dir', {
      type: 'boolean',
      describe: 'directory form: one file per table (and per key range) plus manifest.json',
    })
    .option('compress', {
      type: 'string',
      choices: COMPRESSIONS,
      describe: 'compression (default: dump.compression, else zstd when available, else gzip)',
    })
    .option('encrypt', {
      type: 'boolean',
      describe:
        'encrypt to encryption.recipients (default: dump.encrypt, else yes when recipients are configured); --no-encrypt to write plain SQL',
    })
    .option('threads', {
      type: 'number',
      coerce: numberOption('--threads', { min: 1, max: 64, whole: true }),
      describe: 'connections reading at once (default: dump.threads, else 2)',
    })
    .option('keep', {
      type: 'boolean',
      describe: 'mark the dump as manual: retention keeps it forever (<name>.keep)',
    })
    .option('databases', {
      type: 'string',
      array: true,
      describe:
        'dump these databases instead of database.name (PostgreSQL: one, as a dump holds one)',
    })
    .option('all-databases', {
      type: 'boolean',
      describe:
        'MariaDB: dump every database but mysql, information_schema, performance_schema and sys',
    })
    .option('only', {
      type: 'string',
      array: true,
      describe:
        'only tables matching these shell patterns (e.g. def_*), names as the categories of the config write them',
    })
    .option('exclude', {
      type: 'string',
      array: true,
      describe: 'leave out tables matching these shell patterns (names as for --only)',
    })
    .option('json', { type: 'boolean', describe: 'print the result as JSON' })
    .option('offsite', {
      type: 'boolean',
      describe:
        'upload the dump to offsite.remote (--no-offsite: keep it local); default yes when offsite: is configured and the dump goes to dump.dir',
    })
    .conflicts('databases', 'all-databases');
}
