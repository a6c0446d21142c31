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
import {
  type AdminStatements,
  type CheckedStatement,
  type CheckerOptions,
  type ConnectionOptions,
  type Engine,
  type FileExpectation,
  isNewDatabaseObject,
  isTableMemberKind,
  isTableNamedKind,
  objectsOfKind,
  openSessions,
  standaloneObjects,
  type ObjectKind,
  type ScriptStatement,
  type Session,
} from '../engine/engine.js';
import {
  ExternalAccessError,
  RestoreError,
  UnexpectedStatementError,
  UsageError,
} from '../errors.js';
import { isSelected } from '../support/glob.js';
import type { Logger } from '../support/logger.js';
import { printable } from '../support/printable.js';
import { ProgressTracker, type ProgressCallback } from '../support/progress.js';
import {
  DATABASE_DEFAULTS_FILE,
  kindOfFileName,
  objectForFileName,
  SNAPSHOT_FILE_SUFFIX,
} from '../snapshot/layout.js';
import { MANIFEST_FILE, parseManifest, type SnapshotManifest } from '../snapshot/manifest.js';
import { SplitDigest } from './file-digest.js';
import {
  clearIncompleteMarker,
  hasIncompleteMarker,
  INCOMPLETE_MARKER,
  markIncomplete,
} from './incomplete-marker.js';
import { readText, type SnapshotSource } from './snapshot-source.js';
import { checkMeasured, PlaintextMeasure, type UserDataInput } from './user-data-input.js';

export type { UserDataFile, UserDataInput } from './user-data-input.js';

export { INCOMPLETE_MARKER } from './incomplete-marker.js';

/**
 * Joined INSERTs stay under this many characters: well within the server's 16 MiB
 * max_allowed_packet, and small enough that the garbage of sent statements stays young.
 */
const MAX_BATCH_BYTES = 1024 * 1024;

export interface RestoreOptions {
  /** Server to restore to (any database in it is ignored). */
  readonly connection: ConnectionOptions;
  readonly target: string;
  /**
   * The target is a scratch database its caller drops whatever happens (verify's): a
   * failure's hint says so, not how to finish the target.
   */
  readonly scratch?: boolean | undefined;
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
  /**
   * Run every statement of the files as it is, and skip the manifest's checks: for files
   * edited by hand. Without it, a file may hold only what a snapshot writes for its object,
   * and must match the manifest's row counts and checksums.
   */
  readonly trust?: boolean | undefined;
  /**
   * Where a file's rows or checksums differ from what the manifest recorded: report it here
   * and go on (verify), instead of failing the restore. Statements a file may not hold are
   * refused either way.
   */
  readonly onMismatch?: ((mismatch: ManifestMismatch) => void) | undefined;
  /**
   * Create each event with the status its file gives. By default an event the file enables
   * is created disabled (its CREATE with only the status changed, after the file's own text
   * was checked), so that a restored copy runs none of the original's scheduled jobs.
   */
  readonly keepEventsEnabled?: boolean | undefined;
  /**
   * Create what a file defines even where it reaches outside the database (a table whose
   * rows live in files of the server or on another server, a routine in an untrusted
   * language; see {@link CheckerOptions.allowExternalAccess}). Refused by default.
   */
  readonly allowExternalAccess?: boolean | undefined;
  readonly logger: Logger;
  /** Tables and rows loaded so far, against the manifests' counts (for a progress display). */
  readonly onProgress?: ProgressCallback | undefined;
}

/** A file of the snapshot that does not match its manifest. */
export interface ManifestMismatch {
  readonly kind: string;
  readonly name: string;
  readonly problem: string;
}

export interface RestoreResult {
  readonly target: string;
  readonly source: string;
  readonly tables: readonly string[];
  readonly userDataTables: readonly string[];
  readonly objects: readonly string[];
  /** Events whose file enables them, created disabled (empty with `keepEventsEnabled`). */
  readonly disabledEvents: readonly string[];
  readonly statements: number;
  readonly seconds: number;
}

interface PlannedFile {
  readonly file: string;
  readonly name: string;
  readonly kind: ObjectKind | 'database defaults';
  /** What the file may hold. */
  readonly expected: FileExpectation;
  /** An object whose kind the engine creates before tables. */
  readonly beforeTables?: boolean | undefined;
}

