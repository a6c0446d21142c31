/**
 * A {@link Session} over one `pg.Client`, connected to one database: every method's
 * `database` must be that one (a PostgreSQL connection cannot change its database). Objects
 * are named `schema.name` (names.ts). Every value is read as the server's text (the client's
 * type parsers are off) under the settings of {@link SESSION_SETTINGS}, and written as an
 * exact literal (value-literals.ts).
 *
 * Consistency: {@link startConsistentSnapshot} opens one REPEATABLE READ, READ ONLY
 * transaction and takes its snapshot at once; parallel readers share it through
 * {@link startSharedSnapshot} (`pg_export_snapshot()` and `SET TRANSACTION SNAPSHOT`): no
 * commit block, which would not make independent transactions see one instant anyway.
 */
import pg, { type Client } from 'pg';
import Cursor from 'pg-cursor';
import { EngineError } from '../../errors.js';
import {
  insertableColumns,
  isTableNamedKind,
  type ColumnDescription,
  type DatabaseDefaults,
  type DataStatement,
  type HiddenObjects,
  type InsertChunk,
  type InsertReadOptions,
  type RowRange,
  type RowRangeParts,
  type ObjectDefinition,
  type ObjectKind,
  type RowLiterals,
  type SchemaFilter,
  type SchemaInventory,
  type SequenceState,
  type ServerInfo,
  type SharedSnapshot,
  type Session,
  type SnapshotPosition,
  type TableDescription,
  type TableRead,
  type TableReadRequest,
  type TableSizeEstimate,
  type ObjectRef,
} from '../engine.js';
import { byCodePoint, firstUsableKeys, type CandidateKey } from '../common/row-keys.js';
import { integerKeyColumn, keyRangeConditions, keyRanges } from '../common/key-ranges.js';
import {
  listObjects as listDefinitions,
  readDefinition,
  readTableDefinitions,
} from './definitions.js';
import { COPY_DATA_END, copyStatement } from './copy-data.js';
import { CopyInWriter } from './copy-in.js';
import { ChunkBuffers, CopyOutReader } from './copy-out.js';
import { mapDriverError, SESSION_ABORTED } from './map-error.js';
import {
  isPageRange,
  pageRangeConditions,
  pageRanges,
  readBySequentialScan,
  readsThroughRing,
  SCANS_AS_CONFIGURED,
  SEQUENTIAL_SCANS_ONLY,
  sequentialScanParts,
  withScan,
} from './page-ranges.js';
import { qualifiedName, quoteName, quoteQualified, splitQualifiedName } from './names.js';
import { postgresqlDialect } from './postgresql-dialect.js';
import {
  copyExpression,
  literalKindOf,
  selectExpression,
  sqlLiteral,
  type LiteralKind,
} from './value-literals.js';

/** Rows of a cursor's first round trip (and batch handed to the consumer). */
export const ROWS_PER_BATCH = 256;
/**
 * The later round trips fetch about this many bytes of row text, at most
 * {@link MAX_ROWS_PER_BATCH} rows: a read spends most of its time waiting for the server, once
 * per round trip (2,048 rows a trip read 200,000 narrow rows about twice as fast as 256, one
 * run on a loaded machine), and a byte budget keeps wide rows from filling memory.
 */
export const BATCH_BYTES = 4 * 1024 * 1024;
export const MAX_ROWS_PER_BATCH = 2048;
/**
 * Tables whose definitions {@link PostgresqlSession.readTables} reads with one query per
 * catalog: a few hundred rows of each catalog, far from any limit, and few round trips.
 */
export const TABLES_PER_DEFINITION_QUERY = 200;
/** Statements are cut once they reach this many bytes. */
export const DEFAULT_STATEMENT_BYTES = 1024 * 1024;

/** Every value as the server's text. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

type Row = Record<string, string | null>;

/** The first major version with TID range scans (`ctid >= … AND ctid < …` reads only those pages). */
const TID_RANGE_SCAN_VERSION = 14;

/** Base types (pg_type.typname) of a key column that a table is cut into ranges of, before 14. */
const INTEGER_TYPES: ReadonlySet<string> = new Set(['int2', 'int4', 'int8']);

