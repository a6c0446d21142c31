/**
 * The restore workflow: rebuild a database from a snapshot's files (any source: the working
 * tree, a git revision, the original tool's directory) plus the decrypted rows of a
 * user-data copy. Order: tables with the rows of global tables, then the rows of local
 * tables, then sequences, views, functions, procedures, triggers and events, so that loading
 * rows fires no trigger. Tables load in parallel over several connections, consecutive
 * one-row INSERTs joined into multi-row statements.
 *
 * Until it has finished, the target holds a table `_schema_backup_restore_incomplete`: a
 * restore that failed never looks like a good one.
 *
 * Workflows never print, read argv or the environment, or exit.
 */
import { performance } from 'node:perf_hooks';
import type { ConnectionOptions, Engine, Session } from '../engine/engine.js';
import { RestoreError, UsageError } from '../errors.js';
import { isSelected } from '../support/glob.js';
import type { Logger } from '../support/logger.js';
import { objectForFileName } from '../snapshot/layout.js';
import { MANIFEST_FILE } from '../snapshot/manifest.js';
import { readStatements, splitInsert, type SqlStatement } from './sql-statements.js';
import type { SnapshotSource } from './snapshot-source.js';

/** Marks a restore in progress or failed; dropped when the restore completes. */
export const INCOMPLETE_MARKER = '_schema_backup_restore_incomplete';

/**
 * Joined INSERTs stay under this many characters: well within the server's 16 MiB
 * max_allowed_packet, and small enough that the garbage of sent statements stays young.
 */
const MAX_BATCH_BYTES = 1024 * 1024;

/** The encrypted rows of local tables to load after the tables. */
export interface UserDataInput {
  /** Files by table name. */
  readonly files: ReadonlyMap<string, () => AsyncIterable<Uint8Array>>;
  readonly description: string;
}

export interface RestoreOptions {
  /** Server to restore to (any database in it is ignored). */
  readonly connection: ConnectionOptions;
  readonly target: string;
  readonly source: SnapshotSource;
  readonly userData?: UserDataInput | undefined;
  /** The files are the original tool's mysqldump output: every file holds one table. */
  readonly legacy: boolean;
  /** Restore into a database that exists and is not empty. */
  readonly force: boolean;
  /** The configured database: never a target unless `forceSource`. */
  readonly protectedDatabase?: string | undefined;
  readonly forceSource: boolean;
  /** Shell-style patterns of table names to restore / leave out. */
  readonly only: readonly string[];
  readonly exclude: readonly string[];
  /** Connections loading tables at once. */
  readonly parallel: number;
  readonly logger: Logger;
  readonly onProgress?: ((progress: RestoreProgress) => void) | undefined;
}

export interface RestoreProgress {
  readonly phase: 'tables' | 'user data' | 'objects';
  readonly name: string;
  readonly done: number;
  readonly total: number;
}

export interface RestoreResult {
  readonly target: string;
  readonly source: string;
  readonly tables: readonly string[];
  readonly userDataTables: readonly string[];
  readonly objects: readonly string[];
  readonly statements: number;
  readonly seconds: number;
}

interface PlannedFile {
  readonly file: string;
  readonly name: string;
  readonly kind: string;
}

const OBJECT_ORDER = ['sequence', 'view', 'function', 'procedure', 'trigger', 'event'];