/** Kinds whose objects may use another of their kind that sorts after them: retried. */
const RETRIED_KINDS: ReadonlySet<string> = new Set(['view', 'materialized-view']);

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
  const plan = await planFiles(engine, options.source, options);
  const manifest =
    options.legacy || options.trust === true ? undefined : await readManifest(options.source);
  if (manifest !== undefined && options.trust !== true) {
    const unlisted = plan.tables.filter((entry) => manifest.tables[entry.name] === undefined);
    if (unlisted.length > 0)
      throw new UnexpectedStatementError(
        `${options.source.description}: ${unlisted.map((entry) => entry.file).join(', ')} ${unlisted.length === 1 ? 'is' : 'are'} not in the snapshot's manifest`,
        {
          hint: 'A file was added to the snapshot by hand. Remove it, or restore with --trust if you wrote it and mean it to run.',
        },
      );
    // A file deleted from the snapshot would leave its table out without a word.
    const planned = new Set(plan.tables.map((entry) => entry.name));
    const missing = Object.keys(manifest.tables).filter(
      (name) => !planned.has(name) && isSelected(name, options.only, options.exclude),
    );
    if (missing.length > 0)
      throw new RestoreError(
        `${options.source.description}: the manifest lists ${missing.map(printable).join(', ')}, whose file is missing`,
        {
          hint: 'A file was removed from the snapshot after it was taken. Restore another revision, leave the table out with --exclude, or pass --trust.',
        },
      );
  }
  if (plan.tables.length === 0)
    throw new UsageError(`no table files to restore in ${options.source.description}`);

  const admin = await engine.openSession({
    ...options.connection,
    database: engine.script.admin.adminDatabase,
  });
  const sessions: Session[] = [];
  let statements = 0;
  try {
    await prepareTarget(engine, admin, options, plan);
    sessions.push(
      ...(await openSessions(
        engine,
        { ...options.connection, database: options.target },
        Math.max(1, options.parallel),
      )),
    );
    const [first] = sessions;
    if (first === undefined) throw new UsageError('no connection');
    await markIncomplete(
      first,
      engine.script.admin,
      options.target,
      `from ${options.source.description}`,
    );

    // The database's default character set and collation, before anything takes them.
    if (plan.defaults !== undefined)
      statements += await loadSnapshotFile(engine, first, options, plan.defaults, manifest);

    // Objects whose kind comes before tables (PostgreSQL's schemas, types, functions that a
    // column's type, default or check names), in order, on one session; one that uses
    // another that sorts after it (a composite type of an enum, of a domain) is tried again
    // after it, and one that still fails (a composite type of a table's row type) after the
    // tables.
    const loadEarly = async (entry: PlannedFile): Promise<void> => {
      statements += await loadSnapshotFile(engine, first, options, entry, manifest);
    };
    const afterTables = await loadInPasses(
      plan.objects.filter((object) => object.beforeTables),
      loadEarly,
      true,
    );

    const restoredTables = new Set(plan.tables.map((entry) => entry.name));
    const userDataTables = [...(options.userData?.files.keys() ?? [])]
      .filter((name) => restoredTables.has(name))
      .sort();
    // A local table is done once its user data is loaded too.
    const progress = new ProgressTracker(
      plan.tables.length,
      expectedRows(plan.tables, manifest, userDataTables, options.userData),
      options.onProgress,
    );
    for (const table of userDataTables) progress.expect(options.target, table, 2);

    // Tables and their rows, in parallel, in rounds: a table that needs another (a
    // partition its parent) after that one, and one that needs an object still waiting for
    // the tables (a column of a type of another table's row type) after it. Before each
    // round, the objects waiting are tried again. In a round, those with the most rows first
    // (as the manifest counted them), so that no connection is left loading a big table alone.
    let waiting = afterTables;
    /** Before the first round, they have just failed: no tables were created since. */
    let tablesCreated = false;
    for await (const round of tableRounds(engine, options.source, plan.tables, async () => {
      if (tablesCreated && waiting.length > 0)
        waiting = await loadInPasses(waiting, loadEarly, true);
      tablesCreated = true;
      return waiting.map((entry) => entry.name);
    })) {
      const loadOrder =
        manifest === undefined
          ? round
          : [...round].sort(
              (a, b) => (manifest.tables[b.name]?.rows ?? 0) - (manifest.tables[a.name]?.rows ?? 0),
            );
      await runOnSessions(sessions, loadOrder, async (session, entry) => {
        progress.start(entry.name);
        statements += await loadSnapshotFile(
          engine,
          session,
          options,
          entry,
          manifest,
          undefined,
          progress,
        );
        progress.itemDone(options.target, entry.name, 0);
      });
    }

    // The rows of local tables, decrypted as they stream.
    await runOnSessions(sessions, userDataTables, async (session, table) => {
      const file = options.userData?.files.get(table);
      if (file === undefined) return;
      progress.start(`${table} (user data)`);
      const measure = new PlaintextMeasure(options.userData?.fingerprintKey);
      const run = await executeScript(engine, session, measure.tee(file.open()), {
        label: `${printable(table)} (user data)`,
        expected: { kind: 'rows', table },
        stripDefiner: false,
        secretRows: true,
        trust: options.trust === true,
        scratch: options.scratch,
        onSent: (rows, bytes) => progress.addRows(rows, bytes),
      });
      statements += run.sent;
      if (options.trust !== true) {
        checkMeasured(
          file.label,
          measure.result(),
          file,
          options.userData?.fingerprintKey !== undefined,
        );
        if (run.rows !== file.rows)
          throw new RestoreError(
            `${file.label}: ${String(run.rows)} rows, the copy's manifest recorded ${String(file.rows)}`,
            {
              hint: `The file was changed after the copy was made. ${targetLeft(options.scratch)}`,
            },
          );
      }
      progress.itemDone(options.target, table, 0);
    });

    // Everything else, one after the other in dependency order; views that use views not
    // yet created are retried until no more can be, and with them what still waits (a
    // routine made of the last round's tables' row type, a type, domain or routine made of a
    // view's row type), all before the foreign keys and the checks that call such routines.
    const disabledEvents: string[] = [];
    statements += await createObjects(
      engine,
      first,
      plan.objects.filter((object) => !object.beforeTables),
      waiting,
      options,
      manifest,
      progress,
      disabledEvents,
    );
    progress.finish();

    // The original's table files create their tables' triggers themselves (issue 15): count
    // those they created among the other objects.
    const legacyTriggers = options.legacy
      ? objectsOfKind(await first.listObjects(options.target), 'trigger')
          .filter((trigger) => trigger.table !== undefined && restoredTables.has(trigger.table))
          .map((trigger) => `trigger ${trigger.name}`)
      : [];

    await clearIncompleteMarker(
      first,
      engine.script.admin,
      options.target,
      engine.tableNamed(INCOMPLETE_MARKER),
    );
    return {
      target: options.target,
      source: options.source.description,
      tables: plan.tables.map((entry) => entry.name),
      userDataTables,
      objects: [...plan.objects.map((entry) => `${entry.kind} ${entry.name}`), ...legacyTriggers],
      disabledEvents: disabledEvents.sort(),
      statements,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const session of sessions) await session.close();
    await admin.close();
  }
}