/** The major version in `server_version` text (`15.4 (Debian …)`, `9.6.24`); NaN when none. */
function majorVersion(version: string): number {
  return Number.parseInt(version, 10);
}

/**
 * The user's schemas, as a query with one parameter (`$1`, a text array or NULL for all):
 * not the system's, not temporary ones, not one an extension created.
 */
const USER_SCHEMAS = `SELECT n.oid FROM pg_catalog.pg_namespace n
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
      WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objid = n.oid AND d.deptype = 'e')
    AND ($1::pg_catalog.text[] IS NULL OR n.nspname = ANY ($1::pg_catalog.text[]))`;

/** `alias.oid` is not an object of an extension (CREATE EXTENSION makes it, not a restore). */
function notInExtension(catalog: string, alias: string): string {
  return `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
      WHERE e.classid = '${catalog}'::pg_catalog.regclass AND e.objid = ${alias}.oid AND e.deptype = 'e')`;
}

export class PostgresqlSession implements Session {
  readonly server: ServerInfo;
  /** The database this session is connected to. */
  readonly database: string;
  private readonly client: Client;
  private readonly target: string;
  private aborted = false;
  /** Buffers of COPY TO chunks, reused from one chunk (and one table) to the next. */
  private chunkBuffers: ChunkBuffers | undefined;

  constructor(client: Client, server: ServerInfo, database: string, target: string) {
    this.client = client;
    this.server = server;
    this.database = database;
    this.target = target;
  }

  async startConsistentSnapshot(): Promise<void> {
    await this.run('starting a consistent snapshot', async () => {
      await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // The snapshot is taken by the transaction's first statement, not by BEGIN: take it now.
      await this.client.query('SELECT 1');
    });
  }

  async endConsistentSnapshot(): Promise<void> {
    await this.run('ending the snapshot transaction', () => this.client.query('ROLLBACK'));
  }

  /**
   * The id of the snapshot this session's transaction reads (after
   * {@link startConsistentSnapshot}), for {@link importSnapshot} of other sessions of the
   * same server and database. Valid while this transaction stays open.
   */
  async exportSnapshot(): Promise<string> {
    const rows = await this.select(
      'exporting the snapshot',
      'SELECT pg_catalog.pg_export_snapshot() AS id',
    );
    const id = rows[0]?.id;
    if (typeof id !== 'string') throw new EngineError('the server exported no snapshot');
    return id;
  }

  /** Starts a consistent snapshot that sees exactly what the session that exported `id` sees. */
  async importSnapshot(id: string): Promise<void> {
    if (!/^[0-9A-Fa-f]+(?:-[0-9A-Fa-f]+)+$/.test(id))
      throw new EngineError(`not a snapshot id: ${id}`);
    await this.run('joining the shared snapshot', async () => {
      await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await this.client.query(`SET TRANSACTION SNAPSHOT '${id}'`);
    });
  }

  /**
   * Exports this session's snapshot and makes each of `readers` (PostgreSQL sessions to the
   * same database) import it: all read one instant. The exporting transaction ends once they
   * have: an imported snapshot lives on in its importer.
   */
  async startSharedSnapshot(readers: readonly Session[]): Promise<SharedSnapshot> {
    const importers: PostgresqlSession[] = [];
    for (const reader of readers) {
      if (!(reader instanceof PostgresqlSession) || reader.database !== this.database)
        throw new EngineError(
          'a PostgreSQL snapshot can be shared only with sessions of the same database',
        );
      importers.push(reader);
    }
    await this.startConsistentSnapshot();
    try {
      const id = await this.exportSnapshot();
      for (const reader of importers) await reader.importSnapshot(id);
      return { shared: true, position: await this.readSnapshotPosition() };
    } finally {
      await this.endConsistentSnapshot();
    }
  }

  async listDatabases(): Promise<readonly string[]> {
    const rows = await this.select(
      'listing databases',
      'SELECT datname AS name FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate',
    );
    return rows.map((row) => String(row.name)).sort(byCodePoint);
  }