/** Restores `options.source` into `options.target` with `engine`. */
export async function restoreSnapshot(
  engine: Engine,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const started = performance.now();
  if (
    options.protectedDatabase !== undefined &&
    options.target === options.protectedDatabase &&
    !options.forceSource
  ) {
    throw new UsageError(
      `${options.target} is the database the config snapshots: refusing to restore over it`,
      {
        hint: 'Restore into another database (--target NAME), or pass --force-source if you really mean to overwrite it.',
      },
    );
  }
  const plan = await planFiles(options.source, options);
  if (plan.tables.length === 0)
    throw new UsageError(`no table files to restore in ${options.source.description}`);

  const admin = await engine.openSession({ ...options.connection, database: undefined });
  const sessions: Session[] = [];
  let statements = 0;
  try {
    await prepareTarget(engine, admin, options, plan);
    for (let index = 0; index < Math.max(1, options.parallel); index += 1) {
      sessions.push(await engine.openSession({ ...options.connection, database: options.target }));
    }
    const [first] = sessions;
    if (first === undefined) throw new UsageError('no connection');
    const q = (name: string): string => engine.dialect.quoteIdentifier(name);
    await first.execute(
      `CREATE TABLE ${q(INCOMPLETE_MARKER)} (note VARCHAR(255)) COMMENT 'schema_backup: restore in progress or failed'`,
    );
    await first.execute(
      `INSERT INTO ${q(INCOMPLETE_MARKER)} VALUES (${engine.dialect.quoteString(`from ${options.source.description}`.slice(0, 255))})`,
    );

    // Tables and their rows, in parallel.
    let done = 0;
    await runOnSessions(sessions, plan.tables, async (session, entry) => {
      statements += await loadSnapshotFile(engine, session, options, entry.file);
      done += 1;
      options.onProgress?.({ phase: 'tables', name: entry.name, done, total: plan.tables.length });
    });

    // The rows of local tables, decrypted as they stream.
    const restoredTables = new Set(plan.tables.map((entry) => entry.name));
    const userDataTables = [...(options.userData?.files.keys() ?? [])]
      .filter((name) => restoredTables.has(name))
      .sort();
    done = 0;
    await runOnSessions(sessions, userDataTables, async (session, table) => {
      const open = options.userData?.files.get(table);
      if (open === undefined) return;
      statements += await executeScript(
        engine,
        session,
        open(),
        `${table} (user data)`,
        false,
        true,
      );
      done += 1;
      options.onProgress?.({ phase: 'user data', name: table, done, total: userDataTables.length });
    });

    // Everything else, one after the other in dependency order; views that use views not
    // yet created are retried until no more can be.
    done = 0;
    statements += await createObjects(engine, first, plan.objects, options, () => {
      done += 1;
      return done;
    });

    await first.execute(`DROP TABLE ${q(INCOMPLETE_MARKER)}`);
    return {
      target: options.target,
      source: options.source.description,
      tables: plan.tables.map((entry) => entry.name),
      userDataTables,
      objects: plan.objects.map((entry) => `${entry.kind} ${entry.name}`),
      statements,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const session of sessions) await session.close();
    await admin.close();
  }
}

/** The table files and the object files to load, selected by --only/--exclude. */
async function planFiles(
  source: SnapshotSource,
  options: RestoreOptions,
): Promise<{ tables: PlannedFile[]; objects: PlannedFile[] }> {
  const tables: PlannedFile[] = [];
  const objects: PlannedFile[] = [];
  const selected = (name: string): boolean => isSelected(name, options.only, options.exclude);
  for (const file of await source.listFiles()) {
    if (file === MANIFEST_FILE || file.startsWith('.') || file === 'README.md') continue;
    if (options.legacy) {
      // The original wrote one mysqldump file per table, named after it, triggers included.
      if (selected(file)) tables.push({ file, name: file, kind: 'table' });
      continue;
    }
    const suffix = /(?:\.(view|sequence|procedure|function|trigger|event))?\.sql$/.exec(file);
    if (!suffix) continue;
    const kind = suffix[1] ?? 'table';
    // A name too long for a file name is cut and hashed: the file's first line names it.
    const header =
      kind === 'trigger' || objectForFileName(file) === undefined
        ? await readHeader(source, file)
        : undefined;
    const name = objectForFileName(file)?.name ?? header?.name;
    if (name === undefined) {
      options.logger.warn(`${file}: not a snapshot file this version can read; skipped`);
      continue;
    }
    if (kind === 'table') {
      if (selected(name)) tables.push({ file, name, kind });
    } else if (kind === 'trigger') {
      // A trigger goes with its table.
      if (header?.table === undefined || selected(header.table)) objects.push({ file, name, kind });
    } else {
      objects.push({ file, name, kind });
    }
  }
  objects.sort(
    (a, b) =>
      OBJECT_ORDER.indexOf(a.kind) - OBJECT_ORDER.indexOf(b.kind) || (a.file < b.file ? -1 : 1),
  );
  return { tables, objects };
}