/**
 * The rows the restore loads, as the manifests recorded them; 0 (unknown) when the snapshot
 * has no manifest to say so.
 */
function expectedRows(
  tables: readonly PlannedFile[],
  manifest: SnapshotManifest | undefined,
  userDataTables: readonly string[],
  userData: UserDataInput | undefined,
): number {
  if (manifest === undefined) return 0;
  let rows = 0;
  for (const entry of tables) rows += manifest.tables[entry.name]?.rows ?? 0;
  for (const table of userDataTables) rows += userData?.files.get(table)?.rows ?? 0;
  return rows;
}

/** The table files and the object files to load, selected by --only/--exclude. */
async function planFiles(
  engine: Engine,
  source: SnapshotSource,
  options: RestoreOptions,
): Promise<{ tables: PlannedFile[]; objects: PlannedFile[]; defaults?: PlannedFile }> {
  const tables: PlannedFile[] = [];
  const objects: PlannedFile[] = [];
  let defaults: PlannedFile | undefined;
  const selected = (name: string): boolean => isSelected(name, options.only, options.exclude);
  const order: readonly string[] = engine.objectKinds;
  for (const file of await source.listFiles()) {
    if (file === MANIFEST_FILE || file.startsWith('.') || file === 'README.md') continue;
    if (options.legacy) {
      // The original wrote one mysqldump file per table, named after it, triggers included.
      if (selected(file))
        tables.push({
          file,
          name: file,
          kind: 'table',
          expected: { kind: 'legacy-table', name: file },
        });
      continue;
    }
    if (file === DATABASE_DEFAULTS_FILE) {
      // Older snapshots have none: the target keeps the server's defaults.
      defaults = { file, name: file, kind: 'database defaults', expected: { kind: 'database' } };
      continue;
    }
    if (!file.endsWith(SNAPSHOT_FILE_SUFFIX)) continue;
    // A file whose suffix names no other kind is a table's (its name may not decode).
    const kind = kindOfFileName(file) ?? 'table';
    // A name too long for a file name is cut and hashed: the file's first line names it.
    const header =
      (isTableMemberKind(kind) && !isTableNamedKind(kind)) || objectForFileName(file) === undefined
        ? await readHeader(engine, source, file)
        : undefined;
    const name = objectForFileName(file)?.name ?? header?.name;
    if (name === undefined) {
      options.logger.warn(`${printable(file)}: not a snapshot file this version can read; skipped`);
      continue;
    }
    const beforeTables = order.indexOf(kind) < order.indexOf('table');
    if (kind === 'table') {
      if (selected(name)) tables.push({ file, name, kind, expected: { kind: 'table', name } });
    } else if (isTableNamedKind(kind)) {
      // A table's foreign keys or row-level security go with it; their file is named after it.
      if (selected(name)) objects.push({ file, name, kind, expected: { kind, name } });
    } else if (isTableMemberKind(kind)) {
      // A trigger or a policy goes with its table.
      if (header?.table === undefined || selected(header.table))
        objects.push({ file, name, kind, expected: { kind, name, table: header?.table } });
    } else {
      objects.push({ file, name, kind, beforeTables, expected: { kind, name } });
    }
  }
  objects.sort(
    (a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.file < b.file ? -1 : 1),
  );
  return { tables, objects, ...(defaults === undefined ? {} : { defaults }) };
}