  async readDatabaseDefaults(database: string): Promise<DatabaseDefaults> {
    const rows = await this.select(
      'reading the database defaults',
      'SELECT pg_catalog.pg_encoding_to_char(encoding) AS charset, datcollate AS collation FROM pg_catalog.pg_database WHERE datname = $1',
      [database],
    );
    const row = rows[0];
    if (row === undefined) throw this.noDatabase(database, 'reading the database defaults');
    return { characterSet: String(row.charset), collation: String(row.collation) };
  }

  async listObjects(database: string, filter: SchemaFilter = {}): Promise<SchemaInventory> {
    this.ensureDatabase(database, 'listing objects');
    const refs = await listDefinitions(this.definitionsClient(), { schemas: filter.schemas });
    // Trigger and policy names are unique per table only: they are named after it too; a
    // table's foreign keys and row-level security as the table.
    const objects = refs.map((ref): ObjectRef => {
      if (isTableNamedKind(ref.kind)) return { kind: ref.kind, name: ref.name, table: ref.name };
      if (ref.table === undefined || (ref.kind !== 'trigger' && ref.kind !== 'policy'))
        return { kind: ref.kind, name: ref.name };
      return {
        kind: ref.kind,
        name: `${ref.table}.${splitQualifiedName(ref.name).name}`,
        table: ref.table,
      };
    });
    return { objects };
  }

  async describeTables(
    database: string,
    filter: SchemaFilter = {},
  ): Promise<ReadonlyMap<string, TableDescription>> {
    this.ensureDatabase(database, 'reading column definitions');
    const schemas = [filter.schemas ?? null];
    const columns = await this.select(
      'reading column definitions',
      `SELECT n.nspname AS schema, c.relname AS tbl, a.attname AS name,
              pg_catalog.format_type(a.atttypid, a.atttypmod) AS column_type,
              base.typname AS data_type,
              a.attnotnull AS not_null, a.attgenerated AS generated,
              identity.schema AS sequence_schema, identity.name AS sequence_name
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         -- A table without columns (CREATE TABLE t ()) is listed too, once, its name NULL.
         LEFT JOIN pg_catalog.pg_attribute a
           ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
         -- A domain's type is its base type's, through domains over domains.
         LEFT JOIN LATERAL (
           WITH RECURSIVE chain(typname, typtype, typbasetype) AS (
             SELECT t.typname, t.typtype, t.typbasetype
             UNION ALL
             SELECT b.typname, b.typtype, b.typbasetype
               FROM chain JOIN pg_catalog.pg_type b ON b.oid = chain.typbasetype
              WHERE chain.typtype = 'd'
           ) SELECT chain.typname FROM chain WHERE chain.typtype <> 'd'
         ) base ON true
         LEFT JOIN LATERAL (
           SELECT sn.nspname AS schema, s.relname AS name
             FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid
             JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
            WHERE a.attidentity <> '' AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
              AND d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i' AND s.relkind = 'S'
         ) identity ON true
        WHERE c.relnamespace IN (${USER_SCHEMAS}) AND c.relkind IN ('r', 'p')
          AND ${notInExtension('pg_catalog.pg_class', 'c')}
        ORDER BY c.oid, a.attnum`,
      schemas,
    );
    const keys = await this.select(
      'reading keys',
      `SELECT n.nspname AS schema, c.relname AS tbl, ic.relname AS index_name,
              i.indisprimary AS is_primary, a.attname AS name, a.attnotnull AS not_null,
              (i.indpred IS NULL AND i.indexprs IS NULL) AS plain
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, position)
         LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE c.relnamespace IN (${USER_SCHEMAS}) AND c.relkind IN ('r', 'p')
          AND i.indisunique AND i.indisvalid AND k.position <= i.indnkeyatts
        ORDER BY c.oid, i.indisprimary DESC, ic.relname COLLATE "C", k.position`,
      schemas,
    );
    const byTable = new Map<string, ColumnDescription[]>();
    for (const row of columns) {
      const table = qualifiedName(String(row.schema), String(row.tbl));
      const list = byTable.get(table) ?? [];
      byTable.set(table, list);
      if (row.name === null || row.name === undefined) continue;
      list.push({
        name: row.name,
        dataType: String(row.data_type),
        columnType: String(row.column_type),
        nullable: row.not_null !== 't',
        // attgenerated 's': a stored generated column, computed by the server.
        generated: row.generated !== '' && row.generated !== null,
        invisible: false,
        identitySequence:
          row.sequence_name === null || row.sequence_name === undefined
            ? undefined
            : qualifiedName(String(row.sequence_schema), row.sequence_name),
      });
      byTable.set(table, list);
    }
    const uniqueKeys = chooseUniqueKeys(keys);
    const result = new Map<string, TableDescription>();
    for (const name of [...byTable.keys()].sort(byCodePoint)) {
      result.set(name, {
        name,
        columns: byTable.get(name) ?? [],
        uniqueKey: uniqueKeys.get(name) ?? [],
      });
    }
    return result;
  }

