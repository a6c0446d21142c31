/**
 * The read part of a snapshot: inside one consistent-snapshot transaction, every object of
 * the database rendered as the files of a host directory, handed one by one to a sink (the
 * snapshot stages them against the files in place; `verify` compares; `diff --live` keeps
 * them in memory). It writes nothing itself.
 */
import { createHash } from 'node:crypto';
import type { Categories } from '../config/schema.js';
import {
  sessionDatabase,
  type Engine,
  type SchemaFilter,
  type SequenceState,
  type Session,
  type TableDescription,
} from '../engine/engine.js';
import { UsageError } from '../errors.js';
import { printable } from '../support/printable.js';
import { prefetch } from '../support/concurrency.js';
import type { Logger } from '../support/logger.js';
import { ProgressTracker, type ProgressCallback } from '../support/progress.js';
import { DATABASE_DEFAULTS_FILE } from './layout.js';
import { hiddenObjectsWarnings } from './hidden-objects.js';
import { listNonTransactionalTables, nonTransactionalWarning } from './non-transactional-tables.js';
import {
  checkCoveredSchemas,
  planSnapshot,
  type CategorySource,
  type PlannedTable,
  type SnapshotPlan,
} from './plan-snapshot.js';
import { readPlannedTables } from './read-tables.js';
import {
  EPHEMERAL_COPY_NOTE,
  renderDatabaseFile,
  renderObjectFile,
  renderRowLines,
  renderRows,
  renderTableHead,
  renderTableTail,
  renderUserDataRows,
  type SqlBytesChunk,
  type SqlChunk,
} from './render-files.js';
import { MANIFEST_FILE, renderManifest, type ManifestTable } from './manifest.js';
import type { UserDataCopy } from './user-data-copy.js';
import type { EphemeralCopy } from './ephemeral-copy.js';

/** A file being rendered. */
export interface SnapshotContent {
  /** Appends text, or bytes of UTF-8 text. */
  write(text: string | Buffer): Promise<void>;
  /** Frees what the content holds (a spilled file): it is not used. */
  discard(): Promise<void>;
}

/** Where the rendered files go. It owns each content handed to it. */
export interface SnapshotSink<C extends SnapshotContent> {
  /** An empty file for a table, an object, the database defaults or the manifest. */
  create(): C;
  /**
   * A table's file, complete, with the rows written into it. What this does may run while the
   * next table is read: at most two tables are in hand at once.
   */
  table(table: PlannedTable, content: C, rows: number): Promise<void>;
  /** An object's file, the database defaults' or the manifest, complete. */
  file(file: string, content: C): Promise<void>;
}

/** Copies that read rows besides git's: opened once the plan is known. */
export interface RowCopies {
  readonly userData?: UserDataCopy | undefined;
  readonly ephemeral?: EphemeralCopy | undefined;
}

export interface ReadSnapshotOptions {
  readonly database: string;
  /** The schemas to read (PostgreSQL's `database.schemas`); omitted: every user schema. */
  readonly schemas?: readonly string[] | undefined;
  readonly categories: Categories;
  /**
   * Where the categories are written: a schema-qualified entry of a schema the snapshot does
   * not cover is then an error there (exit 2); without it, a warning as any missing table.
   */
  readonly categorySource?: CategorySource | undefined;
  /** Uncategorized tables are an error (exit 2, nothing written). */
  readonly strict: boolean;
  /** The file format to render (the manifest's format number). */
  readonly format: number;
  /** Whether the rows of local tables are saved (else a warning says that they are not). */
  readonly localRowsSaved: boolean;
  /**
   * Runs once the read view is open, before any row is read (pause hooks): what it changes
   * in InnoDB tables is not in the snapshot.
   */
  readonly afterReadViewOpen?: (() => Promise<void>) | undefined;
  /** Opens the user-data and ephemeral copies once the plan is known (none by default). */
  readonly beginCopies?: ((plan: SnapshotPlan) => Promise<RowCopies>) | undefined;
  readonly logger: Logger;
  readonly onProgress?: ProgressCallback | undefined;
}