/**
 * The table files in rounds that load one after the other: each table in a round after the
 * tables its CREATE TABLE needs ({@link ScriptFormat.tableDependencies}, and those it names:
 * {@link ScriptFormat.tableNeeds}), which are created (and their rows loaded) by then, and
 * after the objects it names that still wait for tables: `waiting` (called before each
 * round, once the round before has loaded) tries those again and names those still waiting.
 * One round of all of them for an engine whose tables need no other: no file is read twice.
 * Tables that wait for one another (or for an object that never loads) come in a last round,
 * where their CREATE says what is missing.
 */
async function* tableRounds(
  engine: Engine,
  source: SnapshotSource,
  tables: readonly PlannedFile[],
  waiting: () => Promise<readonly string[]>,
): AsyncIterable<PlannedFile[]> {
  const dependenciesOf = engine.script.tableDependencies?.bind(engine.script);
  const needsOf = engine.script.tableNeeds?.bind(engine.script);
  if (dependenciesOf === undefined && needsOf === undefined) {
    await waiting();
    yield [...tables];
    return;
  }
  const needs = new Map<string, readonly string[]>();
  for (const entry of tables) {
    let found: readonly string[] = [];
    // Only as far as the CREATE TABLE, a few lines in: the rest of the file is not read.
    for await (const statement of engine.script.readStatements(source.readFile(entry.file))) {
      const dependencies = dependenciesOf?.(statement.sql);
      const named = needsOf?.(statement.sql);
      if (dependencies === undefined && named === undefined) continue;
      found = [...(dependencies ?? []), ...(named ?? [])].filter((name) => name !== entry.name);
      break;
    }
    needs.set(entry.name, found);
  }
  const pending = new Set(tables);
  // A table not restored (--only, --exclude) is not waited for: the CREATE then says so.
  const notYet = new Set(tables.map((entry) => entry.name));
  while (pending.size > 0) {
    // A routine waits under its name with its arguments; a CREATE names it without them.
    const objects = new Set(
      (await waiting()).map((name) =>
        name.includes('(') ? name.slice(0, name.indexOf('(')) : name,
      ),
    );
    let round = [...pending].filter((entry) =>
      (needs.get(entry.name) ?? []).every((name) => !notYet.has(name) && !objects.has(name)),
    );
    if (round.length === 0) round = [...pending];
    for (const entry of round) {
      pending.delete(entry);
      notYet.delete(entry.name);
    }
    yield round;
  }
}

/** `-- schema_backup: <kind> `name`[ on table `t`]`, the first line of a snapshot file. */
async function readHeader(
  engine: Engine,
  source: SnapshotSource,
  file: string,
): Promise<{ name: string; table?: string | undefined } | undefined> {
  let head = '';
  for await (const chunk of source.readFile(file)) {
    head += chunk.toString('utf8');
    if (head.includes('\n') || head.length > 4096) break;
  }
  return engine.script.fileTitle(head.split('\n')[0] ?? '');
}