  /**
   * Callers queue definitions ahead (prefetch): each one runs under the render settings it
   * sets and then sets back, so they run one after the other, never interleaved (an
   * interleaved one would read with another's settings set back: names left unqualified).
   */
  showCreate(database: string, kind: ObjectKind, name: string): Promise<ObjectDefinition> {
    const next = this.definitionQueue.then(() => this.showCreateNow(database, kind, name));
    this.definitionQueue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private definitionQueue: Promise<void> = Promise.resolve();

  private async showCreateNow(
    database: string,
    kind: ObjectKind,
    name: string,
  ): Promise<ObjectDefinition> {
    this.ensureDatabase(database, `reading the definition of ${kind} ${name}`);
    if (kind === 'event') throw new EngineError('PostgreSQL has no events');
    // Triggers and policies are listed as `schema.table.name` (their names are unique per
    // table only); the catalog reader names them in their schema, with their table.
    const target =
      kind === 'trigger' || kind === 'policy'
        ? await this.tableMemberTarget(kind, name)
        : { name, table: undefined };
    const definition = await readDefinition(
      this.definitionsClient(),
      kind,
      target.name,
      target.table,
    );
    return {
      kind,
      name,
      sql: definition.sql,
      after: definition.after,
      table: definition.table,
    };
  }

  /**
   * A trigger or policy named as {@link listObjects} names it (`schema.table.name`): its table
   * (`schema.table`) and its name in its schema (`schema.name`). Throws when there is no such
   * object, or when dots in the names make two read alike.
   */
  async tableMemberTarget(
    kind: 'trigger' | 'policy',
    name: string,
  ): Promise<{ name: string; table: string }> {
    const { schema, name: rest } = splitQualifiedName(name);
    const catalog =
      kind === 'trigger'
        ? `SELECT c.relname AS tbl, t.tgname AS name
             FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname || '.' || t.tgname = $2 AND NOT t.tgisinternal`
        : `SELECT c.relname AS tbl, p.polname AS name
             FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname || '.' || p.polname = $2`;
    const rows = await this.select(`looking up ${kind} ${name}`, catalog, [schema, rest]);
    const row = rows[0];
    if (row === undefined) throw new EngineError(`no ${kind} ${name}`);
    if (rows.length > 1)
      throw new EngineError(`${kind} name ${name} is ambiguous: its table or itself holds a dot`);
    return {
      name: qualifiedName(schema, String(row.name)),
      table: qualifiedName(schema, String(row.tbl)),
    };
  }

  /**
   * This session's connection with pg's own type parsers (arrays as arrays, int4 as numbers),
   * for catalog readers written for them (definitions.ts); row reads never use it.
   */
  definitionsClient(): { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> } {
    return {
      query: (text, values) =>
        this.run('reading a definition', () =>
          this.client.query({ text, values, types: pg.types }),
        ),
    };
  }

  async *readRowBatches(
    database: string,
    table: TableDescription,
  ): AsyncIterable<readonly RowLiterals[]> {
    this.ensureDatabase(database, `reading rows of ${table.name}`);
    // A table without a column to insert (none, or only generated ones) still has rows: each
    // is read as no values (`SELECT FROM`), and written as DEFAULT VALUES.
    const columns = insertableColumns(table);
    const kinds = columns.map((column) => literalKindOf(column.dataType));
    const select = columns
      .map((column, index) => selectExpression(quoteName(column.name), kinds[index] ?? 'text'))
      .join(', ');
    // By the key: its index gives the order. Without one, by every value's text, bytewise:
    // the file's order then depends on neither the server's collation nor ties between
    // values that compare equal but read differently (1.0 and 1.00, 0 and -0).
    const order =
      table.uniqueKey.length > 0
        ? table.uniqueKey.map(quoteName).join(', ')
        : columns
            .map((column) => `${quoteName(column.name)}::pg_catalog.text COLLATE "C"`)
            .join(', ');
    const sql = `SELECT ${select} FROM ONLY ${quoteQualified(table.name)}${order === '' ? '' : ` ORDER BY ${order}`}`;
    for await (const rows of this.cursorRows(sql, `reading rows of ${quoteQualified(table.name)}`))
      yield rows.map((row) => toLiterals(row, kinds));
  }

  /**
   * The definitions of many tables with one query per catalog for each group of
   * {@link TABLES_PER_DEFINITION_QUERY} (not nine for each table), then each table's rows as
   * {@link readRowBatches} reads them (a cursor each: two round trips for a small table). The definitions are
   * read between the rows' reads, never during them, under their own settings.
   */
  async *readTables(
    database: string,
    tables: readonly TableReadRequest[],
  ): AsyncIterable<TableRead> {
    this.ensureDatabase(database, 'reading table definitions');
    // Definitions asked for before (prefetch) run first: they set and reset the same settings.
    await this.definitionQueue;
    for (let start = 0; start < tables.length; start += TABLES_PER_DEFINITION_QUERY) {
      const group = tables.slice(start, start + TABLES_PER_DEFINITION_QUERY);
      const definitions = await readTableDefinitions(
        this.definitionsClient(),
        group.map((table) => table.name),
      );
      for (const [index, table] of group.entries()) {
        const definition = definitions[index] as ObjectDefinition;
        yield {
          name: table.name,
          definition: {
            kind: 'table',
            name: table.name,
            sql: definition.sql,
            after: definition.after,
            table: undefined,
          },
          rows: table.rows === undefined ? noRows() : this.readRowBatches(database, table.rows),
        };
      }
    }
  }

  async *readInsertChunks(
    database: string,
    table: TableDescription,
    options: InsertReadOptions = {},
  ): AsyncIterable<InsertChunk> {
    this.ensureDatabase(database, `reading rows of ${table.name}`);
    const columns = insertableColumns(table);
    if (columns.length === 0) {
      // A table without a column to insert: a statement of DEFAULT VALUES per row.
      const line = postgresqlDialect.rowLineWriter(table.name, [])([]);
      for await (const rows of this.cursorRows(
        `SELECT FROM ONLY ${quoteQualified(table.name)}`,
        `reading rows of ${quoteQualified(table.name)}`,
      ))
        for (let row = 0; row < rows.length; row += 1)
          yield { sql: Buffer.from(line, 'utf8'), rows: 1 };
      return;
    }
    const kinds = columns.map((column) => literalKindOf(column.dataType));
    const range = options.range;
    const conditions =
      range === undefined
        ? []
        : isPageRange(range)
          ? pageRangeConditions(range)
          : keyRangeConditions(range, quoteName);
    const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
    // The rows as COPY's text, as pg_dump moves them: the server writes each value with its
    // type's output function (the text a literal holds, read back by the input function),
    // and the data goes into the dump as it comes, under a COPY ... FROM stdin of its own
    // in each chunk (chunks of several tables are interleaved in a dump).
    const select = columns
      .map((column, index) => copyExpression(quoteName(column.name), kinds[index] ?? 'text'))
      .join(', ');
    const action = `reading rows of ${quoteQualified(table.name)}`;
    const head = Buffer.from(
      `${copyStatement(
        table.name,
        columns.map((column) => column.name),
      )};\n`,
      'utf8',
    );
    const limit = options.statementBytes ?? DEFAULT_STATEMENT_BYTES;
    // Chunks of whole lines of about `limit` bytes, each in one buffer under `head`, read off
    // the socket (copy-out.ts).
    if (this.chunkBuffers?.dataBytes !== limit) this.chunkBuffers = new ChunkBuffers(limit);
    // A part read by a sequential scan: the planner may use no other scan for it, and gets
    // its usual choice back for the next read of this transaction.
    const sequential = range !== undefined && readBySequentialScan(range);
    if (sequential) await this.run(action, () => this.client.query(SEQUENTIAL_SCANS_ONLY));
    const reader = new CopyOutReader({
      sql: `COPY (SELECT ${select} FROM ONLY ${quoteQualified(table.name)}${where}) TO STDOUT`,
      head,
      tail: COPY_END,
      dataBytes: limit,
      buffers: this.chunkBuffers,
    }).start(this.client);
    try {
      // A consumer that stops early returns the reader too: it drops the rest of the data.
      for await (const chunk of reader)
        yield { sql: chunk.bytes, rows: chunk.rows, release: chunk.release };
    } catch (error) {
      throw this.mapError(error, action);
    }
    // Not after a failed or abandoned read: its transaction ends with the dump anyway.
    if (sequential) await this.run(action, () => this.client.query(SCANS_AS_CONFIGURED));
  }

  /**
   * Ranges of the table's pages on PostgreSQL 14 and later (a TID range scan reads only its
   * pages), else of its single integer key column (see {@link Session.planRowRanges}).
   * Pages: the table is locked (ACCESS SHARE, as pg_dump locks every table) until the
   * snapshot's transaction ends, as a rewrite (VACUUM FULL, CLUSTER, a rewriting ALTER TABLE)
   * between the reads of two ranges would move rows from one to the other; its size is read
   * after the lock, in the snapshot's transaction. The parts of a table bigger than a quarter
   * of shared_buffers are read by sequential scans, at most one per reader
   * ({@link readsThroughRing}).
   */
  async planRowRanges(
    database: string,
    table: TableDescription,
    { pieces, readers }: RowRangeParts,
  ): Promise<readonly RowRange[] | undefined> {
    this.ensureDatabase(database, `planning the reads of ${table.name}`);
    if (pieces < 2) return undefined;
    const quoted = quoteQualified(table.name);
    const action = `reading the size of ${quoted}`;
    const byPages = majorVersion(this.server.version) >= TID_RANGE_SCAN_VERSION;
    if (byPages) await this.select(action, `LOCK TABLE ONLY ${quoted} IN ACCESS SHARE MODE`);
    const rows = await this.select(
      action,
      `SELECT (pg_catalog.pg_relation_size($1::pg_catalog.regclass)
               / pg_catalog.current_setting('block_size')::pg_catalog.int8)::pg_catalog.text AS pages,
              (SELECT setting FROM pg_catalog.pg_settings WHERE name = 'shared_buffers') AS buffers`,
      [quoted],
    );
    const pages = Number(rows[0]?.pages ?? 0);
    const sequential = readsThroughRing(pages, Number(rows[0]?.buffers ?? 0));
    const parts = sequentialScanParts(pieces, readers, sequential);
    if (byPages) return pageRanges(pages, parts)?.map((range) => withScan(range, sequential));
    const column = integerKeyColumn(table, INTEGER_TYPES);
    if (column === undefined || parts < 2) return undefined;
    const bounds = await this.readKeyBounds(database, table.name, column);
    return bounds === undefined
      ? undefined
      : keyRanges(column, bounds, parts).map((range) => withScan(range, sequential));
  }

  /** Smallest and largest value of an integer column; undefined for an empty table. */
  async readKeyBounds(
    database: string,
    table: string,
    column: string,
  ): Promise<{ min: string; max: string } | undefined> {
    this.ensureDatabase(database, `reading the key range of ${table}`);
    const name = quoteName(column);
    const rows = await this.select(
      `reading the key range of ${quoteQualified(table)}`,
      `SELECT pg_catalog.min(${name})::pg_catalog.text AS low, pg_catalog.max(${name})::pg_catalog.text AS high FROM ONLY ${quoteQualified(table)}`,
    );
    const low = rows[0]?.low;
    const high = rows[0]?.high;
    if (typeof low !== 'string' || typeof high !== 'string') return undefined;
    return { min: low, max: high };
  }

  /** PostgreSQL's catalogs show every object to every account: nothing is hidden. */
  findHiddenObjects(): Promise<readonly HiddenObjects[]> {
    return Promise.resolve([]);
  }

  async estimateTableSizes(
    database: string,
    filter: SchemaFilter = {},
  ): Promise<ReadonlyMap<string, TableSizeEstimate>> {
    this.ensureDatabase(database, 'reading table sizes');
    const rows = await this.select(
      'reading table sizes',
      `SELECT n.nspname AS schema, c.relname AS name,
              GREATEST(c.reltuples, 0)::pg_catalog.int8 AS row_count,
              c.relpages::pg_catalog.int8 * pg_catalog.current_setting('block_size')::pg_catalog.int8 AS bytes,
              COALESCE(am.amname, '') AS engine
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
        WHERE c.relnamespace IN (${USER_SCHEMAS}) AND c.relkind IN ('r', 'p')
          AND ${notInExtension('pg_catalog.pg_class', 'c')}`,
      [filter.schemas ?? null],
    );
    return new Map(
      rows.map((row) => [
        qualifiedName(String(row.schema), String(row.name)),
        {
          rows: Number(row.row_count ?? 0),
          bytes: Number(row.bytes ?? 0),
          engine: String(row.engine),
          // Every PostgreSQL table is read at the snapshot's instant (MVCC).
          transactional: true,
          // Its indexes and constraints are `after` statements, after the rows anyway.
          keysDeferrable: false,
        },
      ]),
    );
  }

  async readSnapshotPosition(): Promise<SnapshotPosition | undefined> {
    try {
      const rows = await this.select(
        'reading the WAL position',
        `SELECT (CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
                 ELSE pg_catalog.pg_current_wal_lsn() END)::pg_catalog.text AS lsn`,
      );
      const lsn = rows[0]?.lsn;
      return typeof lsn === 'string' ? { walLsn: lsn } : undefined;
    } catch (error) {
      if (this.aborted) throw error;
      // A server that does not let this role see the WAL position: it is simply not recorded.
      return undefined;
    }
  }

  async readSequenceState(database: string, sequence: string): Promise<SequenceState | undefined> {
    this.ensureDatabase(database, `reading sequence ${sequence}`);
    const quoted = quoteQualified(sequence);
    const rows = await this.select(
      `reading sequence ${quoted}`,
      `SELECT s.last_value::pg_catalog.text AS last_value, s.is_called AS is_called,
              q.seqincrement::pg_catalog.text AS increment, q.seqmin::pg_catalog.text AS min_value,
              q.seqmax::pg_catalog.text AS max_value, q.seqcycle AS cycle
         FROM ${quoted} s, pg_catalog.pg_sequence q
        WHERE q.seqrelid = $1::pg_catalog.regclass`,
      [quoted],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return sequenceState({
      last: BigInt(String(row.last_value)),
      called: row.is_called === 't',
      increment: BigInt(String(row.increment)),
      min: BigInt(String(row.min_value)),
      max: BigInt(String(row.max_value)),
      cycle: row.cycle === 't',
    });
  }

  async execute(sql: string): Promise<void> {
    await this.run('running a statement', () => this.client.query(sql));
  }

  async executeCounting(sql: string): Promise<number> {
    const result = await this.run('running a statement', () => this.client.query(sql));
    return result.rowCount ?? 0;
  }

  openDataStatement(sql: string): DataStatement {
    return new CopyInWriter(sql, (error) => this.mapError(error, 'loading COPY data')).start(
      this.client,
    );
  }

  async close(): Promise<void> {
    if (this.aborted) return;
    await this.client.end().catch(() => undefined);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    // Destroys the socket: the statement running and every later one fail at once.
    const { connection } = this.client as unknown as {
      connection?: { stream?: { destroy(error?: Error): void } };
    };
    connection?.stream?.destroy();
  }

  /** Streams the rows of `sql` as text arrays, a batch per round trip of about {@link BATCH_BYTES}. */
  private async *cursorRows(sql: string, action: string): AsyncIterable<(string | null)[][]> {
    const cursor = this.client.query(
      new Cursor<(string | null)[]>(sql, [], { rowMode: 'array', types: TEXT_TYPES }),
    );
    // An object, so that what the catch below sets is not taken for a constant.
    const state = { failed: false };
    let wanted = ROWS_PER_BATCH;
    try {
      for (;;) {
        let rows: (string | null)[][];
        try {
          rows = await cursor.read(wanted);
        } catch (error) {
          state.failed = true;
          throw this.mapError(error, action);
        }
        if (rows.length === 0) return;
        wanted = rowsForBytes(rows);
        yield rows;
      }
    } finally {
      // A consumer that stopped early: close the portal so the session stays usable. After
      // a failure the server has ended it already, and a dropped connection answers nothing.
      if (!state.failed && !this.aborted) await cursor.close().catch(() => undefined);
    }
  }

  private ensureDatabase(database: string, action: string): void {
    if (database === this.database) return;
    throw new EngineError(
      `a PostgreSQL session reads the database it connected to (${this.database}), not ${database}, while ${action}`,
      { hint: 'Open a session with this database named in the connection options.' },
    );
  }

  private checkSchemaName(schema: string): void {
    if (!schema.includes('\n') && !schema.includes('\r')) return;
    throw new EngineError(
      `schema name with a line break is not supported: ${JSON.stringify(schema)}`,
    );
  }

  private noDatabase(database: string, action: string): EngineError {
    return mapDriverError(
      { code: '3D000', message: `database "${database}" does not exist` },
      action,
      this.target,
    );
  }

  private async select(action: string, sql: string, values: unknown[] = []): Promise<Row[]> {
    const result = await this.run(action, () =>
      this.client.query<Row>({ text: sql, values, types: TEXT_TYPES }),
    );
    return result.rows;
  }

  private async run<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.mapError(error, action);
    }
  }