/** `-- schema_backup: <kind> `name`[ on table `t`]`, the first line of a snapshot file. */
async function readHeader(
  source: SnapshotSource,
  file: string,
): Promise<{ name: string; table?: string | undefined } | undefined> {
  let head = '';
  for await (const chunk of source.readFile(file)) {
    head += chunk.toString('utf8');
    if (head.includes('\n') || head.length > 4096) break;
  }
  const match = /^-- schema_backup: \w+ `((?:[^`]|``)*)`(?: on table `((?:[^`]|``)*)`)?/.exec(head);
  if (!match) return undefined;
  return { name: (match[1] ?? '').replace(/``/g, '`'), table: match[2]?.replace(/``/g, '`') };
}

async function prepareTarget(
  engine: Engine,
  admin: Session,
  options: RestoreOptions,
  plan: { tables: readonly PlannedFile[]; objects: readonly PlannedFile[] },
): Promise<void> {
  const q = (name: string): string => engine.dialect.quoteIdentifier(name);
  if ((await admin.listDatabases()).includes(options.target)) {
    const inventory = await admin.listObjects(options.target);
    const count =
      inventory.tables.length +
      inventory.views.length +
      inventory.sequences.length +
      inventory.procedures.length +
      inventory.functions.length +
      inventory.events.length;
    if (count > 0 && !options.force) {
      throw new UsageError(
        `the target database ${options.target} exists and is not empty (${String(count)} objects)`,
        {
          hint: 'Choose a new database name, drop it first, or pass --force to restore over what is there.',
        },
      );
    }
    if (count > 0) {
      options.logger.warn(
        `restoring into ${options.target}, which already holds ${String(count)} objects (--force): those the snapshot has are replaced`,
      );
      // What the snapshot creates is dropped first (a failed restore's leftovers included);
      // anything else in the target stays.
      await admin.execute('SET foreign_key_checks = 0');
      for (const entry of [...plan.objects].reverse()) {
        await admin.execute(
          `DROP ${entry.kind.toUpperCase()} IF EXISTS ${q(options.target)}.${q(entry.name)}`,
        );
      }
      for (const entry of plan.tables)
        await admin.execute(`DROP TABLE IF EXISTS ${q(options.target)}.${q(entry.name)}`);
    }
    if (inventory.tables.includes(INCOMPLETE_MARKER))
      await admin.execute(`DROP TABLE ${q(options.target)}.${q(INCOMPLETE_MARKER)}`);
  } else {
    await admin.execute(`CREATE DATABASE ${q(options.target)} CHARACTER SET utf8mb4`);
  }
}

/** Runs `work` for every item, each of `sessions` taking the next item when free. */
async function runOnSessions<T>(
  sessions: readonly Session[],
  items: readonly T[],
  work: (session: Session, item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  await Promise.all(
    sessions.map(async (session) => {
      while (next < items.length && failure === undefined) {
        const item = items[next] as T;
        next += 1;
        try {
          await work(session, item);
        } catch (error) {
          failure ??= error;
        }
      }
    }),
  );
  if (failure !== undefined)
    throw failure instanceof Error ? failure : new RestoreError('restore failed');
}

/** Runs one file of the snapshot (DEFINERs dropped from legacy files); returns statements sent. */
function loadSnapshotFile(
  engine: Engine,
  session: Session,
  options: RestoreOptions,
  file: string,
): Promise<number> {
  return executeScript(engine, session, options.source.readFile(file), file, options.legacy, false);
}

/**
 * Executes a script on `session`, joining consecutive one-row INSERTs into one table into
 * multi-row statements. Returns the number of statements sent. `secretRows`: the script
 * holds user data, so a failure names the statement's table but never the server's message
 * (it may quote a value).
 */
async function executeScript(
  engine: Engine,
  session: Session,
  chunks: AsyncIterable<Buffer | Uint8Array>,
  label: string,
  stripDefiner: boolean,
  secretRows: boolean,
): Promise<number> {
  let sent = 0;
  let batch: { prefix: string; values: string[]; bytes: number; lines: number[] } | undefined;
  /** `lines`: the line of each row joined into `sql` (one, for any other statement). */
  const send = async (sql: string, lines: readonly number[]): Promise<void> => {
    try {
      await session.execute(sql);
      sent += 1;
    } catch (error) {
      throw restoreFailure(error, label, failedLine(error, lines), sql, secretRows);
    }
  };
  const flush = async (): Promise<void> => {
    if (batch === undefined) return;
    const { prefix, values, lines } = batch;
    batch = undefined;
    await send(`${prefix}${values.join(',')}`, lines);
  };
  let statement: SqlStatement;
  for await (statement of readStatements(chunks)) {
    const insert = splitInsert(statement.sql);
    if (insert !== undefined) {
      if (
        batch !== undefined &&
        (batch.prefix !== insert.prefix || batch.bytes + insert.values.length > MAX_BATCH_BYTES)
      )
        await flush();
      batch ??= { prefix: insert.prefix, values: [], bytes: insert.prefix.length, lines: [] };
      batch.values.push(insert.values);
      batch.lines.push(statement.line);
      batch.bytes += insert.values.length + 1;
      continue;
    }
    await flush();
    // mysqldump wraps each table's rows in LOCK TABLES t WRITE … UNLOCK TABLES. Under LOCK
    // TABLES an INSERT must also have locked every table its foreign keys name, and a table
    // another session creates meanwhile (files load in parallel) is not: the load fails
    // with ER_TABLE_NOT_LOCKED now and then. The locks only speed up MyISAM; leave them out.
    if (/^(?:UN)?LOCK\s+TABLES?\b/i.test(statement.sql)) continue;
    await send(stripDefiner ? engine.dialect.withoutDefiner(statement.sql) : statement.sql, [
      statement.line,
    ]);
  }
  await flush();
  return sent;
}

async function createObjects(
  engine: Engine,
  session: Session,
  objects: readonly PlannedFile[],
  options: RestoreOptions,
  tick: () => number,
): Promise<number> {
  let statements = 0;
  let waiting = objects.filter((entry) => entry.kind === 'view');
  const load = async (entry: PlannedFile): Promise<void> => {
    statements += await loadSnapshotFile(engine, session, options, entry.file);
    options.onProgress?.({
      phase: 'objects',
      name: `${entry.kind} ${entry.name}`,
      done: tick(),
      total: objects.length,
    });
  };
  for (const entry of objects.filter((candidate) => candidate.kind === 'sequence'))
    await load(entry);
  // A view may select from a view that sorts after it: retry until a pass makes no progress.
  while (waiting.length > 0) {
    const failed: PlannedFile[] = [];
    let lastError: unknown;
    for (const entry of waiting) {
      try {
        await load(entry);
      } catch (error) {
        failed.push(entry);
        lastError = error;
      }
    }
    if (failed.length === waiting.length) {
      // With --only/--exclude, a view of a table left out cannot be created: say so, go on.
      if (options.only.length === 0 && options.exclude.length === 0) {
        throw lastError instanceof Error ? lastError : new RestoreError('restore failed');
      }
      for (const entry of failed)
        options.logger.warn(
          `view ${entry.name} not restored: it uses a table left out (${(lastError as Error).message})`,
        );
      break;
    }
    waiting = failed;
  }
  for (const entry of objects.filter(
    (candidate) => candidate.kind !== 'sequence' && candidate.kind !== 'view',
  ))
    await load(entry);
  return statements;
}

/**
 * The line of the row the server names (`… at row N` of a joined INSERT), else the first
 * line of the statement.
 */
function failedLine(error: unknown, lines: readonly number[]): number {
  const row = /at row (\d+)/.exec(error instanceof Error ? error.message : '');
  const index = row ? Number(row[1]) - 1 : 0;
  return lines[index] ?? lines[0] ?? 0;
}

function restoreFailure(
  error: unknown,
  label: string,
  line: number,
  sql: string,
  secretRows: boolean,
): RestoreError {
  const insert = /^INSERT INTO (`(?:[^`]|``)+`)/.exec(sql);
  const what = insert ? `INSERT into ${insert[1] ?? ''}` : sql.split(/\s+/).slice(0, 3).join(' ');
  const reason = secretRows
    ? `server error ${(error as { code?: string }).code ?? 'unknown'}`
    : (error as Error).message;
  return new RestoreError(
    `restore failed in ${label} at line ${String(line)} (${what}): ${reason}`,
    {
      cause: secretRows ? undefined : error,
      hint: `The target is left marked incomplete (table ${INCOMPLETE_MARKER}); fix the cause and restore again with --force.`,
    },
  );
}
