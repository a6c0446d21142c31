/**
 * `dump`: every table's structure and rows, and the views, triggers, routines, events and
 * sequences of one or more databases, read in parallel over several connections that share
 * one consistent snapshot, written as one SQL stream or as a directory of per-table files
 * with a manifest; compressed, then age-encrypted; named with the host, the database and a
 * UTC timestamp, written under a hidden temporary name and renamed only when complete.
 *
 * A workflow: never prints (logs through the Logger, reports progress through a callback),
 * never reads argv or the environment. Must not import the CLI, mysql2 or yargs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { escapeCommentText } from '../support/printable.js';
import {
  insertableColumns,
  namesOfKind,
  objectsOfKind,
  openSessions,
  type ObjectKind,
  type ConnectionOptions,
  type DumpScript,
  type Engine,
  type ObjectDefinition,
  type ObjectRef,
  type RowRange,
  type SchemaFilter,
  type Session,
  type SnapshotPosition,
  type TableDescription,
} from '../engine/engine.js';
import { DumpError, InternalError, isSchemaBackupError, UsageError } from '../errors.js';
import { copyTimestamp } from '../snapshot/user-data-copy.js';
import { renameDurably, syncDirectory, writeFileAtomic } from '../support/atomic-write.js';
import { mapWithConcurrency } from '../support/concurrency.js';
import { isSelected } from '../support/glob.js';
import type { Logger } from '../support/logger.js';
import { pathExists } from '../support/path-exists.js';
import { COMPRESSION_EXTENSION, type Compression } from './compression.js';
import {
  databasePart,
  DUMP_FORMAT_VERSION,
  dumpExtension,
  dumpName,
  END_MARKER_PREFIX,
  FILE_END_MARKER,
  HEADER_PREFIX,
  MANIFEST_NAME,
  MINIMUM_DUMP_BYTES,
  safeFilePart,
  SYSTEM_DATABASES,
  temporaryDumpName,
  type DumpEndMarker,
  type DumpHeader,
  type DumpManifest,
  type ManifestFile,
} from './dump-format.js';
import { DumpOutput, type DumpOutputTarget } from './dump-output.js';
import { ProgressTracker, type Progress } from '../support/progress.js';

export interface DumpOptions {
  readonly connection: ConnectionOptions;
  /** Databases to dump; ignored with `allDatabases`. */
  readonly databases: readonly string[];
  /** Every database but the server's own (mysql, information_schema, performance_schema, sys). */
  readonly allDatabases: boolean;
  /** PostgreSQL: only the objects of these schemas (`database.schemas`); omitted: every one but the server's own. */
  readonly schemas?: readonly string[] | undefined;
  /** Shell patterns of table names to keep (none = all) and to leave out. */
  readonly only: readonly string[];
  readonly exclude: readonly string[];
  /** Host name for the dump's name. */
  readonly host: string;
  /** Where a dump goes when no output is given. */
  readonly dumpDir: string;
  /** An explicit file or directory path, or a stream (stdout); undefined = a name in `dumpDir`. */
  readonly output?: { readonly path: string } | { readonly stream: NodeJS.WritableStream };
  /** One SQL stream, or a directory of per-table files and a manifest. */
  readonly form: 'file' | 'directory';
  readonly compression: Compression;
  /** age recipients; empty = not encrypted. */
  readonly recipients: readonly string[];
  /** Connections reading at once. */
  readonly threads: number;
  /**
   * Tables with more rows than this (by the server's estimate) are read in parts of about
   * this many rows, where the engine can cut them (Session.planRowRanges).
   */
  readonly chunkRows: number;
  /** Mark the dump as kept forever by retention (`<name>.keep`). */
  readonly keep: boolean;
  readonly now?: Date | undefined;
  readonly logger: Logger;
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /** Aborting stops the dump and removes what it wrote. */
  readonly signal?: AbortSignal | undefined;
}

export interface DumpResult {
  /** The dump's final path; undefined when written to a stream. */
  readonly path: string | undefined;
  readonly databases: readonly string[];
  readonly tables: number;
  readonly rows: number;
  /** Bytes written (compressed, encrypted). */
  readonly bytes: number;
  /** SQL bytes before compression. */
  readonly sqlBytes: number;
  readonly seconds: number;
  /** False when the snapshot could not be shared and one connection read everything. */
  readonly consistent: boolean;
  readonly parallel: number;
  readonly position: SnapshotPosition | undefined;
}

