/**
 * `load`: restores a dump (a single file or a directory) into a database: decrypts,
 * decompresses, runs the SQL over several connections, and checks that the dump is complete
 * (end marker, manifest, checksums, row counts). A dump that turns out damaged part way is
 * rolled back: what the load created is dropped, so the target is never left half-loaded.
 * Every statement is checked before it runs (the engine's checker of a dump file; the data of
 * a PostgreSQL COPY by that checker too, line by line before it is sent): load runs
 * only what a dump writes, as restore runs only what a snapshot writes, so a dump altered
 * after it was written (on a shared disk, off site) runs nothing else. A definition that
 * reaches outside the database is refused unless {@link LoadOptions.allowExternalAccess},
 * and an event the dump enables is created disabled unless {@link LoadOptions.keepEventsEnabled}.
 *
 * A workflow: never prints, never reads argv or the environment. Must not import the CLI,
 * mysql2 or yargs.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Readable, type Duplex } from 'node:stream';
import {
  isNewDatabaseObject,
  newDumpLedger,
  objectsOfKind,
  openSessions,
  standaloneObjects,
  type AdminStatements,
  type ConnectionOptions,
  type Engine,
  type CheckedData,
  type CheckedStatement,
  type DataStatement,
  type CheckerOptions,
  type FileExpectation,
  type ScriptFormat,
  type ScriptStatement,
  type Session,
  type StatementChecker,
} from '../engine/engine.js';
import {
  DumpError,
  ExternalAccessError,
  isSchemaBackupError,
  UnexpectedStatementError,
  UsageError,
} from '../errors.js';
import {
  clearIncompleteMarker,
  hasIncompleteMarker,
  INCOMPLETE_MARKER,
  incompleteTargetError,
  markIncomplete,
} from '../restore/incomplete-marker.js';
import { mapWithConcurrency } from '../support/concurrency.js';
import type { Logger } from '../support/logger.js';
import { printable } from '../support/printable.js';
import { compressionOfName, createDecompressor, type Compression } from './compression.js';
import {
  DUMP_FORMAT_VERSION,
  END_MARKER_PREFIX,
  FILE_END_MARKER,
  HEADER_PREFIX,
  MANIFEST_NAME,
  MINIMUM_DUMP_BYTES,
  type DumpEndMarker,
  type DumpHeader,
  type DumpManifest,
} from './dump-format.js';
import { ProgressTracker, type Progress } from '../support/progress.js';

export interface LoadOptions {
  readonly connection: ConnectionOptions;
  /** A dump file or a dump directory. */
  readonly path: string;
  /** Database to load a single-database dump into; default the one it was taken from. */
  readonly into?: string | undefined;
  /** age identities (secret keys) for an encrypted dump. */
  readonly identities: readonly string[];
  /** Connections loading at once. */
  readonly threads: number;
  /** Load into a database that already has tables (they are replaced; no rollback). */
  readonly force: boolean;
  /**
   * Create each event with the status the dump gives it. By default an event the dump
   * enables is created disabled (its CREATE with only the status changed, after the
   * dump's own text was checked), so that a loaded copy runs none of the original's
   * scheduled jobs.
   */
  readonly keepEventsEnabled?: boolean | undefined;
  /**
   * Create what the dump defines even where it reaches outside the database (see
   * {@link CheckerOptions.allowExternalAccess}). Refused by default.
   */
  readonly allowExternalAccess?: boolean | undefined;
  readonly logger: Logger;
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface LoadResult {
  readonly databases: readonly string[];
  readonly tables: number;
  readonly rows: number;
  /** SQL bytes run. */
  readonly bytes: number;
  readonly seconds: number;
  /** Events the dump enables, created disabled (`database.event`; empty with `keepEventsEnabled`). */
  readonly disabledEvents: readonly string[];
}

/** Counts per `database.table` of the rows the INSERTs put in. */
type RowCounts = Map<string, number>;