export interface SnapshotRead {
  readonly plan: SnapshotPlan;
  readonly serverVersion: string;
  /** The manifest of this snapshot (written as manifest.json), by table. */
  readonly manifest: ReadonlyMap<string, ManifestTable>;
  /** SHA-256 of each object file, by file name (as recorded in the manifest). */
  readonly objectHashes: ReadonlyMap<string, string>;
}

/**
 * Starts a consistent snapshot on `session` (call it only once a run may read: after any
 * wait for a lock), reads every object into `sink`, and ends the snapshot. The session stays
 * open. A failure throws once what the sink was still doing has settled.
 */
export async function readSnapshot<C extends SnapshotContent>(
  engine: Engine,
  session: Session,
  asked: ReadSnapshotOptions,
  sink: SnapshotSink<C>,
): Promise<SnapshotRead> {
  // A connection that named no database (PostgreSQL: $PGDATABASE, a service) reads its own.
  const options = { ...asked, database: sessionDatabase(session, asked.database) };
  const { logger, format } = options;
  await session.startConsistentSnapshot();
  await options.afterReadViewOpen?.();
  const filter: SchemaFilter = { schemas: options.schemas };
  const inventory = await session.listObjects(options.database, filter);
  if (options.categorySource !== undefined)
    checkCoveredSchemas(inventory, options.categories, engine, options.categorySource);
  const plan = planSnapshot(inventory, options.categories, engine);
  checkStrict(plan, options);
  reportPlan(plan, options.database, logger);
  // The README promises one consistent instant: say which tables cannot keep it.
  const sizes = await session.estimateTableSizes(options.database, filter);
  const nonTransactional = listNonTransactionalTables(plan, sizes);
  if (nonTransactional.length > 0) logger.warn(nonTransactionalWarning(nonTransactional));
  for (const warning of hiddenObjectsWarnings(
    await session.findHiddenObjects(options.database),
    options.database,
  ))
    logger.warn(warning);

  const localTables = plan.tables.filter((table) => table.rows === 'user-data');
  if (localTables.length > 0 && !options.localRowsSaved) {
    logger.warn(
      `the rows of ${String(localTables.length)} local table(s) are not saved: user_data_backup_dir is not set`,
    );
  }
  const { userData: userDataCopy, ephemeral: ephemeralCopy } =
    (await options.beginCopies?.(plan)) ?? {};

  const progress = new ProgressTracker(
    plan.tables.length,
    estimateRowsRead(plan, sizes, userDataCopy !== undefined, ephemeralCopy !== undefined),
    options.onProgress,
  );
  const descriptions = await session.describeTables(options.database, filter);
  const identityStates =
    format >= 2
      ? await readIdentityStates(session, options.database, plan.tables, descriptions)
      : new Map<string, SequenceState>();
  const manifest = new Map<string, ManifestTable>();
  const inSink: Promise<void>[] = [];
  try {
    const tableReads = readPlannedTables(
      session,
      options.database,
      plan.tables,
      descriptions,
      // More reads of a table than its rows for git: the session must be free for them.
      (table) =>
        (table.rows === 'user-data' && userDataCopy !== undefined) ||
        (table.category === 'ephemeral' && ephemeralCopy !== undefined),
    );
    for await (const { table, description, definition, rows: rowBatches, lines } of tableReads) {
      const content = sink.create();
      let rows = 0;
      progress.start(table.name);
      // Until the sink takes it, the content is this loop's to discard: a table that spilled
      // to disk holds an open file.
      try {
        const head = renderTableHead(engine.dialect, table, definition);
        const structure = sha256(head);
        await content.write(head);
        // The state of a table's identity sequences goes with its rows (in the file, or in
        // the user-data copy that a restore loads after it): a table whose rows are not saved
        // starts afresh, and its file does not change with rows it does not hold.
        const tail = renderTableTail(
          engine.dialect,
          definition,
          table.rows === 'none' ? [] : identitySequenceStates(description, identityStates),
        );
        if (table.rows === 'git') {
          const rowsHash = createHash('sha256');
          const chunks =
            lines === undefined
              ? encoded(renderRows(engine.dialect, description, rowBatches, format))
              : renderRowLines(engine.dialect, lines, format);
          for await (const chunk of chunks) {
            progress.addRows(chunk.rows, chunk.bytes.length);
            rows += chunk.rows;
            rowsHash.update(chunk.bytes);
            await content.write(chunk.bytes);
          }
          rowsHash.update(tail);
          await content.write(tail);
          manifest.set(table.name, {
            category: table.category,
            structure,
            rows,
            sha256: rowsHash.digest('hex'),
          });
        } else {
          await content.write(tail);
          // What follows the CREATE TABLE (its indexes, constraints…) is checked as rows are.
          manifest.set(table.name, {
            category: table.category,
            structure,
            ...(tail === '' ? {} : { sha256: sha256(tail) }),
          });
        }
        if (table.rows === 'user-data' && userDataCopy !== undefined) {
          const batches = session.readRowBatches(options.database, description);
          const entry = await userDataCopy.writeTable(
            table.name,
            table.file,
            progress.counting(renderUserDataRows(engine.dialect, description, batches)),
          );
          logger.debug(`${table.name}: ${String(entry.rows)} rows encrypted`);
        }
        if (table.category === 'ephemeral' && ephemeralCopy !== undefined) {
          const rowChunks = renderRows(
            engine.dialect,
            description,
            session.readRowBatches(options.database, description),
          );
          const copyHead = renderTableHead(engine.dialect, table, definition, EPHEMERAL_COPY_NOTE);
          await ephemeralCopy.writeTable(
            table.file,
            framed(
              copyHead,
              progress.counting(rowChunks),
              renderTableTail(
                engine.dialect,
                definition,
                identitySequenceStates(description, identityStates),
              ),
            ),
          );
        }
      } catch (error) {
        await content.discard();
        throw error;
      }
      // What the sink does (comparing with the file in place: file system work) overlaps
      // reading the next table (server work).
      const taken = sink.table(table, content, rows);
      taken.catch(() => undefined);
      inSink.push(taken);
      progress.itemDone(options.database, table.name, rows);
      if (inSink.length >= 2) await inSink[inSink.length - 2];
    }
    await Promise.all(inSink);
  } finally {
    // A table still in the sink when a read failed finishes before the caller cleans up.
    await Promise.allSettled(inSink);
  }
  progress.finish();
  const objectHashes = new Map<string, string>();
  const objectDefinitions = prefetch(plan.objects, async (object) => ({
    definition: await session.showCreate(options.database, object.kind, object.name),
    // A sequence's state is part of it: a restore must not hand out values again.
    state:
      object.kind === 'sequence' && format >= 2
        ? await session.readSequenceState(options.database, object.name)
        : undefined,
  }));
  for (const [index, object] of plan.objects.entries()) {
    const { definition, state } = await objectDefinitions.get(index);
    const text = renderObjectFile(engine.dialect, definition, state, format);
    objectHashes.set(object.file, sha256(text));
    await sink.file(object.file, await filled(sink, text));
  }
  // The database's default character set and collation, hashed with the objects so that
  // restore and verify check it.
  // Format 1 had no defaults file (verify compares such a snapshot in its own format);
  // neither has an engine whose databases take their defaults only when created.
  const defaultsText =
    format >= 2
      ? renderDatabaseFile(engine.dialect, await session.readDatabaseDefaults(options.database))
      : undefined;
  if (defaultsText !== undefined) {
    objectHashes.set(DATABASE_DEFAULTS_FILE, sha256(defaultsText));
    await sink.file(DATABASE_DEFAULTS_FILE, await filled(sink, defaultsText));
  }
  await sink.file(
    MANIFEST_FILE,
    await filled(sink, renderManifest(manifest, objectHashes, format)),
  );
  await session.endConsistentSnapshot();
  return { plan, serverVersion: session.server.version, manifest, objectHashes };
}