/** One database as planned: its tables and their definitions, and its other objects as SQL. */
interface PlannedDatabase {
  readonly name: string;
  readonly tables: readonly PlannedTable[];
  /**
   * The objects whose kinds the engine creates before tables (PostgreSQL: extensions,
   * schemas, types, domains, routines, sequences), each sequence with its state.
   */
  readonly leadingSql: string;
  /** Sequences of an engine that creates them after the tables (MariaDB), with their state. */
  readonly sequencesSql: string;
  /**
   * The objects of the kinds after tables, created after the rows: views in an order where
   * each comes after those it uses, then the other kinds in the engine's order (PostgreSQL:
   * foreign keys, materialized views, triggers, policies; MariaDB: routines, triggers, events).
   * First, those of kinds before tables that the inventory lists after the last table.
   */
  readonly objectsSql: string;
  /** `ALTER DATABASE …` giving the current database this one's default character set and collation. */
  readonly defaultsSql: string;
}

interface PlannedTable {
  readonly database: string;
  readonly description: TableDescription;
  /**
   * The objects of kinds before tables that the inventory lists among the tables, right
   * before this one (PostgreSQL: a type of an earlier table's row type that this table's
   * CREATE may need), as SQL; created just before it.
   */
  readonly before: string;
  /** Its `CREATE TABLE`; without the secondary keys that {@link afterRows} adds. */
  readonly definition: ObjectDefinition;
  /**
   * Statements to run after the rows, or empty: the secondary keys left out of the CREATE
   * (see deferred-keys.ts), the definition's `after` statements (PostgreSQL: constraints,
   * indexes, comments, row-level security), and the state of its identity sequences.
   */
  readonly afterRows: string;
  readonly estimatedRows: number;
  /** The server's estimate of the table's data size (`DATA_LENGTH`), in bytes. */
  readonly estimatedBytes: number;
  /** Storage engine or access method, lower case (e.g. `innodb`, `heap`). */
  readonly engine: string;
  /** Read at the shared snapshot's instant (see TableSizeEstimate.transactional). */
  readonly transactional: boolean;
  /** Its secondary keys may be added after its rows (see TableSizeEstimate.keysDeferrable). */
  readonly keysDeferrable: boolean;
  /**
   * The parts its rows are read in, by several connections at once (Session.planRowRanges);
   * undefined: read whole.
   */
  readonly rowRanges: readonly RowRange[] | undefined;
}

/** A unit of reading: a whole table, or one part of it (a range the engine planned). */
interface WorkItem {
  readonly table: PlannedTable;
  readonly range: RowRange | undefined;
  readonly index: number;
  readonly estimatedRows: number;
  readonly estimatedBytes: number;
}