/** Loads a dump. Throws DumpError (exit 1) for a damaged dump, UsageError for a bad target. */
export async function loadDump(engine: Engine, options: LoadOptions): Promise<LoadResult> {
  const started = Date.now();
  const info = await stat(options.path).catch((error: unknown) => {
    throw new UsageError(`${options.path} does not exist or cannot be read`, { cause: error });
  });
  const directory = info.isDirectory();
  const manifest = directory ? await readManifest(options.path) : undefined;
  if (manifest !== undefined) await verifyFiles(options.path, manifest);
  if (!directory && info.size < MINIMUM_DUMP_BYTES)
    throw new DumpError(
      `${options.path} is implausibly small (${String(info.size)} bytes): not a complete dump`,
    );
  const encrypted = directory ? (manifest?.encrypted ?? false) : options.path.endsWith('.age');
  if (encrypted && options.identities.length === 0)
    throw new UsageError(`${options.path} is encrypted: an age identity is needed to load it`, {
      hint: 'Pass --identity key.txt, or set encryption.identity_file.',
    });
  const compression = directory
    ? (manifest?.compression ?? 'none')
    : compressionOfName(options.path);
  if (!directory && compression === 'none' && !encrypted) await checkPlainEnd(options.path);

  // The header tells the databases; a single file's header is its first line. The file is
  // closed again once the header is read, and opened anew for the load only after the
  // targets have passed their checks: a refusal leaves no stream (or zstd process) behind.
  const header: DumpHeader =
    manifest ??
    (await readHeader(
      openScript(options.path, compression, encrypted, options.identities),
      options.path,
    ));
  if (header.version > DUMP_FORMAT_VERSION)
    throw new DumpError(`${options.path} is a newer dump format (${String(header.version)})`, {
      hint: 'Load it with a newer schema_backup.',
    });
  const multiple = header.databases.length > 1;
  if (multiple && options.into !== undefined)
    throw new UsageError('--into works with a single-database dump only', {
      hint: `This dump holds ${header.databases.join(', ')}; they load under their own names.`,
    });
  const targets = multiple ? [...header.databases] : [options.into ?? header.databases[0] ?? ''];
  if (targets.some((name) => name === '')) throw new DumpError(`${options.path} names no database`);
  // A dump's header names its databases, and a tampered one could name the server's own.
  const system = engine.script.admin.systemDatabases;
  const own = targets.find((name) => system.includes(name.toLowerCase()));
  if (own !== undefined)
    throw new UsageError(`load does not fill ${printable(own)}, a database of the server's own`, {
      hint: 'Load into another database (--into NAME). Nothing was loaded.',
    });
  // What each file may hold: what a dump writes, into these targets only.
  const expectation = (): FileExpectation => ({
    kind: 'dump',
    databases: targets,
    ledger: newDumpLedger(),
  });
  // The directory form's statements other than rows are few: all checked before anything
  // is loaded (the rows' files as they load).
  if (manifest !== undefined) await checkStructure(engine.script, options, manifest, expectation());

  const threads = Math.max(1, Math.floor(options.threads));
  const sessions: Session[] = [];
  let admin: Session | undefined;
  const created: string[] = [];
  const emptied: string[] = [];
  const marked: string[] = [];
  const tracker = new ProgressTracker(header.tables, header.rowsEstimate, options.onProgress);
  // Work on one target over a session of its own: a PostgreSQL session sees and changes only
  // the database it connected to.
  const inTarget = async <T>(
    target: string,
    work: (session: Session) => Promise<T>,
  ): Promise<T> => {
    const session = await engine.openSession({ ...options.connection, database: target });
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  };
  try {
    // Creates the targets: connected to none of them.
    admin = await engine.openSession({
      ...options.connection,
      database: engine.script.admin.adminDatabase,
    });
    const existing = new Set(await admin.listDatabases());
    for (const target of targets) {
      if (!existing.has(target)) {
        await admin.execute(engine.script.admin.createDatabase(target));
        created.push(target);
        continue;
      }
      const inventory = await inTarget(target, (session) => session.listObjects(target));
      if (hasIncompleteMarker(engine, inventory) && !options.force)
        throw incompleteTargetError(target, 'load');
      // What every new database holds (PostgreSQL's schema public) does not count.
      const count = standaloneObjects(inventory).filter(
        (object) => !isNewDatabaseObject(engine, object),
      ).length;
      if (count > 0 && !options.force)
        throw new UsageError(`the database ${target} is not empty (${String(count)} objects)`, {
          hint: 'Load into a new or empty database (--into NAME), or pass --force to replace its tables.',
        });
      if (count === 0) emptied.push(target);
    }
    // Until the load has finished, every target says so: a load killed part way leaves the
    // marker, and the next load or restore refuses the target without --force.
    for (const target of targets) {
      await inTarget(target, (session) =>
        markIncomplete(session, engine.script.admin, target, `load of ${options.path}`),
      );
      marked.push(target);
    }
    // Every loader starts in the first target (a dump of several switches them with USE).
    sessions.push(
      ...(await openSessions(
        engine,
        { ...options.connection, database: targets[0] ?? '' },
        threads - sessions.length,
      )),
    );
    const counts: RowCounts = new Map();
    let bytes = 0;
    const expected = expectation();
    const disabledEvents: string[] = [];
    if (manifest !== undefined) {
      bytes = await loadDirectory(
        engine.script,
        options,
        manifest,
        sessions,
        counts,
        tracker,
        multiple,
        expected,
        disabledEvents,
      );
      compareCounts(counts, manifest.tableRows, options.path, multiple ? undefined : targets[0]);
    } else {
      const result = await runScript(
        engine.script,
        openScript(options.path, compression, encrypted, options.identities),
        sessions,
        counts,
        tracker,
        options.signal,
        multiple ? undefined : targets[0],
        {
          label: options.path,
          checker: engine.script.checker(expected, checkerOptions(options)),
          disableEvents: options.keepEventsEnabled !== true,
          disabledEvents,
        },
      );
      bytes = result.bytes;
      const marker = parseEndMarker(result.tail);
      if (marker === undefined)
        throw new DumpError(
          `${options.path} has no end marker: the dump was cut short and is incomplete`,
          { hint: 'Use another dump; whatever this load created has been removed.' },
        );
      compareCounts(counts, marker.tables, options.path, multiple ? undefined : targets[0]);
    }
    for (const session of sessions.splice(0)) await session.close();
    for (const target of targets)
      await inTarget(target, (session) =>
        clearIncompleteMarker(session, engine.script.admin, target),
      );
    tracker.allTablesDone();
    tracker.finish();
    return {
      databases: targets,
      tables: header.tables,
      rows: [...counts.values()].reduce((sum, rows) => sum + rows, 0),
      bytes,
      seconds: (Date.now() - started) / 1000,
      disabledEvents: disabledEvents.sort(),
    };
  } catch (error) {
    // The loaders first: an open statement of theirs would hold the locks the drops need (and
    // PostgreSQL drops no database that a session is connected to).
    for (const session of sessions.splice(0)) await session.close();
    await rollBack(engine, admin, options.connection, created, emptied, options.logger);
    // A target loaded over (--force) is not rolled back: it keeps the marker.
    const forced = marked.filter((name) => !created.includes(name) && !emptied.includes(name));
    if (forced.length > 0)
      options.logger.warn(
        `${forced.join(', ')} ${forced.length === 1 ? 'is' : 'are'} left partly loaded and marked incomplete (table ${INCOMPLETE_MARKER}): load again with --force once the cause is fixed`,
      );
    if (isSchemaBackupError(error)) throw error;
    throw new DumpError(
      `loading ${options.path} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, hint: 'Whatever this load created has been removed.' },
    );
  } finally {
    for (const session of sessions) await session.close();
    await admin?.close();
  }
}

/** Drops what a failed load created: whole databases it made, the objects of ones that were empty. */
async function rollBack(
  engine: Engine,
  session: Session | undefined,
  connection: ConnectionOptions,
  created: readonly string[],
  emptied: readonly string[],
  logger: Logger,
): Promise<void> {
  if (session === undefined) return;
  const admin: AdminStatements = engine.script.admin;
  try {
    for (const name of created) await session.execute(admin.dropDatabase(name));
    for (const name of emptied) {
      const target = await engine.openSession({ ...connection, database: name });
      try {
        const inventory = await target.listObjects(name);
        // Foreign keys first (PostgreSQL: a table they reference then drops), then what the
        // load created, last created first (a view before the tables it selects from); not
        // what every new database holds.
        const drops = [
          ...objectsOfKind(inventory, 'foreign-keys'),
          ...standaloneObjects(inventory)
            .filter((object) => !isNewDatabaseObject(engine, object))
            .reverse(),
        ];
        for (const object of drops)
          await target.execute(admin.dropObject(name, object.kind, object.name, true));
      } finally {
        await target.close();
      }
    }
  } catch (error) {
    logger.error(
      `the failed load could not be rolled back: ${error instanceof Error ? error.message : String(error)}; drop ${[...created, ...emptied].join(', ')} by hand`,
    );
  }
}

async function loadDirectory(
  format: ScriptFormat,
  options: LoadOptions,
  manifest: DumpManifest,
  sessions: readonly Session[],
  counts: RowCounts,
  tracker: ProgressTracker,
  multiple: boolean,
  expected: FileExpectation,
  disabledEvents: string[],
): Promise<number> {
  const database = multiple ? undefined : (options.into ?? manifest.databases[0]);
  let bytes = 0;
  const runFile = async (name: string, session: Session): Promise<void> => {
    const script = openScript(
      join(options.path, name),
      manifest.compression,
      manifest.encrypted,
      options.identities,
    );
    const result = await runScript(
      format,
      script,
      [session],
      counts,
      tracker,
      options.signal,
      database,
      {
        label: name,
        checker: format.checker(expected, checkerOptions(options)),
        disableEvents: options.keepEventsEnabled !== true,
        disabledEvents,
      },
    );
    bytes += result.bytes;
    if (!result.tail.trimEnd().endsWith(FILE_END_MARKER))
      throw new DumpError(`${name} in ${options.path} has no end marker: it is incomplete`);
  };
  const first = sessions[0];
  if (first === undefined) throw new Error('no session');
  for (const file of manifest.files.filter((entry) => entry.kind === 'schema'))
    await runFile(file.name, first);
  const free = [...sessions];
  const dataFiles = manifest.files.filter((entry) => entry.kind === 'data');
  for (const file of dataFiles)
    tracker.expect(
      file.database,
      file.table ?? '',
      dataFiles.filter((other) => other.database === file.database && other.table === file.table)
        .length,
    );
  await mapWithConcurrency(dataFiles, sessions.length, async (file) => {
    const session = free.pop();
    if (session === undefined) throw new Error('no free session');
    try {
      tracker.start(file.table ?? file.name);
      await runFile(file.name, session);
      tracker.itemDone(file.database, file.table ?? '', 0);
    } finally {
      free.push(session);
    }
  });
  for (const file of manifest.files.filter((entry) => entry.kind === 'objects'))
    await runFile(file.name, first);
  return bytes;
}

/**
 * Checks the statements of a directory dump's schema and objects files, in load order, before
 * anything is loaded: a dump altered there is refused with nothing created. Its rows' files
 * are checked as they load.
 */
async function checkStructure(
  format: ScriptFormat,
  options: LoadOptions,
  manifest: DumpManifest,
  expected: FileExpectation,
): Promise<void> {
  const files = [
    ...manifest.files.filter((entry) => entry.kind === 'schema'),
    ...manifest.files.filter((entry) => entry.kind === 'objects'),
  ];
  for (const file of files) {
    const checker = format.checker(expected, checkerOptions(options));
    const script = openScript(
      join(options.path, file.name),
      manifest.compression,
      manifest.encrypted,
      options.identities,
    );
    for await (const statement of format.readStatements(script)) {
      try {
        // Rows go in the data files only.
        if (statement.data !== undefined)
          throw new UnexpectedStatementError(
            'rows (a statement with data) outside a data file: not a statement a dump writes',
          );
        checker.check(statement.sql);
      } catch (error) {
        throw refusal(error, file.name, statement.line, 'Nothing was loaded.');
      }
    }
    try {
      checker.finish();
    } catch (error) {
      throw refusal(error, file.name, 0, 'Nothing was loaded.');
    }
  }
}

/** What the checkers of a load let through beyond the default. */
function checkerOptions(options: LoadOptions): CheckerOptions {
  return { allowExternalAccess: options.allowExternalAccess === true };
}

/** A statement the checker refused, as the error the user sees: the file, the line, the rule. */
function refusal(error: unknown, label: string, line: number, outcome: string): unknown {
  if (!(error instanceof UnexpectedStatementError)) return error;
  const message = `refused to load ${printable(label)} ${line > 0 ? `at line ${String(line)}` : 'at its end'}: ${printable(error.message)}`;
  if (error instanceof ExternalAccessError)
    return new ExternalAccessError(message, {
      cause: error,
      hint: `A dump may hold such a definition, but creating it reaches files, servers or programs outside the database. If you trust where this dump comes from and mean that, pass --allow-external-access. ${outcome}`,
    });
  return new UnexpectedStatementError(message, {
    cause: error,
    hint: `load runs only the statements a dump writes: this dump was altered after it was written, or not written by schema_backup dump. ${outcome}`,
  });
}

/** What a script is checked with, and its name in errors. */
interface ScriptCheck {
  readonly label: string;
  readonly checker: StatementChecker;
  /** Run a checked CREATE EVENT that enables its event as its disabled variant. */
  readonly disableEvents: boolean;
  /** Where the events so created go (`database.event`). */
  readonly disabledEvents: string[];
}

/**
 * Runs a script's statements, each checked by `check.checker` before it runs (or is handed to
 * a session). INSERTs, and statements with data (PostgreSQL's COPY, whose data the checker
 * checks as it streams), go to whichever session is free (rows of different statements do
 * not depend on each other: keys are in the data, checks are off), the blocks of one COPY
 * statement into a COPY left open for them (placeBlock), which a failure of the server
 * inside it (a row against a constraint) fails at once, naming the row's line; so do the index builds
 * after the rows (the engine's `indexBuild`), at once for different tables and for builds that
 * share their table, once every row is in.
 * Every other statement waits for them, then runs on the first session, or on all for `SET`
 * and `USE`, which change a session's state. Every session starts in the state the checker
 * assumes (the engine's session reset). Returns the bytes run and the script's last 64 KiB.
 */
async function runScript(
  format: ScriptFormat,
  script: AsyncIterable<Buffer>,
  sessions: readonly Session[],
  counts: RowCounts,
  tracker: ProgressTracker,
  signal: AbortSignal | undefined,
  singleDatabase: string | undefined,
  check: ScriptCheck,
): Promise<{ bytes: number; tail: string }> {
  const tailKeeper: { tail: Buffer; bytes: number } = { tail: Buffer.alloc(0), bytes: 0 };
  async function* tapped(): AsyncIterable<Buffer> {
    for await (const chunk of script) {
      tailKeeper.bytes += chunk.length;
      tailKeeper.tail =
        chunk.length >= 65536
          ? chunk.subarray(chunk.length - 65536)
          : Buffer.concat([tailKeeper.tail, chunk]).subarray(-65536);
      yield chunk;
    }
  }
  let current = singleDatabase ?? '';
  const free = [...sessions];
  const inFlight = new Set<Promise<void>>();
  const failure: { error: Error | undefined } = { error: undefined };
  const failed = (): Error | undefined => failure.error;
  let waiting: (() => void) | undefined;
  /** Wakes the reader waiting for a session, or for an open COPY to take a block. */
  const wakeReader = (): void => {
    const wake = waiting;
    waiting = undefined;
    wake?.();
  };
  /** Until {@link wakeReader}: a session freed, a block sent, or a failure. */
  const readerWaits = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const error = failed();
    if (error !== undefined) throw error;
  };
  /** COPYs open on the sessions for the next blocks of their statement (see placeBlock). */
  const streams = new Set<RowStream>();
  const blocksPlaced = { count: 0 };
  /** Ends an open COPY: it finishes with the blocks it was given, then frees its session. */
  const endStream = (stream: RowStream): void => {
    if (!streams.delete(stream)) return;
    void stream.statement.end();
  };
  const endStreams = (): void => {
    for (const stream of [...streams]) endStream(stream);
  };
  const settle = async (): Promise<void> => {
    endStreams();
    await Promise.all(inFlight);
    if (failure.error !== undefined) throw failure.error;
  };
  /** Row statements in flight (INSERTs, data), and the index builds under way, by table. */
  const rowsInFlight = { count: 0 };
  const building = new Map<string, { running: number; sharesTable: boolean }>();
  const freeSession = async (): Promise<Session> => {
    while (free.length === 0) {
      // A session held by an open COPY frees once that COPY ends.
      endStreams();
      await readerWaits();
    }
    return free.pop() as Session;
  };
  /**
   * Runs `work` on `session` (taken from the free ones) in the background, then frees it; its
   * failure fails the script. The promise never rejects.
   */
  const inBackground = (
    session: Session,
    work: () => Promise<void>,
    fail: (error: unknown) => Error,
    done?: () => void,
  ): Promise<void> => {
    const task = work()
      .catch((error: unknown) => {
        failure.error ??= fail(error);
      })
      .finally(() => {
        done?.();
        free.push(session);
        inFlight.delete(task);
        wakeReader();
      });
    inFlight.add(task);
    return task;
  };
  const failedStatement =
    (line: number) =>
    (error: unknown): Error =>
      new DumpError(
        `a statement at line ${String(line)} failed: ${withoutSqlText(format, error)}`,
        { cause: error },
      );
  /** Runs a statement other than rows, once every row and index build before it has run. */
  const runOther = async (statement: ScriptStatement): Promise<void> => {
    await settle();
    const used = format.admin.usedDatabase(statement.sql);
    if (used !== undefined) current = used;
    const everywhere = used !== undefined || format.admin.isSessionSetting(statement.sql);
    try {
      if (everywhere) for (const session of sessions) await session.execute(statement.sql);
      else await (sessions[0] as Session).execute(statement.sql);
    } catch (error) {
      throw failedStatement(statement.line)(error);
    }
  };
  /**
   * The error of a COPY the server (or the connection) failed: the table, and the line of the
   * dump the server names (the row's, in the block it came in), else the lines of its blocks.
   */
  const copyFailure =
    (stream: RowStream) =>
    (error: unknown): Error => {
      const line = stream.statement.failedLine;
      const block =
        line === undefined
          ? undefined
          : stream.blocks.find((each) => line >= each.first && line < each.first + each.lines);
      const first = stream.blocks[0]?.line ?? 0;
      const last = stream.blocks.at(-1)?.line ?? first;
      const where =
        block !== undefined && line !== undefined
          ? `at line ${String(block.line + 1 + line - block.first)} of ${printable(check.label)} (in the block of rows from line ${String(block.line)})`
          : `in the rows from line ${String(first)} of ${printable(check.label)}${last === first ? '' : ` (blocks to line ${String(last)})`}`;
      return new DumpError(
        `loading the rows of ${printable(stream.table)} failed ${where}: ${withoutSqlText(format, error)}`,
        { cause: error },
      );
    };
  /**
   * Starts a COPY of `statement` on `session`, held until the COPY finishes: once ended
   * ({@link endStream}), or at once when the server or the connection fails it, which fails
   * the script and wakes the reader, wherever it waits.
   */
  const openStream = (
    session: Session,
    statement: ScriptStatement,
    key: string,
    table: string,
  ): RowStream => {
    if (session.openDataStatement === undefined) {
      free.push(session);
      throw new DumpError(
        `the statement at line ${String(statement.line)} carries data, which this engine cannot load`,
      );
    }
    const stream: RowStream = {
      sql: statement.sql,
      key,
      table,
      statement: session.openDataStatement(statement.sql),
      blocks: [],
      lines: 0,
      bytes: 0,
      busy: false,
      used: 0,
    };
    rowsInFlight.count += 1;
    void inBackground(
      session,
      async () => {
        const rows = await stream.statement.finished;
        counts.set(key, (counts.get(key) ?? 0) + rows);
        tracker.addRows(rows, 0);
      },
      copyFailure(stream),
      () => {
        rowsInFlight.count -= 1;
        streams.delete(stream);
      },
    );
    return stream;
  };
  /** Writes a block (read and checked whole) to a COPY; `busy` until the socket took it. */
  const sendBlock = (
    stream: RowStream,
    line: number,
    block: { chunks: readonly Buffer[]; bytes: number; lines: number },
  ): void => {
    stream.blocks.push({ line, first: stream.lines + 1, lines: block.lines });
    stream.used = blocksPlaced.count += 1;
    stream.lines += block.lines;
    stream.bytes += block.bytes;
    stream.busy = true;
    stream.statement.write(block.chunks).then(
      () => {
        stream.busy = false;
        tracker.addRows(0, block.bytes);
        wakeReader();
      },
      () => {
        // The failure itself comes through the COPY's `finished` (openStream).
        stream.busy = false;
        wakeReader();
      },
    );
    // A COPY is one transaction: a long one is ended, and the next block begins another.
    if (stream.bytes >= STREAM_BYTES) endStream(stream);
  };
  /**
   * Hands a block of a COPY statement to a COPY left open on a session for the blocks of the
   * same statement before it, so that a table's rows go in over a few long COPYs, as
   * pg_restore sends them, not one COPY a block (each COPY costs the server its start, and a
   * dump interleaves the blocks of the tables it reads at once). The block goes to an open
   * COPY of its statement that has taken all its data so far, else to a free session as a
   * new COPY; else, when no COPY of its statement is open, the one of another statement that
   * has taken all its data and waited longest for more is ended (its session frees once the
   * server has loaded it); meanwhile the reader waits.
   */
  const placeBlock = async (
    statement: ScriptStatement,
    key: string,
    table: string,
    block: { chunks: readonly Buffer[]; bytes: number; lines: number },
  ): Promise<void> => {
    for (;;) {
      const error = failed();
      if (error !== undefined) throw error;
      let target: RowStream | undefined;
      let own = false;
      for (const stream of streams) {
        if (stream.sql !== statement.sql || stream.key !== key) continue;
        own = true;
        if (!stream.busy) {
          target = stream;
          break;
        }
      }
      if (target === undefined && free.length > 0) {
        target = openStream(free.pop() as Session, statement, key, table);
        streams.add(target);
      }
      if (target !== undefined) {
        sendBlock(target, statement.line, block);
        return;
      }
      if (!own) {
        // The one whose last block came longest ago: a table read at once with others (the
        // dump's readers interleave their blocks) keeps its COPY.
        let idle: RowStream | undefined;
        for (const stream of streams)
          if (!stream.busy && (idle === undefined || stream.used < idle.used)) idle = stream;
        if (idle !== undefined) endStream(idle);
      }
      await readerWaits();
    }
  };
  /**
   * Data too long to gather, on a COPY of its own: sent as the reader reads (and checks) it;
   * the reader waits for it. Data the checker refuses part way abandons the COPY.
   */
  const streamLong = async (
    statement: ScriptStatement,
    key: string,
    table: string,
    gathered: Gathered,
  ): Promise<void> => {
    const stream = openStream(await freeSession(), statement, key, table);
    stream.blocks.push({ line: statement.line, first: 1, lines: Number.MAX_SAFE_INTEGER });
    const sent = { reading: false };
    try {
      await stream.statement.write(gathered.chunks);
      tracker.addRows(0, gathered.bytes);
      for (;;) {
        sent.reading = true;
        const next = await gathered.rest.next();
        sent.reading = false;
        if (next.done === true) break;
        await stream.statement.write([next.value]);
        tracker.addRows(0, next.value.length);
      }
      await stream.statement.end();
    } catch (error) {
      await stream.statement.abort('the load stopped');
      throw sent.reading ? refusedOrFailed(statement.line)(error) : copyFailure(stream)(error);
    }
  };
  /** Statements checked but not run yet: a DROP and the SETs after it, until its CREATE. */
  const held: ScriptStatement[] = [];
  /**
   * The second steps of split index builds (IndexBuild.split), run in order before the next
   * statement that is not an index build, once every build before it has ended.
   */
  const attaches: ScriptStatement[] = [];
  const runAttaches = async (): Promise<void> => {
    for (const attach of attaches.splice(0)) await runOther(attach);
  };
  const outcome = 'Whatever this load created has been removed.';
  /** A refusal of the checker (of a statement, or of data as it streams), else a failure. */
  const refusedOrFailed =
    (line: number) =>
    (error: unknown): Error => {
      const refused = refusal(error, check.label, line, outcome);
      return isSchemaBackupError(refused) ? refused : failedStatement(line)(refused);
    };
  try {
    await runStatements();
  } catch (error) {
    // The COPYs still open are abandoned (the server keeps none of their rows), and every
    // statement in flight has ended before the sessions are closed.
    const open = [...streams];
    streams.clear();
    await Promise.all(open.map((stream) => stream.statement.abort('the load stopped')));
    await Promise.all(inFlight);
    throw error;
  }
  return { bytes: tailKeeper.bytes, tail: tailKeeper.tail.toString('utf8') };

  async function runStatements(): Promise<void> {
    for (const session of sessions) await session.execute(format.sessionReset);
    // The engine's reader, as restore's: the stock client's split, memory bounded by the
    // longest statement whatever the dump's size.
    for await (const statement of format.readStatements(tapped())) {
      if (signal?.aborted === true) throw new DumpError('the load was interrupted');
      if (failure.error !== undefined) throw failure.error;
      if (statement.data !== undefined) {
        // Rows as data (PostgreSQL's COPY): the statement checked by the file's checker, its
        // data as it streams, and never run as statements.
        let checkedData: CheckedData;
        try {
          if (check.checker.checkData === undefined)
            throw new UnexpectedStatementError('a statement with data, which no dump file holds');
          checkedData = check.checker.checkData(statement.sql, statement.data);
        } catch (error) {
          await settle();
          throw refusal(error, check.label, statement.line, outcome);
        }
        await runAttaches();
        for (const heldStatement of held.splice(0)) await runOther(heldStatement);
        const key = `${current}.${checkedData.table}`;
        let gathered: Gathered;
        try {
          gathered = await gatherData(checkedData.data);
        } catch (error) {
          await settle();
          throw refusedOrFailed(statement.line)(error);
        }
        if (gathered.complete)
          await placeBlock(statement, key, checkedData.table, {
            chunks: gathered.chunks,
            bytes: gathered.bytes,
            lines: checkedData.lines?.() ?? 0,
          });
        else await streamLong(statement, key, checkedData.table, gathered);
        continue;
      }
      let checked: CheckedStatement;
      try {
        checked = check.checker.check(statement.sql);
      } catch (error) {
        // The statements sent before it first: their failure, if any, is reported.
        await settle();
        throw refusal(error, check.label, statement.line, outcome);
      }
      // A DROP … IF EXISTS runs only once the CREATE it comes before is accepted: one refused
      // there leaves the object it named alone.
      if (checked.kind === 'drop' || (held.length > 0 && checked.kind === 'set')) {
        held.push(statement);
        continue;
      }
      const index = sessions.length > 1 ? format.admin.indexBuild?.(statement.sql) : undefined;
      if (index === undefined) await runAttaches();
      for (const heldStatement of held.splice(0)) await runOther(heldStatement);
      if (check.disableEvents && checked.disabledEvent !== undefined) {
        await runOther({ ...statement, sql: checked.disabledEvent });
        check.disabledEvents.push(`${current}.${checked.event ?? ''}`);
        continue;
      }
      if (index !== undefined) {
        // The indexes of different tables are built at once, once every row is in, and so
        // are those of one table whose builds share it (a split build among them, its
        // attach deferred to the next statement that is not a build).
        const sharesTable = index.split !== undefined || index.sharesTable;
        const sql = index.split?.build ?? statement.sql;
        if (index.split !== undefined) attaches.push({ ...statement, sql: index.split.attach });
        const under = building.get(index.table);
        if (rowsInFlight.count > 0 || (under !== undefined && !(under.sharesTable && sharesTable)))
          await settle();
        const session = await freeSession();
        const entry = building.get(index.table) ?? { running: 0, sharesTable };
        entry.running += 1;
        building.set(index.table, entry);
        void inBackground(
          session,
          async () => {
            await executeRetryingDeadlocks(format, session, sql);
          },
          failedStatement(statement.line),
          () => {
            entry.running -= 1;
            if (entry.running === 0) building.delete(index.table);
          },
        );
        continue;
      }
      const table = format.insertTable(statement.sql);
      if (table !== undefined) {
        rowsInFlight.count += 1;
        const session = await freeSession().catch((error: unknown) => {
          rowsInFlight.count -= 1;
          throw error;
        });
        const key = `${current}.${table}`;
        const sqlBytes = statement.sql.length;
        void inBackground(
          session,
          async () => {
            const rows = await executeRetryingDeadlocks(format, session, statement.sql);
            counts.set(key, (counts.get(key) ?? 0) + rows);
            tracker.addRows(rows, sqlBytes);
          },
          failedStatement(statement.line),
          () => {
            rowsInFlight.count -= 1;
          },
        );
        continue;
      }
      await runOther(statement);
    }
    await runAttaches();
    await settle();
    try {
      check.checker.finish();
    } catch (error) {
      throw refusal(error, check.label, 0, outcome);
    }
    for (const heldStatement of held.splice(0)) await runOther(heldStatement);
  }
}

/**
 * The plaintext SQL of a dump file: decrypted, then decompressed. Ending the iteration early
 * (`return()`, or a `for await` left by a throw) destroys every stage: the file, the
 * decrypter and the decompressor (for zstd possibly a child process, which would otherwise
 * sit blocked on a full pipe and keep the process alive).
 */
function openScript(
  path: string,
  compression: Compression,
  encrypted: boolean,
  identities: readonly string[],
): AsyncIterable<Buffer> {
  const source: Readable = encrypted
    ? Readable.from(decrypted(path, identities), { objectMode: false })
    : createReadStream(path, { highWaterMark: 1024 * 1024 });
  const decompressor: Duplex | undefined = createDecompressor(compression);
  if (decompressor === undefined) return toBuffers(source, path);
  // pipeline(), unlike pipe(), destroys the source when the decompressor is destroyed, and
  // hands a failure of either stage to the decompressor, where toBuffers() sees it.
  pipeline(source, decompressor, () => undefined);
  return toBuffers(decompressor, path);
}

/**
 * The plaintext of an age file. The decrypter is loaded on first use: importing age-encryption
 * costs every command 60 ms of start-up otherwise.
 */
async function* decrypted(path: string, identities: readonly string[]): AsyncIterable<Uint8Array> {
  const { decryptAgeFile } = await import('../crypto/decrypt-stream.js');
  yield* decryptAgeFile(path, identities);
}

async function* toBuffers(source: Readable, path: string): AsyncIterable<Buffer> {
  try {
    for await (const chunk of source as AsyncIterable<Buffer | Uint8Array>)
      yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
  } catch (error) {
    if (isSchemaBackupError(error)) throw error;
    throw new DumpError(
      `${path} is corrupt or truncated: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, hint: 'Use another dump; whatever this load created has been removed.' },
    );
  }
}