/** The snapshot's manifest, or undefined when it has none (an old snapshot). */
async function readManifest(source: SnapshotSource): Promise<SnapshotManifest | undefined> {
  if (!(await source.listFiles()).includes(MANIFEST_FILE)) return undefined;
  return parseManifest(await readText(source, MANIFEST_FILE));
}

async function prepareTarget(
  engine: Engine,
  admin: Session,
  options: RestoreOptions,
  plan: { tables: readonly PlannedFile[]; objects: readonly PlannedFile[] },
): Promise<void> {
  const statements = engine.script.admin;
  if (!(await admin.listDatabases()).includes(options.target)) {
    await admin.execute(statements.createDatabase(options.target));
    return;
  }
  // Over a session of the target itself: a PostgreSQL session sees and drops only the
  // objects of the database it connected to.
  const target = await engine.openSession({ ...options.connection, database: options.target });
  try {
    const inventory = await target.listObjects(options.target);
    const count = standaloneObjects(inventory).filter(
      (object) => !isNewDatabaseObject(engine, object),
    ).length;
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
      // In the reverse of the order they are created in: what tables use (PostgreSQL's
      // types) after the tables.
      await target.execute(statements.foreignKeyChecksOff);
      const drop = (entry: PlannedFile): Promise<void> =>
        target.execute(
          statements.dropObject(options.target, entry.kind as ObjectKind, entry.name, true),
        );
      // Not what every new database holds (PostgreSQL's plpgsql, which the DO blocks of these
      // statements run in): its file creates it only when missing.
      const reversed = [...plan.objects]
        .reverse()
        .filter(
          (entry) =>
            !isNewDatabaseObject(engine, { kind: entry.kind as ObjectKind, name: entry.name }),
        );
      for (const entry of reversed.filter((object) => object.beforeTables !== true))
        await drop(entry);
      for (const entry of plan.tables)
        await target.execute(statements.dropObject(options.target, 'table', entry.name, true));
      for (const entry of reversed.filter((object) => object.beforeTables === true))
        await drop(entry);
    }
    if (hasIncompleteMarker(engine, inventory))
      await target.execute(
        statements.dropObject(options.target, 'table', engine.tableNamed(INCOMPLETE_MARKER), false),
      );
  } finally {
    await target.close();
  }
}

/**
 * Loads every entry in order, then those that failed again, pass after pass while a pass
 * loads one; when one makes no progress, throws the error the first of those still failing
 * had the first time (a second try of a file that half ran fails on what it created), or
 * with `keepFailed` returns those.
 */
async function loadInPasses(
  entries: readonly PlannedFile[],
  load: (entry: PlannedFile) => Promise<void>,
  keepFailed = false,
): Promise<PlannedFile[]> {
  const firstErrors = new Map<PlannedFile, unknown>();
  let waiting = entries;
  while (waiting.length > 0) {
    const failed: PlannedFile[] = [];
    for (const entry of waiting) {
      try {
        await load(entry);
      } catch (error) {
        if (!firstErrors.has(entry)) firstErrors.set(entry, error);
        failed.push(entry);
      }
    }
    if (failed.length === waiting.length) {
      if (keepFailed) return failed;
      const error = firstErrors.get(failed[0] as PlannedFile);
      throw error instanceof Error ? error : new RestoreError('restore failed');
    }
    waiting = failed;
  }
  return [];
}

/**
 * Runs `work` for every item, each of `sessions` taking the next item when free. The first
 * failure stops it, unless `onFailure` takes the items that fail (and the rest run).
 */
async function runOnSessions<T>(
  sessions: readonly Session[],
  items: readonly T[],
  work: (session: Session, item: T) => Promise<void>,
  onFailure?: (item: T) => void,
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
          if (onFailure === undefined) failure ??= error;
          else onFailure(item);
        }
      }
    }),
  );
  if (failure !== undefined)
    throw failure instanceof Error ? failure : new RestoreError('restore failed');
}

/**
 * Runs one file of the snapshot (DEFINERs dropped from legacy files); returns statements
 * sent. Where the snapshot has a manifest, the file's structure, row count and rows must be
 * what it recorded.
 */