/** Takes a dump. Throws DumpError (or EngineError/CryptoError) and leaves no final file on failure. */
export async function dumpDatabase(engine: Engine, options: DumpOptions): Promise<DumpResult> {
  const started = Date.now();
  const now = options.now ?? new Date();
  const logger = options.logger;
  const sessions: Session[] = [];
  let coordinator: Session | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  try {
    const databases = await resolveDatabases(engine, options);
    if (databases.length > 1 && engine.script.dump.useDatabase === undefined)
      throw new UsageError(
        `a ${engine.name} dump holds one database, not ${String(databases.length)} (${databases.join(', ')})`,
        { hint: 'Dump each database on its own: --databases NAME.' },
      );
    // A dump of one database reads it over sessions connected to it (a PostgreSQL session
    // reads only the database it connected to); one of several switches between them.
    const connection: ConnectionOptions = {
      ...options.connection,
      database: databases.length === 1 ? databases[0] : undefined,
    };
    let threads = Math.max(1, Math.floor(options.threads));
    // The readers, and with several a coordinator that starts their shared snapshot.
    const opened = await openSessions(engine, connection, threads > 1 ? threads + 1 : 1);
    if (threads > 1) coordinator = opened.pop();
    sessions.push(...opened);
    const first = sessions[0];
    if (first === undefined) throw new InternalError('no session to read with');
    let consistent = true;
    let position: SnapshotPosition | undefined;
    if (coordinator !== undefined) {
      const shared = await coordinator.startSharedSnapshot(sessions);
      if (shared.shared) position = shared.position;
      else {
        logger.warn(`${shared.reason}: reading with one connection (slower, still consistent)`);
        for (const extra of sessions.splice(1)) await extra.close();
        threads = 1;
      }
      await coordinator.close();
      coordinator = undefined;
    }
    if (threads === 1) {
      position = await first.readSnapshotPosition();
      await first.startConsistentSnapshot();
    }

    const plan: PlannedDatabase[] = [];
    for (const database of databases)
      plan.push(await planDatabase(first, engine, database, options, sessions.length));
    const nonTransactional = nonTransactionalTables(plan);
    if (nonTransactional.length > 0) {
      consistent = false;
      logger.warn(
        `not transactional, so not read at the snapshot's instant: ${nonTransactional.join(', ')}`,
      );
    }
    const items = workItems(plan);
    const tracker = new ProgressTracker(
      plan.reduce((sum, database) => sum + database.tables.length, 0),
      items.reduce((sum, item) => sum + item.estimatedRows, 0),
      options.onProgress,
    );
    for (const item of items)
      tracker.expect(
        item.table.database,
        item.table.description.name,
        items.filter((other) => other.table === item.table).length,
      );
    const header: DumpHeader = {
      version: DUMP_FORMAT_VERSION,
      host: options.host,
      databases,
      server: first.server.version,
      startedAt: now.toISOString(),
      consistent,
      tables: plan.reduce((sum, database) => sum + database.tables.length, 0),
      rowsEstimate: items.reduce((sum, item) => sum + item.estimatedRows, 0),
      position,
    };
    const encrypted = options.recipients.length > 0;
    const extension = dumpExtension(COMPRESSION_EXTENSION[options.compression], encrypted);
    const finalName = dumpName({
      host: options.host,
      database: databasePart(databases, options.allDatabases),
      timestamp: copyTimestamp(now),
      directory: options.form === 'directory',
      extension,
    });
    const outputPath =
      options.output !== undefined && 'path' in options.output
        ? options.output.path
        : options.output === undefined
          ? join(options.dumpDir, finalName)
          : undefined;
    if (outputPath !== undefined) {
      await mkdir(dirname(outputPath), { recursive: true, mode: 0o700 });
      await removeStaleTemporaries(dirname(outputPath), logger);
      if (await pathExists(outputPath))
        throw new UsageError(`${outputPath} already exists`, {
          hint: 'Choose another --output, or remove it first.',
        });
    }
    const temporary =
      outputPath === undefined
        ? undefined
        : join(
            dirname(outputPath),
            temporaryDumpName(basename(outputPath), randomBytes(4).toString('hex')),
          );
    cleanup = async () => {
      if (temporary !== undefined) await rm(temporary, { recursive: true, force: true });
    };
    const context: WriteContext = {
      sessions,
      plan,
      items,
      header,
      tracker,
      options,
      multiple: databases.length > 1 || options.allDatabases,
      script: engine.script.dump,
    };
    let bytes: number;
    let sqlBytes: number;
    if (options.form === 'directory') {
      if (temporary === undefined)
        throw new UsageError('the directory form needs a directory, not stdout');
      ({ bytes, sqlBytes } = await writeDirectory(context, temporary, extension));
    } else {
      const target: DumpOutputTarget =
        temporary !== undefined
          ? { path: temporary }
          : (options.output as { stream: NodeJS.WritableStream });
      ({ bytes, sqlBytes } = await writeSingleFile(context, target));
    }
    if (bytes < MINIMUM_DUMP_BYTES)
      throw new DumpError(
        `the dump is implausibly small (${String(bytes)} bytes): something went wrong`,
      );
    for (const session of sessions) await session.endConsistentSnapshot().catch(() => undefined);
    if (temporary !== undefined && outputPath !== undefined) {
      await renameDurably(temporary, outputPath);
      cleanup = undefined;
      if (options.keep) await writeFileAtomic(`${outputPath}.keep`, '', { mode: 0o600 });
    }
    tracker.finish();
    const progress = tracker.snapshot(true);
    return {
      path: outputPath,
      databases,
      tables: progress.tablesTotal,
      rows: progress.rows,
      bytes,
      sqlBytes,
      seconds: (Date.now() - started) / 1000,
      consistent,
      parallel: threads,
      position,
    };
  } catch (error) {
    if (cleanup !== undefined) await cleanup().catch(() => undefined);
    if (isSchemaBackupError(error)) throw error;
    throw new DumpError(
      `the dump failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
        hint: 'Nothing was left under the final name; see the cause with --verbose.',
      },
    );
  } finally {
    if (coordinator !== undefined) await coordinator.close();
    for (const session of sessions) await session.close();
  }
}

interface WriteContext {
  readonly sessions: readonly Session[];
  readonly plan: readonly PlannedDatabase[];
  readonly items: readonly WorkItem[];
  readonly header: DumpHeader;
  readonly tracker: ProgressTracker;
  readonly options: DumpOptions;
  /** Several databases: statements name them (`CREATE DATABASE`, `USE`). */
  readonly multiple: boolean;
  /** How the engine writes the file's statements. */
  readonly script: DumpScript;
}

/** The single-file form: header, structure, rows (tables in parallel), objects, end marker. */
async function writeSingleFile(
  context: WriteContext,
  target: DumpOutputTarget,
): Promise<{ bytes: number; sqlBytes: number }> {
  const { options, plan } = context;
  const output = await DumpOutput.open(target, {
    compression: options.compression,
    recipients: options.recipients,
    threads: options.threads,
  });
  try {
    await output.write(
      fileStart(context.script, context.header, 'load with `schema_backup load FILE`'),
    );
    const tableRows: Record<string, number> = {};
    for (const database of plan) {
      if (context.multiple)
        await output.write(context.script.useDatabase?.(database.name, true) ?? '');
      await output.write(structureSql(context.script, database));
      const items = context.items.filter((item) => item.table.database === database.name);
      await readItems(context, items, async (_item, chunk, release) =>
        output.write(chunk, release),
      );
      await output.write(afterRowsSql(database));
      for (const table of database.tables) {
        tableRows[`${database.name}.${table.description.name}`] = context.tracker.rowsOf(
          table.database,
          table.description.name,
        );
      }
      await output.write(database.objectsSql);
    }
    const marker: DumpEndMarker = {
      rows: Object.values(tableRows).reduce((sum, rows) => sum + rows, 0),
      tables: tableRows,
    };
    checkAborted(options.signal);
    await output.write(`${END_MARKER_PREFIX}${JSON.stringify(marker)}\n`);
    const result = await output.finish();
    return { bytes: result.bytes, sqlBytes: result.plaintextBytes };
  } catch (error) {
    await output.abort();
    throw error;
  }
}

/** The directory form: per-table schema and data files, per-database objects, then the manifest. */
async function writeDirectory(
  context: WriteContext,
  directory: string,
  extension: string,
): Promise<{ bytes: number; sqlBytes: number }> {
  const { options, plan } = context;
  await mkdir(directory, { mode: 0o700 });
  const files: ManifestFile[] = [];
  let sqlBytes = 0;
  const writeOne = async (
    name: string,
    file: Omit<ManifestFile, 'name' | 'bytes' | 'sha256' | 'rows'>,
    produce: (output: DumpOutput) => Promise<number>,
  ): Promise<ManifestFile> => {
    const output = await DumpOutput.open(
      { path: join(directory, name) },
      {
        compression: options.compression,
        recipients: options.recipients,
        threads: 1,
        checksum: true,
      },
    );
    try {
      await output.write(
        fileStart(context.script, context.header, `${file.kind} of ${file.database}`),
      );
      if (context.multiple)
        await output.write(context.script.useDatabase?.(file.database, false) ?? '');
      const rows = await produce(output);
      await output.write(`${FILE_END_MARKER}\n`);
      const result = await output.finish();
      sqlBytes += result.plaintextBytes;
      return { name, ...file, rows, bytes: result.bytes, sha256: result.sha256 };
    } catch (error) {
      await output.abort();
      throw error;
    }
  };
  for (const database of plan) {
    const prefix = safeFilePart(database.name);
    if (database.leadingSql !== '') {
      files.push(
        await writeOne(
          `${prefix}-definitions${extension}`,
          { kind: 'schema', database: database.name },
          async (output) => {
            await output.write(database.leadingSql);
            return 0;
          },
        ),
      );
    }
    for (const table of database.tables) {
      files.push(
        await writeOne(
          `${prefix}.${safeFilePart(table.description.name)}-schema${extension}`,
          { kind: 'schema', database: database.name, table: table.description.name },
          async (output) => {
            await output.write(table.before + context.script.replaceStructure(table.definition));
            return 0;
          },
        ),
      );
    }
    if (database.sequencesSql !== '') {
      files.push(
        await writeOne(
          `${prefix}-sequences${extension}`,
          { kind: 'schema', database: database.name },
          async (output) => {
            await output.write(database.sequencesSql);
            return 0;
          },
        ),
      );
    }
  }
  const dataFiles = new Array<ManifestFile>(context.items.length);
  const order = new Map(context.items.map((item, index) => [item, index]));
  await readItems(context, context.items, undefined, async (item, read) => {
    const name = `${safeFilePart(item.table.database)}.${safeFilePart(item.table.description.name)}.${String(item.index).padStart(5, '0')}${extension}`;
    dataFiles[order.get(item) ?? 0] = await writeOne(
      name,
      { kind: 'data', database: item.table.database, table: item.table.description.name },
      async (output) => read(async (chunk, release) => output.write(chunk, release)),
    );
  });
  files.push(...dataFiles.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  for (const database of plan) {
    files.push(
      await writeOne(
        `${safeFilePart(database.name)}-objects${extension}`,
        { kind: 'objects', database: database.name },
        async (output) => {
          // The database's defaults before its routines, which record its collation.
          await output.write(database.defaultsSql + afterRowsSql(database) + database.objectsSql);
          return 0;
        },
      ),
    );
  }
  checkAborted(options.signal);
  const tables: Record<string, number> = {};
  for (const database of plan)
    for (const table of database.tables)
      tables[`${database.name}.${table.description.name}`] = context.tracker.rowsOf(
        database.name,
        table.description.name,
      );
  const manifest: DumpManifest = {
    format: 'schema_backup dump',
    ...context.header,
    finishedAt: new Date().toISOString(),
    compression: options.compression,
    encrypted: options.recipients.length > 0,
    rows: Object.values(tables).reduce((sum, rows) => sum + rows, 0),
    tableRows: tables,
    files,
  };
  await writeFile(join(directory, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  await syncDirectory(directory);
  return { bytes: files.reduce((sum, file) => sum + file.bytes, 0), sqlBytes };
}

/** Takes a chunk of SQL; calls `release` (when given) once it no longer needs the buffer. */
type ChunkSink = (chunk: Buffer, release?: () => void) => Promise<void>;

/**
 * Reads `items` over the sessions, at most one item per session at a time, largest first.
 * Either `onChunk` receives every chunk, or `perItem` drives each item's reading itself
 * (`read` streams the item's chunks to its callback and returns the rows).
 */
async function readItems(
  context: WriteContext,
  items: readonly WorkItem[],
  onChunk: ((item: WorkItem, chunk: Buffer, release?: () => void) => Promise<void>) | undefined,
  perItem?: (item: WorkItem, read: (sink: ChunkSink) => Promise<number>) => Promise<void>,
): Promise<void> {
  const free = [...context.sessions];
  // Largest first, by bytes rather than rows: a table of few, wide rows (BLOBs) read last
  // would leave the other connections idle while one reads it alone.
  const sorted = [...items].sort((a, b) => b.estimatedBytes - a.estimatedBytes);
  await mapWithConcurrency(sorted, context.sessions.length, async (item) => {
    const session = free.pop();
    if (session === undefined) throw new Error('no free session');
    try {
      const read = async (sink: ChunkSink): Promise<number> => {
        let rows = 0;
        context.tracker.start(item.table.description.name);
        for await (const chunk of session.readInsertChunks(
          item.table.database,
          item.table.description,
          { range: item.range },
        )) {
          checkAborted(context.options.signal);
          await sink(chunk.sql, chunk.release);
          rows += chunk.rows;
          context.tracker.addRows(chunk.rows, chunk.sql.length);
        }
        context.tracker.itemDone(item.table.database, item.table.description.name, rows);
        return rows;
      };
      if (perItem !== undefined) await perItem(item, read);
      else if (onChunk !== undefined)
        await read(async (chunk, release) => onChunk(item, chunk, release));
    } finally {
      free.push(session);
    }
  });
}

async function resolveDatabases(engine: Engine, options: DumpOptions): Promise<string[]> {
  if (options.allDatabases) {
    const session = await engine.openSession({ ...options.connection, database: undefined });
    try {
      const names = await session.listDatabases();
      return names.filter((name) => !SYSTEM_DATABASES.includes(name.toLowerCase()));
    } finally {
      await session.close();
    }
  }
  if (options.databases.length === 0)
    throw new UsageError('no database to dump', {
      hint: 'Set database.name in the config, or pass --databases NAME... or --all-databases.',
    });
  return [...new Set(options.databases)];
}

async function planDatabase(
  session: Session,
  engine: Engine,
  database: string,
  options: DumpOptions,
  readers: number,
): Promise<PlannedDatabase> {
  const { dialect } = engine;
  const { dump } = engine.script;
  const filter: SchemaFilter = { schemas: options.schemas };
  const inventory = await session.listObjects(database, filter);
  // With the database as the default, SHOW CREATE VIEW leaves it out of the names it
  // writes (as mariadb-dump relies on), so the dump loads under another name too.
  await session.execute(engine.script.admin.useDatabase(database));
  const keep = (name: string): boolean => isSelected(name, options.only, options.exclude);
  const descriptions = await session.describeTables(database, filter);
  const sizes = await session.estimateTableSizes(database, filter);
  const found: Omit<PlannedTable, 'afterRows' | 'before'>[] = [];
  const names = namesOfKind(inventory, 'table')
    .filter(keep)
    .filter((name) => descriptions.has(name));
  const definitions = await tableDefinitions(session, database, names);
  for (const [index, name] of names.entries()) {
    const description = descriptions.get(name) as TableDescription;
    const size = sizes.get(name);
    const estimatedRows = size?.rows ?? 0;
    const estimatedBytes = size?.bytes ?? 0;
    const pieces = wantedPieces(description, estimatedRows, estimatedBytes, options.chunkRows);
    found.push({
      database,
      description,
      definition: definitions[index] as ObjectDefinition,
      estimatedRows,
      estimatedBytes,
      engine: size?.engine.toLowerCase() ?? '',
      transactional: size?.transactional ?? true,
      keysDeferrable: size?.keysDeferrable ?? false,
      rowRanges:
        pieces > 1
          ? await session.planRowRanges(database, description, { pieces, readers })
          : undefined,
    });
  }
  const referenced = dump.referencedTables(found.map((table) => table.definition.sql));
  const tables: PlannedTable[] = [];
  for (const table of found) {
    const deferred =
      table.keysDeferrable &&
      !referenced.has(table.description.name) &&
      table.rowRanges !== undefined
        ? dump.deferSecondaryKeys(table.description.name, table.definition.sql)
        : undefined;
    const statements = [
      ...(deferred === undefined ? [] : [deferred.addKeys]),
      ...dump.afterRows(table.definition),
    ];
    // The identity sequences' states, read at the snapshot: new rows do not reuse a value.
    for (const column of table.description.columns) {
      if (column.identitySequence === undefined) continue;
      const state = await session.readSequenceState(database, column.identitySequence);
      if (state !== undefined)
        statements.push(dialect.sequenceStateStatement(column.identitySequence, state));
    }
    tables.push({
      ...table,
      before: '',
      definition:
        deferred === undefined ? table.definition : { ...table.definition, sql: deferred.create },
      afterRows: statements.map((statement) => dialect.statementLine(statement)).join(''),
    });
  }
  const keptTables = new Set(tables.map((table) => table.description.name));
  const tableAt = engine.objectKinds.indexOf('table');
  const sequenceSql = async (name: string): Promise<string> => {
    const state = await session.readSequenceState(database, name);
    const definition = await session.showCreate(database, 'sequence', name);
    return (
      dump.replaceStructure(definition) +
      // The same statement as a snapshot's sequence file: the next value handed out is the
      // one the source would have handed out next.
      (state === undefined
        ? ''
        : dialect.statementLine(dialect.sequenceStateStatement(name, state)))
    );
  };
  const objectSql = async (kind: ObjectKind, name: string): Promise<string> => {
    const definition = await session.showCreate(database, kind, name);
    return dump.replayableObject(definition, dialect.creationContext(definition));
  };
  let leadingSql = '';
  let sequencesSql = '';
  let objectsSql = '';
  // The kinds before tables in the inventory's order, in which they may interleave (a
  // PostgreSQL domain before the composite type that has a field of it); one the inventory
  // lists among the tables (a composite type of a table's row type) right before the next
  // table it lists, and one it lists after the last table after the rows.
  let pastTables = false;
  /** SQL of the objects listed since the last table, for the next one. */
  let pending = '';
  const before = new Map<string, string>();
  // And one it lists among the views (a PostgreSQL function returning a view's rows) with
  // them, in the inventory's order.
  let pastViews = false;
  const amongViews = new Map<ObjectRef, string>();
  for (const object of inventory.objects) {
    const index = engine.objectKinds.indexOf(object.kind);
    if (isViewKind(object.kind)) pastViews = true;
    if (index === tableAt) {
      pastTables = true;
      if (pending !== '' && keptTables.has(object.name)) {
        before.set(object.name, pending);
        pending = '';
      }
    }
    if (index < 0 || index >= tableAt) continue;
    let sql = '';
    if (object.kind === 'sequence') {
      if (keep(object.name)) sql = await sequenceSql(object.name);
    } else if (object.table === undefined || keptTables.has(object.table))
      sql = await objectSql(object.kind, object.name);
    if (pastViews) amongViews.set(object, sql);
    else if (pastTables) pending += sql;
    else leadingSql += sql;
  }
  objectsSql += pending;
  for (const [index, table] of tables.entries())
    tables[index] = { ...table, before: before.get(table.description.name) ?? '' };
  for (const [index, kind] of engine.objectKinds.entries()) {
    if (kind === 'table' || index < tableAt) continue;
    // Sequences are created before the rows wherever their kind stands (a default takes from one).
    if (kind === 'sequence') {
      for (const name of namesOfKind(inventory, 'sequence').filter(keep))
        sequencesSql += await sequenceSql(name);
      continue;
    }
    // Views and materialized views in one order, each after those it selects from.
    if (kind === 'materialized-view') continue;
    if (kind === 'view' && amongViews.size > 0) {
      for (const object of inventory.objects) {
        if (!isViewKind(object.kind)) objectsSql += amongViews.get(object) ?? '';
        else if (keep(object.name)) objectsSql += await objectSql(object.kind, object.name);
      }
      continue;
    }
    if (kind === 'view') {
      const views: ObjectDefinition[] = [];
      for (const viewKind of ['view', 'materialized-view'] as const)
        for (const name of namesOfKind(inventory, viewKind).filter(keep))
          views.push(await session.showCreate(database, viewKind, name));
      for (const view of orderViews(dump, views))
        objectsSql += dump.replayableObject(view, dialect.creationContext(view));
      continue;
    }
    for (const object of objectsOfKind(inventory, kind)) {
      // What belongs to a table goes where it goes.
      if (object.table !== undefined && !keptTables.has(object.table)) continue;
      objectsSql += await objectSql(kind, object.name);
    }
  }
  const defaults = dialect.databaseDefaultsStatement(await session.readDatabaseDefaults(database));
  const defaultsSql = defaults === undefined ? '' : dialect.statementLine(defaults);
  return { name: database, tables, leadingSql, sequencesSql, objectsSql, defaultsSql };
}

/**
 * The definitions of `names` (tables), in their order: with a few queries for many tables
 * where the session reads them so (PostgreSQL: one query per catalog, not nine per table,
 * each a round trip that a busy machine makes slow), else one SHOW CREATE each.
 */
async function tableDefinitions(
  session: Session,
  database: string,
  names: readonly string[],
): Promise<ObjectDefinition[]> {
  const definitions: ObjectDefinition[] = [];
  if (session.readTables === undefined) {
    for (const name of names) definitions.push(await session.showCreate(database, 'table', name));
    return definitions;
  }
  for await (const read of session.readTables(
    database,
    names.map((name) => ({ name })),
  ))
    definitions.push(read.definition);
  return definitions;
}

/** Views after the views they name (by their quoted name in the definition), else by name. */
/** Views and materialized views: created in one order, each after those it selects from. */
function isViewKind(kind: ObjectKind): boolean {
  return kind === 'view' || kind === 'materialized-view';
}

function orderViews(dump: DumpScript, views: readonly ObjectDefinition[]): ObjectDefinition[] {
  const ordered: ObjectDefinition[] = [];
  const placed = new Set<string>();
  let waiting = [...views];
  while (waiting.length > 0) {
    const ready = waiting.filter((view) =>
      waiting.every(
        (other) => other === view || placed.has(other.name) || !dump.mentions(view.sql, other.name),
      ),
    );
    // A cycle cannot be created by the server; should one appear, keep the name order.
    const next = ready.length > 0 ? ready : waiting;
    for (const view of next) {
      ordered.push(view);
      placed.add(view.name);
    }
    waiting = waiting.filter((view) => !placed.has(view.name));
  }
  return ordered;
}

/** Tables whose engine has no MVCC snapshot: their rows are read as they are when read. */
function nonTransactionalTables(plan: readonly PlannedDatabase[]): string[] {
  return plan.flatMap((database) =>
    database.tables
      .filter((table) => !table.transactional)
      .map((table) => `${database.name}.${table.description.name} (${table.engine})`),
  );
}

/**
 * Data bytes (the server's estimate) above which a table is read in several parts even
 * when it has fewer than `chunkRows` rows, so that a table of wide rows is shared out too.
 */
const CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * How many parts a table's rows are best read in: 1 (whole) unless it is big enough to share
 * out, by the server's estimates; then parts of at most `chunkRows` rows and about
 * {@link CHUNK_BYTES} bytes each. The engine decides whether and how it can cut the table
 * (Session.planRowRanges).
 */
function wantedPieces(
  description: TableDescription,
  estimatedRows: number,
  estimatedBytes: number,
  chunkRows: number,
): number {
  const big = estimatedRows > chunkRows * 1.5 || estimatedBytes > CHUNK_BYTES * 1.5;
  if (!big || insertableColumns(description).length === 0) return 1;
  return Math.max(Math.ceil(estimatedRows / chunkRows), Math.ceil(estimatedBytes / CHUNK_BYTES));
}

/** Whole tables, and the parts of those the engine cut ({@link PlannedTable.rowRanges}). */
function workItems(plan: readonly PlannedDatabase[]): WorkItem[] {
  const items: WorkItem[] = [];
  for (const database of plan) {
    for (const table of database.tables) {
      const ranges = table.rowRanges;
      if (ranges === undefined) {
        items.push({
          table,
          range: undefined,
          index: 0,
          estimatedRows: table.estimatedRows,
          estimatedBytes: table.estimatedBytes,
        });
        continue;
      }
      for (const [index, range] of ranges.entries())
        items.push({
          table,
          range,
          index,
          estimatedRows: Math.ceil(table.estimatedRows / ranges.length),
          estimatedBytes: Math.ceil(table.estimatedBytes / ranges.length),
        });
    }
  }
  return items;
}

/** Header comment, how to load it, and the session settings the rest assumes. */
function fileStart(script: DumpScript, header: DumpHeader, note: string): string {
  // A database name may hold a newline: escaped, it cannot end the comment and start a statement.
  return `${HEADER_PREFIX}${JSON.stringify(header)}\n-- ${escapeCommentText(note)}\n${script.preamble}\n\n`;
}

/** The database's defaults, the objects created before tables, every table's structure, then the sequences. */
function structureSql(script: DumpScript, database: PlannedDatabase): string {
  return (
    database.defaultsSql +
    database.leadingSql +
    database.tables
      .map((table) => table.before + script.replaceStructure(table.definition))
      .join('') +
    database.sequencesSql +
    '\n'
  );
}

/** What completes the tables after their rows: deferred keys, `after` statements, identity states. */
function afterRowsSql(database: PlannedDatabase): string {
  return database.tables.map((table) => table.afterRows).join('');
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true)
    throw new DumpError('the dump was interrupted', {
      hint: 'Nothing was left under the final name.',
    });
}

/** A temporary dump untouched for this long belongs to a run that was killed. */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

/**
 * Removes the hidden temporaries of dumps that were killed (SIGKILL, power loss): those not
 * written to for an hour. A running dump writes continuously, so it is never taken for one.
 */
async function removeStaleTemporaries(directory: string, logger: Logger): Promise<void> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return;
  }
  for (const name of names.filter((entry) => /^\..+\.tmp-[0-9a-f]+$/.test(entry))) {
    const path = join(directory, name);
    try {
      const { mtimeMs } = await stat(path);
      if (Date.now() - mtimeMs < STALE_TEMPORARY_MS) continue;
      await rm(path, { recursive: true, force: true });
      logger.info(`removed ${path}, left by a dump that did not finish`);
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
}