  private mapError(error: unknown, action: string): EngineError {
    if (this.aborted) return mapDriverError({ code: SESSION_ABORTED }, action, this.target);
    return mapDriverError(error, action, this.target);
  }
}

const COPY_END = Buffer.from(COPY_DATA_END, 'latin1');

async function* noRows(): AsyncIterable<readonly RowLiterals[]> {
  // The table's rows were not asked for.
}

/** How many rows like `rows` make about {@link BATCH_BYTES}, within 16 and {@link MAX_ROWS_PER_BATCH}. */
function rowsForBytes(rows: readonly (readonly (string | null)[])[]): number {
  let length = 0;
  for (const row of rows) for (const value of row) length += (value?.length ?? 0) + 4;
  const perRow = Math.max(1, length / rows.length);
  return Math.min(MAX_ROWS_PER_BATCH, Math.max(16, Math.floor(BATCH_BYTES / perRow)));
}

function toLiterals(row: readonly (string | null)[], kinds: readonly LiteralKind[]): RowLiterals {
  const literals = new Array<string>(kinds.length);
  for (let index = 0; index < kinds.length; index += 1)
    literals[index] = sqlLiteral(row[index] ?? null, kinds[index] ?? 'text');
  return literals;
}

/** A sequence's next value from its relation's `last_value`/`is_called` and its options. */
export function sequenceState(sequence: {
  last: bigint;
  called: boolean;
  increment: bigint;
  min: bigint;
  max: bigint;
  cycle: boolean;
}): SequenceState {
  const { last, called, increment, min, max, cycle } = sequence;
  if (!called) return { next: last.toString(), round: '0' };
  const next = last + increment;
  if (next <= max && next >= min) return { next: next.toString(), round: '0' };
  // At its bound: a CYCLE sequence starts again at the other end; another is used up.
  if (cycle) return { next: (increment > 0n ? min : max).toString(), round: '0' };
  return { next: last.toString(), round: '0', exhausted: true };
}

/** Per table: the primary key, else the first unique index (by name) over NOT NULL plain columns. */
function chooseUniqueKeys(rows: readonly Row[]): Map<string, string[]> {
  const indexes = new Map<string, Map<string, CandidateKey>>();
  for (const row of rows) {
    const table = qualifiedName(String(row.schema), String(row.tbl));
    const perTable = indexes.get(table) ?? new Map<string, CandidateKey>();
    const indexName = String(row.index_name);
    const index = perTable.get(indexName) ?? { columns: [], usable: row.plain === 't' };
    // An expression's column (attnum 0) has no attribute: the index is no row key.
    const column = row.name;
    if (column === null || column === undefined || row.not_null !== 't') index.usable = false;
    else index.columns.push(column);
    perTable.set(indexName, index);
    indexes.set(table, perTable);
  }
  return firstUsableKeys(indexes);
}