async function loadSnapshotFile(
  engine: Engine,
  session: Session,
  options: RestoreOptions,
  entry: PlannedFile,
  manifest: SnapshotManifest | undefined,
  disabledEvents?: string[],
  progress?: ProgressTracker,
): Promise<number> {
  const disableEvents = entry.kind === 'event' && options.keepEventsEnabled !== true;
  const recorded = entry.kind === 'table' ? manifest?.tables[entry.name] : undefined;
  const recordedObject = entry.kind === 'table' ? undefined : manifest?.objects?.[entry.file];
  const digest = new SplitDigest();
  const checked = recorded !== undefined || recordedObject !== undefined;
  const chunks = options.source.readFile(entry.file);
  const run = await executeScript(engine, session, checked ? digest.tee(chunks) : chunks, {
    label: printable(entry.file),
    expected: entry.expected,
    stripDefiner: options.legacy,
    secretRows: false,
    trust: options.trust === true,
    scratch: options.scratch,
    checks: { allowExternalAccess: options.allowExternalAccess === true },
    disableEvents,
    onSent: progress === undefined ? undefined : (rows, bytes) => progress.addRows(rows, bytes),
    onChecked: (statement, at) => {
      if (statement.kind === 'create' && entry.kind === 'table') digest.splitAfter(at.end);
    },
  });
  if (disableEvents && options.trust === true) {
    // Unchecked files are run as they are: the event is disabled once it exists, which
    // leaves it a moment in which the scheduler may start it.
    await session.execute(engine.dialect.disableEventStatement(entry.name));
    disabledEvents?.push(entry.name);
  } else if (run.disabledEvent) disabledEvents?.push(entry.name);
  if (!checked) return run.sent;
  const { structure, rows } = digest.digests();
  const problems: string[] = [];
  if (recordedObject !== undefined) {
    // An object file is hashed whole: its structure part is all of it.
    if (structure !== recordedObject)
      problems.push('definition differs from the checksum the snapshot recorded');
  } else if (recorded !== undefined) {
    if (recorded.structure !== undefined && structure !== recorded.structure)
      problems.push('structure differs from the checksum the snapshot recorded');
    if (recorded.rows !== undefined && run.rows !== recorded.rows)
      problems.push(
        `row count ${String(run.rows)}, the snapshot recorded ${String(recorded.rows)}`,
      );
    else if (recorded.sha256 !== undefined && rows !== recorded.sha256)
      problems.push('rows differ from the checksum the snapshot recorded');
    if (recorded.rows === undefined && run.rows > 0)
      problems.push(
        `row count ${String(run.rows)}, the snapshot recorded none (category ${recorded.category})`,
      );
  }
  if (problems.length > 0 && options.onMismatch !== undefined) {
    for (const problem of problems)
      options.onMismatch({ kind: entry.kind, name: entry.name, problem });
  } else if (problems.length > 0)
    throw new RestoreError(
      `${printable(entry.file)} does not match the snapshot: ${problems.join('; ')}`,
      {
        hint: `The file was changed after the snapshot was taken. Restore another revision, or pass --trust if you edited it on purpose. ${targetLeft(options.scratch)}`,
      },
    );
  return run.sent;
}

interface ScriptRun {
  /** For messages. */
  readonly label: string;
  /** What the file may hold. */
  readonly expected: FileExpectation;
  /** Drop DEFINER clauses (the original's files). */
  readonly stripDefiner: boolean;
  /**
   * The script holds user data: a failure names the statement's table but never the server's
   * message (it may quote a value).
   */
  readonly secretRows: boolean;
  /** Run the statements unchecked (`--trust`). */
  readonly trust: boolean;
  /** Into a scratch database (RestoreOptions.scratch). */
  readonly scratch?: boolean | undefined;
  /** What the checker lets through beyond the default. */
  readonly checks?: CheckerOptions | undefined;
  /** Run a checked CREATE EVENT that enables its event as its disabled variant. */
  readonly disableEvents?: boolean | undefined;
  /** After each statement sent: the rows read since the last call, and its length. */
  readonly onSent?: ((rows: number, bytes: number) => void) | undefined;
  /** Each statement the checker accepted, before it runs. */
  readonly onChecked?:
    ((checked: CheckedStatement, statement: ScriptStatement) => void) | undefined;
}

/**
 * Executes a script on `session`, every statement first checked against what the file may
 * hold, consecutive one-row INSERTs into one table joined into multi-row statements. The
 * session is reset to the state files start from first. Returns the statements sent and the
 * rows the INSERTs held.
 */