/** The files a snapshot of `plan` holds besides the manifest. */
export function expectedFiles(plan: SnapshotPlan, format: number): Set<string> {
  return new Set([
    ...plan.tables.map((table) => table.file),
    ...plan.objects.map((object) => object.file),
    ...(format >= 2 ? [DATABASE_DEFAULTS_FILE] : []),
  ]);
}

/** Strict mode: a table in no category stops the run before anything is written. */
export function checkStrict(plan: SnapshotPlan, options: { readonly strict: boolean }): void {
  if (!options.strict || plan.uncategorized.length === 0) return;
  throw new UsageError(
    `strict: ${String(plan.uncategorized.length)} table(s) are in no category: ${plan.uncategorized.map(printable).join(', ')}`,
    { hint: 'Add each to global, local, ephemeral or ignore in the config; nothing was written.' },
  );
}

async function filled<C extends SnapshotContent>(sink: SnapshotSink<C>, text: string): Promise<C> {
  const content = sink.create();
  await content.write(text);
  return content;
}

/** The server's estimate of the rows this run reads: every table's whose rows it saves. */
function estimateRowsRead(
  plan: SnapshotPlan,
  sizes: ReadonlyMap<string, { readonly rows: number }>,
  userData: boolean,
  ephemeral: boolean,
): number {
  let rows = 0;
  for (const table of plan.tables) {
    const estimate = sizes.get(table.name)?.rows ?? 0;
    if (table.rows === 'git') rows += estimate;
    if (table.rows === 'user-data' && userData) rows += estimate;
    if (table.category === 'ephemeral' && ephemeral) rows += estimate;
  }
  return rows;
}