/**
 * The header of a single-file dump, its first line. Closes `script` in every case, read
 * through or not.
 */
async function readHeader(script: AsyncIterable<Buffer>, path: string): Promise<DumpHeader> {
  const iterator = script[Symbol.asyncIterator]();
  let text = '';
  try {
    while (!text.includes('\n') && text.length < 1_000_000) {
      const next = await iterator.next();
      if (next.done === true) break;
      text += next.value.toString('utf8');
    }
  } finally {
    await iterator.return?.();
  }
  const line = text.split('\n', 1)[0] ?? '';
  if (!line.startsWith(HEADER_PREFIX))
    throw new DumpError(`${path} is not a schema_backup dump (no header line)`, {
      hint: 'A dump made by another tool loads with its own tool, or with `mariadb DATABASE < FILE`.',
    });
  try {
    return JSON.parse(line.slice(HEADER_PREFIX.length)) as DumpHeader;
  } catch (error) {
    throw new DumpError(`${path} has a damaged header line`, { cause: error });
  }
}

/** The end marker of a plain file, read from its tail before anything is loaded. */
async function checkPlainEnd(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 65536);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    if (parseEndMarker(buffer.toString('utf8')) === undefined)
      throw new DumpError(`${path} has no end marker: the dump was cut short and is incomplete`, {
        hint: 'Use another dump. Nothing was loaded.',
      });
  } finally {
    await handle.close();
  }
}

