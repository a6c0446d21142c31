/**
 * `schema_backup dump`: a full dump of every table and row (and views, triggers, routines,
 * events, sequences), consistent, in parallel, compressed and age-encrypted.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { collectRecipients } from '../../crypto/recipients.js';
import { defaultCompression, type Compression } from '../../dump/compression.js';
import { dumpDatabase, type DumpOptions } from '../../dump/dump-database.js';
import { databasePart } from '../../dump/dump-format.js';
import type { RunJournal } from '../../ops/run-journal.js';
import type { Interruption } from '../../support/interruption.js';
import { engineFor } from '../engine-for.js';
import { tablePatterns } from '../table-patterns.js';
import { ExitCode, UsageError } from '../../errors.js';
import { connectionFor, hostNameFor, loadContext, type GlobalArgs } from '../context.js';
import { formatBytes } from '../output/format-bytes.js';
import { progressReporter } from '../output/progress-bar.js';
import { printJson } from '../output/print.js';
import { uploadAfterRun } from '../offsite-after-run.js';
import { withRunJournal } from '../with-run-journal.js';

export interface DumpArgs extends GlobalArgs {
  readonly output?: string | undefined;
  readonly dir?: boolean | undefined;
  readonly compress?: string | undefined;
  readonly encrypt?: boolean | undefined;
  readonly threads?: number | undefined;
  readonly keep?: boolean | undefined;
  readonly databases?: string[] | undefined;
  readonly allDatabases?: boolean | undefined;
  readonly only?: string[] | undefined;
  readonly exclude?: string[] | undefined;
  readonly json?: boolean | undefined;
  readonly offsite?: boolean | undefined;
}

export async function dumpHandler(args: DumpArgs): Promise<number> {
  const context = await loadContext(args);
  const { config } = context;
  const connection = await connectionFor(context, args);
  const toStdout = args.output === '-';
  if (toStdout && args.dir === true)
    throw new UsageError('the directory form cannot go to stdout', {
      hint: 'Drop --dir, or give --output a directory path.',
    });
  const compression = (args.compress ??
    config.dump.compression ??
    defaultCompression()) as Compression;
  const recipients = await collectRecipients(
    config.encryption.recipients,
    config.encryption.recipientsFile,
  );
  const encrypt = args.encrypt ?? config.dump.encrypt ?? recipients.length > 0;
  if (encrypt && recipients.length === 0)
    throw new UsageError('encryption was asked for, but no age recipient is configured', {
      hint: 'List recipients under encryption.recipients, or pass --no-encrypt.',
    });
  const threads = args.threads ?? config.dump.threads;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw new UsageError(`--threads must be a whole number from 1 to 64, not ${String(threads)}`);
  // Only a dump in dump.dir (a timestamped name that retention understands) goes off-site.
  const upload =
    config.offsite !== undefined && args.offsite !== false && args.output === undefined;
  if (upload && !encrypt && !config.offsite.uploadPlaintextDumps)
    throw new UsageError(
      'this dump would not be encrypted, and offsite.upload_plaintext_dumps is false: it would not be uploaded',
      {
        hint: 'Encrypt it (drop --no-encrypt, or set dump.encrypt: true with recipients), pass --no-offsite to keep it local only, or set offsite.upload_plaintext_dumps: true.',
      },
    );
  const databases =
    args.databases !== undefined && args.databases.length > 0
      ? args.databases
      : connection.database === ''
        ? []
        : [connection.database];
  const host = await hostNameFor(config);
  // `-o /dev/null` (a benchmark) or a named pipe: written as a stream, never replaced.
  const device =
    args.output !== undefined && !toStdout && args.dir !== true
      ? await openDeviceOutput(args.output)
      : undefined;
  const run = async (journal: RunJournal, interruption: Interruption): Promise<number> => {
    const engine = await engineFor(config);
    const options: DumpOptions = {
      connection: { ...connection, database: undefined },
      databases,
      allDatabases: args.allDatabases === true,
      schemas: config.database.schemas,
      only: tablePatterns(engine, args.only),
      exclude: tablePatterns(engine, args.exclude),
      host,
      dumpDir: config.dump.dir,
      output: toStdout
        ? { stream: process.stdout }
        : device !== undefined
          ? { stream: device }
          : args.output === undefined
            ? undefined
            : { path: args.output },
      form: args.dir === true ? 'directory' : 'file',
      compression,
      recipients: encrypt ? recipients : [],
      threads,
      chunkRows: config.dump.chunkRows,
      keep: args.keep === true,
      logger: journal.logger,
      onProgress: progressReporter('dumped', journal.logger, { quiet: args.quiet === true }),
      signal: interruption.signal,
    };
    let result;
    try {
      result = await journal.phase('dump', () => dumpDatabase(engine, options));
    } catch (error) {
      // Stopped by a signal: report it as such (exit 128 + n), not as a failed dump.
      interruption.throwIfInterrupted();
      throw error;
    } finally {
      if (device !== undefined) await closeStream(device);
    }
    journal.summarize({
      dump: result.path,
      tables: result.tables,
      rows: result.rows,
      bytes: result.bytes,
      databases: result.databases,
    });
    if (args.json === true && !toStdout) printJson(result);
    else
      journal.logger.info(
        `dumped ${result.databases.join(', ')}: ${String(result.tables)} tables, ${String(result.rows)} rows, ${formatBytes(result.sqlBytes)} of SQL${compression === 'none' ? '' : ` (${formatBytes(result.bytes)} ${compression})`}${options.recipients.length > 0 ? ', encrypted' : ''} in ${result.seconds.toFixed(1)} s with ${String(result.parallel)} connection(s)${result.path === undefined ? '' : ` to ${result.path}`}`,
      );
    // The dump is complete and in place: what happens off-site leaves it there.
    const offsiteFailure =
      upload && result.path !== undefined
        ? await uploadAfterRun(
            journal,
            config,
            host,
            { kind: 'dump', path: result.path },
            interruption,
          )
        : undefined;
    if (offsiteFailure !== undefined) throw offsiteFailure;
    return ExitCode.Ok;
  };
  // Dumps of different databases are series of their own: one must not hide another's failure.
  const series = databasePart(databases, args.allDatabases === true) || undefined;
  return withRunJournal(context, 'dump', run, { series });
}

/**
 * A write stream to `path` when it names a character device or a FIFO (`/dev/null`, a named
 * pipe), which a dump writes into rather than replacing; undefined for anything else.
 */
async function openDeviceOutput(path: string): Promise<WriteStream | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return undefined;
  }
  if (!info.isCharacterDevice() && !info.isFIFO()) return undefined;
  return createWriteStream(path, { flags: 'w' });
}

/** Ends `stream` and resolves once it is closed (or failed: the dump reported that already). */
async function closeStream(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve) => {
    stream.once('close', resolve);
    stream.end();
  });
}