async function executeScript(
  engine: Engine,
  session: Session,
  chunks: AsyncIterable<Buffer | Uint8Array>,
  run: ScriptRun,
): Promise<{ sent: number; rows: number; disabledEvent: boolean }> {
  let sent = 0;
  let rows = 0;
  let rowsReported = 0;
  let disabledEvent = false;
  let batch: { prefix: string; values: string[]; bytes: number; lines: number[] } | undefined;
  /** The statement sent last, while it runs. */
  let running: Promise<void> | undefined;
  /**
   * `lines`: the line of each row joined into `sql` (one, for any other statement);
   * `rowsThrough`: the rows read up to the end of `sql`.
   */
  /** `bytes`: `sql` as UTF-8, sent as it is where the session takes bytes. */
  const execute = async (
    sql: string | JoinedBytes,
    lines: readonly number[],
    rowsThrough: number,
  ) => {
    try {
      if (typeof sql === 'string') await session.execute(sql);
      else if (session.executeBytes !== undefined)
        await session.executeBytes(sql.bytes).finally(sql.release);
      else await session.execute(sql.text());
      sent += 1;
      run.onSent?.(
        rowsThrough - rowsReported,
        typeof sql === 'string' ? sql.length : sql.bytes.length,
      );
      rowsReported = rowsThrough;
    } catch (error) {
      throw restoreFailure(
        error,
        run.label,
        failedLine(engine.script.admin, error, lines),
        engine.script.admin.describeStatement(typeof sql === 'string' ? sql : sql.text()),
        run.secretRows,
        run.scratch,
      );
    }
  };
  /** Waits for the statement sent last; throws its failure. */
  const settle = async (): Promise<void> => {
    const last = running;
    running = undefined;
    if (last !== undefined) await last;
  };
  /**
   * Sends `sql` once the statement before it has run, and returns while it runs: the client
   * reads and checks the next statement meanwhile. Statements still run one at a time, in
   * the file's order, and a failure stops the script before the next one is sent.
   */
  const send = async (sql: string | JoinedBytes, lines: readonly number[]): Promise<void> => {
    await settle();
    const next = execute(sql, lines, rows);
    // Awaited by the next send or settle(); until then, not an unhandled rejection.
    next.catch(() => undefined);
    running = next;
  };
  const flush = async (): Promise<void> => {
    if (batch === undefined) return;
    const { prefix, values, lines } = batch;
    batch = undefined;
    await send(engine.script.joinInsert(prefix, values), lines);
  };
  const checker = run.trust ? undefined : engine.script.checker(run.expected, run.checks);
  await session.execute(engine.script.sessionReset);
  // The reader checks and joins a table file's row lines itself (not those of the original's
  // files, whose DEFINERs are dropped before checking).
  const joinRows =
    checker === undefined || run.stripDefiner ? undefined : { checker, joinBytes: MAX_BATCH_BYTES };
  for await (const statement of engine.script.readStatements(chunks, joinRows)) {
    if (statement.joined !== undefined) {
      await flush();
      rows += statement.joined.rows;
      const { bytes, release } = statement.joined;
      await send(
        bytes === undefined ? statement.sql : { bytes, text: () => statement.sql, release },
        statement.joined.lines,
      );
      continue;
    }
    const sql = run.stripDefiner ? engine.dialect.withoutDefiner(statement.sql) : statement.sql;
    let checked: CheckedStatement | undefined;
    if (checker !== undefined) {
      try {
        checked = checker.check(sql);
      } catch (error) {
        // A statement sent before that failed is reported first.
        await settle();
        throw refusal(error, run, statement.line);
      }
      run.onChecked?.(checked, statement);
      rows += checked.rows;
    }
    const insert =
      checked === undefined
        ? engine.script.splitInsert(sql)
        : checked.valuesAt === undefined
          ? undefined
          : { prefix: sql.slice(0, checked.valuesAt), values: sql.slice(checked.valuesAt) };
    if (insert !== undefined) {
      if (checker === undefined) rows += 1;
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
    if (checked?.kind === 'lock' || engine.script.admin.isTableLock(sql)) continue;
    // A setting the session already holds: a round trip for nothing.
    if (checked?.redundant === true) continue;
    if (run.disableEvents === true && checked?.disabledEvent !== undefined) {
      disabledEvent = true;
      await send(checked.disabledEvent, [statement.line]);
      continue;
    }
    await send(sql, [statement.line]);
    if (checked?.followedBy !== undefined) await send(checked.followedBy, [statement.line]);
  }
  await flush();
  await settle();
  if (checker !== undefined) {
    try {
      checker.finish();
    } catch (error) {
      throw refusal(error, run, 0);
    }
  }
  return { sent, rows, disabledEvent };
}

/** A joined INSERT as the reader built it: its bytes, their text, and `release` once it has run. */
interface JoinedBytes {
  readonly bytes: Uint8Array;
  readonly text: () => string;
  readonly release?: (() => void) | undefined;
}

/** A statement the checker refused, as the error the user sees: the file, the line, the rule. */
function refusal(error: unknown, run: ScriptRun, line: number): unknown {
  if (!(error instanceof UnexpectedStatementError)) return error;
  const message = `refused to run ${run.label}${line > 0 ? ` at line ${String(line)}` : ''}: ${printable(error.message)}`;
  if (error instanceof ExternalAccessError)
    return new ExternalAccessError(message, {
      hint: `A snapshot may hold such a definition, but creating it reaches files, servers or programs outside the database. If you trust where this snapshot comes from and mean that, pass --allow-external-access. ${targetLeft(run.scratch)}`,
    });
  return new UnexpectedStatementError(message, {
    hint: `restore and verify run only what a snapshot writes for each file. If you edited the file by hand and mean it to run, restore with --trust. ${targetLeft(run.scratch)}`,
  });
}

/**
 * The objects after the tables and their rows, in kind order; views (and `withViews`, which
 * may be made of a view's row type) tried again while a pass creates any.
 */
async function createObjects(
  engine: Engine,
  session: Session,
  objects: readonly PlannedFile[],
  withViews: readonly PlannedFile[],
  options: RestoreOptions,
  manifest: SnapshotManifest | undefined,
  progress: ProgressTracker,
  disabledEvents: string[],
): Promise<number> {
  let statements = 0;
  let waiting = [...withViews, ...objects.filter((entry) => RETRIED_KINDS.has(entry.kind))];
  const load = async (entry: PlannedFile): Promise<void> => {
    progress.start(`${entry.kind} ${entry.name}`);
    statements += await loadSnapshotFile(engine, session, options, entry, manifest, disabledEvents);
  };
  // Kinds before views (sequences, routines' kinds whose order puts them first), then views,
  // then the rest in kind order.
  const order: readonly string[] = engine.objectKinds;
  const firstRetried = Math.min(...[...RETRIED_KINDS].map((kind) => order.indexOf(kind)));
  const early = objects.filter(
    (entry) => !RETRIED_KINDS.has(entry.kind) && order.indexOf(entry.kind) < firstRetried,
  );
  for (const entry of early) await load(entry);
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
          `${entry.kind} ${printable(entry.name)} not restored: it uses a table left out (${(lastError as Error).message})`,
        );
      break;
    }
    waiting = failed;
  }
  for (const entry of objects.filter(
    (candidate) => !RETRIED_KINDS.has(candidate.kind) && !early.includes(candidate),
  ))
    await load(entry);
  return statements;
}