function parseEndMarker(tail: string): DumpEndMarker | undefined {
  const lines = tail.trimEnd().split('\n');
  const last = lines.at(-1) ?? '';
  if (!last.startsWith(END_MARKER_PREFIX)) return undefined;
  try {
    return JSON.parse(last.slice(END_MARKER_PREFIX.length)) as DumpEndMarker;
  } catch {
    return undefined;
  }
}

async function readManifest(directory: string): Promise<DumpManifest> {
  let text: string;
  try {
    text = await readFile(join(directory, MANIFEST_NAME), 'utf8');
  } catch (error) {
    throw new DumpError(
      `${directory} has no ${MANIFEST_NAME}: the dump is incomplete or not a dump`,
      {
        cause: error,
        hint: 'The manifest is written last; without it the dump did not finish. Nothing was loaded.',
      },
    );
  }
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (parsed.format !== 'schema_backup dump' || !Array.isArray(parsed.files))
      throw new Error('not a dump manifest');
    return parsed as unknown as DumpManifest;
  } catch (error) {
    throw new DumpError(`${join(directory, MANIFEST_NAME)} is damaged`, { cause: error });
  }
}

/** Every file of the manifest is there, with its size and checksum: checked before loading. */
async function verifyFiles(directory: string, manifest: DumpManifest): Promise<void> {
  await mapWithConcurrency(manifest.files, 2, async (file) => {
    const path = join(directory, file.name);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    } catch (error) {
      throw new DumpError(`${path} is missing or unreadable: the dump is incomplete`, {
        cause: error,
        hint: 'Use another dump. Nothing was loaded.',
      });
    }
    if (bytes !== file.bytes || hash.digest('hex') !== file.sha256)
      throw new DumpError(
        `${path} does not match the manifest (${bytes === file.bytes ? 'checksum' : `size ${String(bytes)}, expected ${String(file.bytes)}`}): it is corrupt or truncated`,
        { hint: 'Use another dump. Nothing was loaded.' },
      );
  });
}