function reportPlan(plan: SnapshotPlan, database: string, logger: Logger): void {
  for (const name of plan.uncategorized) {
    logger.warn(
      `table ${printable(name)} is in no category: its structure is saved, its rows are not`,
    );
  }
  for (const { name, category } of plan.missing) {
    logger.warn(`table ${name} (${category}) is in the config but not in database ${database}`);
  }
}

/** Text chunks as UTF-8 bytes: encoded once, for the hash and the file alike. */
async function* encoded(chunks: AsyncIterable<SqlChunk>): AsyncIterable<SqlBytesChunk> {
  for await (const chunk of chunks)
    yield { bytes: Buffer.from(chunk.text, 'utf8'), rows: chunk.rows };
}

async function* framed(
  head: string,
  chunks: AsyncIterable<{ readonly text: string }>,
  tail: string,
): AsyncIterable<string> {
  yield head;
  for await (const chunk of chunks) yield chunk.text;
  if (tail !== '') yield tail;
}

/**
 * The state of the identity sequences of `tables` (PostgreSQL), read inside the snapshot's
 * transaction: a sequence is not transactional, so it reads where it is now, at or past
 * where it was at the snapshot's instant: a restore never hands out a stored value again.
 */
async function readIdentityStates(
  session: Session,
  database: string,
  tables: readonly PlannedTable[],
  descriptions: ReadonlyMap<string, TableDescription>,
): Promise<Map<string, SequenceState>> {
  const states = new Map<string, SequenceState>();
  for (const table of tables) {
    if (table.rows === 'none' && table.category !== 'ephemeral') continue;
    for (const column of descriptions.get(table.name)?.columns ?? []) {
      const sequence = column.identitySequence;
      if (sequence === undefined || states.has(sequence)) continue;
      const state = await session.readSequenceState(database, sequence);
      if (state !== undefined) states.set(sequence, state);
    }
  }
  return states;
}

/** The states of `description`'s identity sequences, in column order. */
function identitySequenceStates(
  description: TableDescription,
  states: ReadonlyMap<string, SequenceState>,
): { name: string; state: SequenceState }[] {
  const result: { name: string; state: SequenceState }[] = [];
  for (const column of description.columns) {
    const state =
      column.identitySequence === undefined ? undefined : states.get(column.identitySequence);
    if (column.identitySequence !== undefined && state !== undefined)
      result.push({ name: column.identitySequence, state });
  }
  return result;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