/**
 * The line of the row the server names (`… at row N` of a joined INSERT), else the first
 * line of the statement.
 */
function failedLine(admin: AdminStatements, error: unknown, lines: readonly number[]): number {
  const row = admin.failedRow(error instanceof Error ? error.message : '');
  const index = row === undefined ? 0 : row - 1;
  return lines[index] ?? lines[0] ?? 0;
}

/**
 * The end of a failed restore's hint: what it left of the target, and with `resume` how to
 * finish it.
 */
function targetLeft(scratch: boolean | undefined, resume = false): string {
  if (scratch === true)
    return 'The scratch database is dropped again; a restore of this snapshot stops at the same place.';
  return `The target is left marked incomplete (table ${INCOMPLETE_MARKER})${resume ? '; fix the cause and restore again with --force' : ''}.`;
}

function restoreFailure(
  error: unknown,
  label: string,
  line: number,
  what: string,
  secretRows: boolean,
  scratch: boolean | undefined,
): RestoreError {
  const reason = secretRows
    ? `server error ${(error as { code?: string }).code ?? 'unknown'}`
    : (error as Error).message;
  return new RestoreError(
    `restore failed in ${label} at line ${String(line)} (${what}): ${reason}`,
    {
      cause: secretRows ? undefined : error,
      hint: targetLeft(scratch, true),
    },
  );
}