function compareCounts(
  counts: RowCounts,
  expected: Readonly<Record<string, number>>,
  path: string,
  into: string | undefined,
): void {
  for (const [key, rows] of Object.entries(expected)) {
    // A single-database dump loaded under another name: compare by table.
    const table = key.slice(key.indexOf('.') + 1);
    const loaded =
      into === undefined ? (counts.get(key) ?? 0) : (counts.get(`${into}.${table}`) ?? 0);
    if (loaded !== rows)
      throw new DumpError(
        `${path}: table ${key} loaded ${String(loaded)} rows where the dump recorded ${String(rows)}`,
        { hint: 'The dump is damaged. Whatever this load created has been removed.' },
      );
  }
}

/**
 * The message of a failed statement without the server's quote of the statement: that text
 * may hold row values, which never go into an error or a log.
 */
function withoutSqlText(format: ScriptFormat, error: unknown): string {
  return format.admin.withoutStatementText(error instanceof Error ? error.message : String(error));
}

/**
 * Data of one statement gathered in memory before it goes to a session, at most: a dump's
 * blocks (about 1 MiB each) go whole to a COPY, while longer data streams from the script
 * with memory bounded.
 */
const GATHERED_DATA_BYTES = 4 * 1024 * 1024;

/** The bytes a COPY left open takes before it is ended (one transaction). */
const STREAM_BYTES = 64 * 1024 * 1024;

/** The first bytes of a statement's data, read (and so checked). */
interface Gathered {
  readonly chunks: readonly Buffer[];
  readonly bytes: number;
  /** Whether that was all of it; else the rest follows from `rest`. */
  readonly complete: boolean;
  readonly rest: AsyncIterator<Buffer>;
}

/** A COPY left open on a session for the blocks of its statement (see runScript's placeBlock). */
interface RowStream {
  readonly sql: string;
  /** `database.table`. */
  readonly key: string;
  /** The table, as the checker named it. */
  readonly table: string;
  readonly statement: DataStatement;
  /** The blocks sent: each one's COPY line in the script, its first line in the COPY, its lines. */
  readonly blocks: { readonly line: number; readonly first: number; readonly lines: number }[];
  /** Lines and bytes sent. */
  lines: number;
  bytes: number;
  /** A block is on its way: the socket has not taken all of it yet. */
  busy: boolean;
  /** When its last block came (blocks placed before it, of every COPY). */
  used: number;
}

/** The first {@link GATHERED_DATA_BYTES} of `data` read (and so checked). */
async function gatherData(data: AsyncIterable<Buffer>): Promise<Gathered> {
  const iterator = data[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let bytes = 0;
  while (bytes < GATHERED_DATA_BYTES) {
    const next = await iterator.next();
    if (next.done === true) return { chunks, bytes, complete: true, rest: iterator };
    chunks.push(next.value);
    bytes += next.value.length;
  }
  return { chunks, bytes, complete: false, rest: iterator };
}

const MAX_ATTEMPTS = 5;

/**
 * Runs one INSERT (autocommit: its own transaction). Two connections inserting into the same
 * table can deadlock on its index pages; InnoDB then rolls the victim statement back whole,
 * so running it again is safe and is what the server asks for.
 */
async function executeRetryingDeadlocks(
  format: ScriptFormat,
  session: Session,
  sql: string,
): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await session.executeCounting(sql);
    } catch (error) {
      if (!format.admin.isRolledBackWhole(error) || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}
