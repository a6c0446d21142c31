/**
 * A {@link Session} over one mysql2 connection. The session settings make every read
 * deterministic: UTC time zone (TIMESTAMP values do not depend on the host), utf8mb4 results,
 * an empty sql_mode (SHOW CREATE output without ANSI_QUOTES or other mode-dependent forms),
 * and the largest max_sort_length, so ORDER BY compares whole values.
 */
import type { Connection as CallbackConnection, ResultSetHeader, RowDataPacket } from 'mysql2';
import type { Connection } from 'mysql2/promise';
import {
  insertableColumns,
  type ColumnDescription,
  type DatabaseDefaults,
  type HiddenObjects,
  type InsertChunk,
  type InsertReadOptions,
  type RowRange,
  type RowRangeParts,
  type SnapshotPosition,
  type TableSizeEstimate,
  type ObjectDefinition,
  type ObjectKind,
  type RowLineChunk,
  type RowLiterals,
  type SchemaInventory,
  type SequenceState,
  type ServerInfo,
  type SharedSnapshot,
  type Session,
  type TableDescription,
  type TableRead,
  type TableReadRequest,
  type ObjectRef,
} from '../engine.js';
import { byCodePoint, firstUsableKeys, type CandidateKey } from '../common/row-keys.js';
import { integerKeyColumn, keyRangeConditions, keyRanges } from '../common/key-ranges.js';
import { EngineError, InternalError } from '../../errors.js';
import { findHiddenObjects } from './hidden-objects.js';
import { mapDriverError, SESSION_ABORTED } from './map-error.js';
import { normalizeCreateTable, splitDefiner } from './normalize-create.js';
import { framedInPlace } from './statement-buffer.js';
import { ROWS_PER_BATCH, streamBatches, streamQuery } from './stream-batches.js';
import {
  DEFAULT_STATEMENT_BYTES,
  InsertEncoder,
  streamInsertChunks,
  takeRowPackets,
  type PreparedRows,
  type RawPacket,
} from './insert-encoder.js';
import { rowLinePrefix } from './mariadb-dialect.js';
import { RowLineEncoder, RowLineSlab } from './row-line-encoder.js';
import {
  INTEGER_TYPES,
  literalKindOf,
  quoteIdentifier,
  sqlLiteral,
  type LiteralKind,
} from './sql-literal.js';

/**
 * Storage engines (lower case) whose reads in a consistent-snapshot transaction all see its
 * instant: InnoDB, and RocksDB where the plugin is installed. Aria, MyISAM, MEMORY, CSV… are
 * read as they are when read.
 */
const MVCC_ENGINES: ReadonlySet<string> = new Set(['innodb', 'rocksdb']);

export const SESSION_SETUP = [
  'SET NAMES utf8mb4',
  "SET SESSION time_zone = '+00:00'",
  "SET SESSION sql_mode = ''",
  'SET SESSION sql_quote_show_create = 1',
  'SET SESSION max_sort_length = 8388608',
  'SET SESSION group_concat_max_len = 1048576',
];

/** Rows waiting in the stream before the socket is paused: bounds memory per table read. */

type Row = Record<string, unknown>;

export class MariadbSession implements Session {
  private aborted = false;
  readonly server: ServerInfo;
  private readonly connection: Connection;
  private readonly target: string;

  private readonly readsOnly: boolean;
  /** Where row lines are written: one query at a time reads rows, one result set after the other. */
  private lineSlab: RowLineSlab | undefined;
  /**
   * information_schema.TABLES of each database, read once while a consistent snapshot is
   * open (undefined outside one): listing the objects, describing the tables and estimating
   * their sizes share one read instead of three, each of which opens every table (~15 ms
   * for 1,000 tables). Outside a snapshot (a restore creates tables) each reads afresh.
   */
  private snapshotTables: Map<string, Promise<Row[]>> | undefined;

  constructor(connection: Connection, server: ServerInfo, target: string, readsOnly = false) {
    this.connection = connection;
    this.server = server;
    this.target = target;
    this.readsOnly = readsOnly;
  }

  async startConsistentSnapshot(): Promise<void> {
    this.snapshotTables = undefined;
    await this.run('starting a consistent snapshot', async () => {
      await this.connection.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await this.connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    });
    this.snapshotTables = new Map();
  }

  async endConsistentSnapshot(): Promise<void> {
    this.snapshotTables = undefined;
    await this.run('ending the snapshot transaction', () => this.connection.query('ROLLBACK'));
  }

  /**
   * Name, type, estimated rows, data length and engine of every table, view and sequence
   * of `database` (information_schema.TABLES), or undefined outside a consistent snapshot:
   * in one, the first caller reads them for the others (see snapshotTables).
   */
  private tablesInSnapshot(database: string): Promise<Row[]> | undefined {
    const read = this.snapshotTables;
    if (read === undefined) return undefined;
    let rows = read.get(database);
    if (rows === undefined) {
      rows = this.select<Row>(
        'listing tables',
        'SELECT TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_ROWS AS tableRows, DATA_LENGTH AS bytes, ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
        [database],
      );
      read.set(database, rows);
      // A failed read is not kept: the next caller asks again (and reports its own failure).
      rows.catch(() => {
        if (read.get(database) === rows) read.delete(database);
      });
    }
    return rows;
  }

  async listDatabases(): Promise<readonly string[]> {
    const rows = await this.select<Row>(
      'listing databases',
      'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA',
    );
    return rows.map((row) => String(row.name)).sort(byCodePoint);
  }

  async readDatabaseDefaults(database: string): Promise<DatabaseDefaults> {
    const rows = await this.select<Row>(
      'reading the database defaults',
      'SELECT DEFAULT_CHARACTER_SET_NAME AS characterSet, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [database],
    );
    const row = rows[0];
    if (row === undefined) {
      throw mapDriverError(
        { code: 'ER_BAD_DB_ERROR', errno: 1049, sqlMessage: `Unknown database '${database}'` },
        'reading the database defaults',
        this.target,
      );
    }
    return { characterSet: String(row.characterSet), collation: String(row.collation) };
  }

  async listObjects(database: string): Promise<SchemaInventory> {
    const exists = await this.select<Row>(
      'looking up the database',
      'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [database],
    );
    if (exists.length === 0) {
      throw mapDriverError(
        { code: 'ER_BAD_DB_ERROR', errno: 1049, sqlMessage: `Unknown database '${database}'` },
        'listing objects',
        this.target,
      );
    }
    const tables =
      (await this.tablesInSnapshot(database)) ??
      (await this.select<Row>(
        'listing tables',
        'SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
        [database],
      ));
    const namesOf = (types: readonly string[]): string[] =>
      tables
        .filter((row) => types.includes(String(row.type)))
        .map((row) => String(row.name))
        .sort(byCodePoint);
    const routines = await this.select<Row>(
      'listing routines',
      'SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS type FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?',
      [database],
    );
    const routinesOf = (type: string): string[] =>
      routines
        .filter((row) => row.type === type)
        .map((row) => String(row.name))
        .sort(byCodePoint);
    const events = await this.select<Row>(
      'listing events',
      'SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?',
      [database],
    );
    const triggers = await this.select<Row>(
      'listing triggers',
      'SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl, ACTION_ORDER AS actionOrder FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?',
      [database],
    );
    const triggerRefs: ObjectRef[] = triggers
      .map((row) => ({
        name: String(row.name),
        table: String(row.tbl),
        order: Number(row.actionOrder),
      }))
      .sort(
        (a, b) => byCodePoint(a.table, b.table) || a.order - b.order || byCodePoint(a.name, b.name),
      )
      .map(({ name, table }) => ({ kind: 'trigger', name, table }));
    const refs = (kind: ObjectKind, names: readonly string[]): ObjectRef[] =>
      names.map((name) => ({ kind, name }));
    return {
      objects: [
        ...refs('table', namesOf(['BASE TABLE', 'SYSTEM VERSIONED'])),
        ...refs('sequence', namesOf(['SEQUENCE'])),
        ...refs('view', namesOf(['VIEW'])),
        ...refs('function', routinesOf('FUNCTION')),
        ...refs('procedure', routinesOf('PROCEDURE')),
        ...triggerRefs,
        ...refs('event', events.map((row) => String(row.name)).sort(byCodePoint)),
      ],
    };
  }

  async describeTables(database: string): Promise<ReadonlyMap<string, TableDescription>> {
    const columns = await this.select<Row>(
      'reading column definitions',
      // No join with information_schema.TABLES: the server answers that join by scanning
      // every database (0.65 s for 1,000 tables, against 0.02 s); base tables are picked below.
      `SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType,
              IS_NULLABLE AS nullable, EXTRA AS extra, IS_GENERATED AS isGenerated
         FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ?
        ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      [database],
    );
    const tables =
      (await this.tablesInSnapshot(database))?.filter((row) => isBaseTable(row.type)) ??
      (await this.select<Row>(
        'listing base tables',
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')",
        [database],
      ));
    const baseTables = new Set(tables.map((row) => String(row.name)));
    const keys = await this.select<Row>(
      'reading keys',
      `SELECT TABLE_NAME AS tbl, INDEX_NAME AS indexName, COLUMN_NAME AS name, NULLABLE AS nullable, SUB_PART AS subPart
         FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND NON_UNIQUE = 0
        ORDER BY TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
      [database],
    );
    const byTable = new Map<string, ColumnDescription[]>();
    for (const row of columns) {
      if (!baseTables.has(String(row.tbl))) continue;
      const extra = String(row.extra).toUpperCase();
      const list = byTable.get(String(row.tbl)) ?? [];
      list.push({
        name: String(row.name),
        dataType: String(row.dataType).toLowerCase(),
        columnType: String(row.columnType),
        nullable: row.nullable === 'YES',
        // ROW START/ROW END of system-versioned tables are set by the server, like generated columns.
        generated: row.isGenerated === 'ALWAYS' || /GENERATED|ROW START|ROW END/.test(extra),
        invisible: extra.includes('INVISIBLE'),
      });
      byTable.set(String(row.tbl), list);
    }
    const uniqueKeys = chooseUniqueKeys(keys);
    const result = new Map<string, TableDescription>();
    for (const [name, tableColumns] of byTable) {
      result.set(name, { name, columns: tableColumns, uniqueKey: uniqueKeys.get(name) ?? [] });
    }
    return result;
  }

  async showCreate(database: string, kind: ObjectKind, name: string): Promise<ObjectDefinition> {
    const qualified = `${quoteIdentifier(database)}.${quoteIdentifier(name)}`;
    const statement = SHOW_CREATE[kind as MariadbObjectKind] as
      (typeof SHOW_CREATE)[MariadbObjectKind] | undefined;
    if (statement === undefined) throw new EngineError(`MariaDB has no ${kind} objects`);
    const rows = await this.select<Row>(
      `reading the definition of ${kind} ${qualified}`,
      `SHOW CREATE ${statement.keyword} ${qualified}`,
    );
    const row = rows[0];
    const text = row?.[statement.column];
    if (row === undefined || typeof text !== 'string' || text === '') {
      throw mapDriverError(
        {
          code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
          sqlMessage: `the server returned no definition for ${kind} ${qualified} (missing privilege?)`,
        },
        `reading the definition of ${kind} ${qualified}`,
        this.target,
      );
    }
    if (kind === 'table') return { kind, name, sql: normalizeCreateTable(text) };
    const { sql, definer } = splitDefiner(text);
    const sqlMode = typeof row.sql_mode === 'string' ? row.sql_mode : undefined;
    const table = kind === 'trigger' ? await this.triggerTable(database, name) : undefined;
    const timeZone =
      kind === 'event' && typeof row.time_zone === 'string' ? row.time_zone : undefined;
    // SHOW CREATE of a view, trigger, routine or event gives these; of a sequence, not.
    const characterSetClient =
      typeof row.character_set_client === 'string' ? row.character_set_client : undefined;
    const collationConnection =
      typeof row.collation_connection === 'string' ? row.collation_connection : undefined;
    return {
      kind,
      name,
      sql: sql.trimEnd(),
      definer,
      sqlMode,
      timeZone,
      characterSetClient,
      collationConnection,
      table,
    };
  }

  async *readRowBatches(
    database: string,
    table: TableDescription,
  ): AsyncIterable<readonly RowLiterals[]> {
    const select = rowSelect(database, table);
    if (select === undefined) return;
    yield* streamBatches(this.raw(), select.sql, select.toLiterals, (error) =>
      mapDriverError(error, `reading rows of ${quoteIdentifier(table.name)}`, this.target),
    );
  }

  async *readTables(
    database: string,
    tables: readonly TableReadRequest[],
  ): AsyncIterable<TableRead> {
    if (!this.readsOnly) {
      // One statement at a time: the connection runs no multi-statement queries.
      for (const table of tables) {
        const definition = await this.showCreate(database, 'table', table.name);
        yield {
          name: table.name,
          definition,
          rows: table.rows === undefined ? emptyRows() : this.readRowBatches(database, table.rows),
        };
      }
      return;
    }
    let group: TableReadRequest[] = [];
    let groupBytes = 0;
    for (const table of tables) {
      const bytes = statementBytes(table);
      if (
        group.length > 0 &&
        (group.length >= TABLES_PER_QUERY || groupBytes + bytes > QUERY_BYTES)
      ) {
        yield* this.readTableGroup(database, group);
        group = [];
        groupBytes = 0;
      }
      group.push(table);
      groupBytes += bytes;
    }
    if (group.length > 0) yield* this.readTableGroup(database, group);
  }

  /** One multi-statement query: each table's SHOW CREATE, then its rows' SELECT when asked. */
  private async *readTableGroup(
    database: string,
    tables: readonly TableReadRequest[],
  ): AsyncIterable<TableRead> {
    const statements: string[] = [];
    // Per statement, in order: the table it reads, and how its rows become literals or row
    // lines (neither: its SHOW CREATE).
    const readers: {
      table: number;
      toLiterals?: (row: (Buffer | null)[]) => RowLiterals;
      lines?: RowLineEncoder;
    }[] = [];
    const rowsStatement: (number | undefined)[] = [];
    for (const [index, table] of tables.entries()) {
      statements.push(
        `SHOW CREATE TABLE ${quoteIdentifier(database)}.${quoteIdentifier(table.name)}`,
      );
      readers.push({ table: index });
      const select = table.rows === undefined ? undefined : rowSelect(database, table.rows);
      if (select === undefined) {
        rowsStatement.push(undefined);
        continue;
      }
      rowsStatement.push(statements.length);
      statements.push(select.sql);
      readers.push(
        table.asLines === true
          ? {
              table: index,
              lines: new RowLineEncoder(
                select.linePrefix,
                select.kinds,
                (this.lineSlab ??= new RowLineSlab()),
              ),
            }
          : { table: index, toLiterals: select.toLiterals },
      );
    }
    // Result sets begun so far: a statement the server refuses (a table dropped meanwhile, a
    // missing privilege) is the one after them.
    let resultSets = 0;
    const failedAction = (): string => {
      const reader = readers[Math.min(resultSets, readers.length - 1)];
      const name = quoteIdentifier(tables[reader?.table ?? 0]?.name ?? '');
      return reader?.toLiterals === undefined && reader?.lines === undefined
        ? `reading the definition of table ${quoteIdentifier(database)}.${name}`
        : `reading rows of ${name}`;
    };
    type Item = {
      statement: number;
      rows?: RowLiterals[];
      lines?: RowLineChunk;
      definition?: string;
    };
    let batch: { statement: number; rows: RowLiterals[] } | undefined;
    const raw = this.raw();
    const sql = statements.join(';\n');
    // (Not in mysql2's QueryOptions type; read by its Query from the options given.)
    const interpretedRows = { sql, rowsAsArray: true, typeCast: false, disableEval: true };
    const items = streamQuery<Item>(raw, {
      sql,
      // mysql2's interpreted row parser: its generated one is compiled (new Function) for
      // every new set of columns, one per table of a real schema, and the rows read as lines
      // never use it.
      start: () => raw.query(interpretedRows),
      mapError: (error) => mapDriverError(error, failedAction(), this.target),
      attach: (query, sink) => {
        // The row lines of the result set under way, when it is read as lines.
        const flushLines = (): void => {
          const statement = resultSets - 1;
          const chunk = readers[statement]?.lines?.flush();
          if (chunk !== undefined && sink.wanted) sink.push({ statement, lines: chunk });
        };
        query.on('fields', () => {
          flushLines();
          resultSets += 1;
        });
        // The rows of a statement read as lines are encoded where they lie in the packet
        // (see insert-encoder.ts): mysql2 assigns its generated row parser once a result's
        // column definitions are in, and this property hands it ours for those statements.
        // From a result's first row on, its other rows skip mysql2's dispatch (when they can).
        let generated: unknown;
        const linesParser = {
          next: (packet: RawPacket): null => {
            const statement = resultSets - 1;
            const encoder = readers[statement]?.lines;
            if (encoder === undefined) return null;
            const encode = (rowPacket: RawPacket): void => {
              if (!sink.wanted) return;
              try {
                const chunk = encoder.encodePacket(rowPacket);
                if (chunk !== undefined) sink.push({ statement, lines: chunk });
              } catch (error) {
                sink.fail(error);
              }
            };
            encode(packet);
            takeRowPackets(raw, encode);
            return null;
          },
        };
        Object.defineProperty(query, '_rowParser', {
          get: () => (readers[resultSets - 1]?.lines === undefined ? generated : linesParser),
          set: (parser: unknown) => {
            generated = parser;
          },
          configurable: true,
        });
        query.on('result', (row: unknown, statement: number) => {
          if (!sink.wanted) return;
          const reader = readers[statement];
          if (reader?.lines !== undefined) return;
          const values = row as (Buffer | null)[];
          const toLiterals = reader?.toLiterals;
          try {
            if (toLiterals === undefined) {
              if (batch !== undefined) sink.push(batch);
              batch = undefined;
              sink.push({ statement, definition: values[1]?.toString('utf8') ?? '' });
              return;
            }
            if (batch !== undefined && batch.statement !== statement) {
              sink.push(batch);
              batch = undefined;
            }
            batch ??= { statement, rows: [] };
            batch.rows.push(toLiterals(values));
          } catch (error) {
            sink.fail(error);
            return;
          }
          if (batch.rows.length >= ROWS_PER_BATCH) {
            sink.push(batch);
            batch = undefined;
          }
        });
      },
      flush: (sink) => {
        if (batch !== undefined) sink.push(batch);
        batch = undefined;
        const chunk = readers[resultSets - 1]?.lines?.flush();
        if (chunk !== undefined) sink.push({ statement: resultSets - 1, lines: chunk });
      },
    })[Symbol.asyncIterator]();
    // The item read ahead that belongs to a later statement than the one being consumed.
    let ahead: Item | undefined;
    const next = async (): Promise<Item | undefined> => {
      if (ahead !== undefined) {
        const item = ahead;
        ahead = undefined;
        return item;
      }
      const result = await items.next();
      return result.done === true ? undefined : result.value;
    };
    // The items of `statement`, in order, up to the first of a later statement.
    async function* itemsOf(statement: number | undefined): AsyncIterable<Item> {
      if (statement === undefined) return;
      for (;;) {
        const item = await next();
        if (item === undefined) return;
        if (item.statement !== statement) {
          ahead = item;
          return;
        }
        yield item;
      }
    }
    try {
      for (const [index, table] of tables.entries()) {
        const qualified = `${quoteIdentifier(database)}.${quoteIdentifier(table.name)}`;
        let item = await next();
        // Rows a consumer left unread belong to an earlier statement: skipped.
        while (item !== undefined && readers[item.statement]?.table !== index) item = await next();
        if (item?.definition === undefined || item.definition === '') {
          throw mapDriverError(
            {
              code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
              sqlMessage: `the server returned no definition for table ${qualified} (missing privilege?)`,
            },
            `reading the definition of table ${qualified}`,
            this.target,
          );
        }
        const definition: ObjectDefinition = {
          kind: 'table',
          name: table.name,
          sql: normalizeCreateTable(item.definition),
        };
        const statement = rowsStatement[index];
        if (statement !== undefined && readers[statement]?.lines !== undefined) {
          const lines = async function* (): AsyncIterable<RowLineChunk> {
            for await (const lineItem of itemsOf(statement))
              if (lineItem.lines !== undefined) yield lineItem.lines;
          };
          yield { name: table.name, definition, rows: emptyRows(), lines: lines() };
          continue;
        }
        const rows = async function* (): AsyncIterable<readonly RowLiterals[]> {
          for await (const rowItem of itemsOf(statement))
            if (rowItem.rows !== undefined) yield rowItem.rows;
        };
        yield { name: table.name, definition, rows: rows() };
      }
    } finally {
      // Unread results are drained by the stream's own cleanup.
      await items.return?.();
    }
  }

  async *readInsertChunks(
    database: string,
    table: TableDescription,
    options: InsertReadOptions = {},
  ): AsyncIterable<InsertChunk> {
    const columns = insertableColumns(table);
    if (columns.length === 0) return;
    const conditions =
      options.range === undefined ? [] : keyRangeConditions(options.range, quoteIdentifier);
    const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
    const from = `${quoteIdentifier(database)}.${quoteIdentifier(table.name)}${where}`;
    const names = columns.map((column) => quoteIdentifier(column.name));
    const prefix = `INSERT INTO ${quoteIdentifier(table.name)} (${columns.map((column) => quoteIdentifier(column.name)).join(',')}) VALUES `;
    const encoder = new InsertEncoder(
      prefix,
      columns.map((column) => literalKindOf(column.dataType)),
      options.statementBytes ?? DEFAULT_STATEMENT_BYTES,
    );
    const raw = (this.connection as unknown as { connection: CallbackConnection }).connection;
    const mapError = (error: unknown): Error =>
      mapDriverError(error, `reading rows of ${quoteIdentifier(table.name)}`, this.target);
    // Binary rows (a prepared statement) where the server allows it: it then sends numbers
    // and dates as they are stored instead of formatting each as text, and FLOAT is exact.
    const binarySql = `SELECT ${names.join(', ')} FROM ${from}`;
    const prepared = await prepareRows(raw, binarySql).catch((error: unknown) => {
      throw mapError(error);
    });
    if (prepared !== undefined) {
      try {
        yield* streamInsertChunks(raw, binarySql, encoder, mapError, prepared);
      } finally {
        unprepare(raw, binarySql);
      }
      return;
    }
    // FLOAT as DOUBLE: exact, where the text protocol's FLOAT has 6 digits (see readRowBatches).
    const textSelect = columns.map((column, index) =>
      column.dataType === 'float' ? `CAST(${names[index] ?? ''} AS DOUBLE)` : (names[index] ?? ''),
    );
    yield* streamInsertChunks(
      raw,
      `SELECT ${textSelect.join(', ')} FROM ${from}`,
      encoder,
      mapError,
    );
  }

  /** Ranges of the table's single integer key column (see {@link Session.planRowRanges}). */
  async planRowRanges(
    database: string,
    table: TableDescription,
    { pieces }: RowRangeParts,
  ): Promise<readonly RowRange[] | undefined> {
    const column = integerKeyColumn(table, INTEGER_TYPES);
    if (column === undefined || pieces < 2) return undefined;
    const bounds = await this.readKeyBounds(database, table.name, column);
    return bounds === undefined ? undefined : keyRanges(column, bounds, pieces);
  }

  /** Smallest and largest value of an integer column; undefined for an empty table. */
  async readKeyBounds(
    database: string,
    table: string,
    column: string,
  ): Promise<{ min: string; max: string } | undefined> {
    const name = quoteIdentifier(column);
    const rows = await this.select<Row>(
      `reading the key range of ${quoteIdentifier(table)}`,
      `SELECT CAST(MIN(${name}) AS CHAR) AS low, CAST(MAX(${name}) AS CHAR) AS high FROM ${quoteIdentifier(database)}.${quoteIdentifier(table)}`,
    );
    const low = rows[0]?.low;
    const high = rows[0]?.high;
    if (typeof low !== 'string' || typeof high !== 'string') return undefined;
    return { min: low, max: high };
  }

  async findHiddenObjects(database: string): Promise<readonly HiddenObjects[]> {
    return findHiddenObjects(
      {
        flavor: this.server.flavor,
        query: async (sql) => {
          const [rows] = await this.connection.query<RowDataPacket[]>(sql);
          return rows;
        },
      },
      database,
    ).catch((error: unknown) => {
      throw mapDriverError(error, 'reading the privileges of the account', this.target);
    });
  }

  async estimateTableSizes(database: string): Promise<ReadonlyMap<string, TableSizeEstimate>> {
    const rows =
      (await this.tablesInSnapshot(database))?.filter((row) => isBaseTable(row.type)) ??
      (await this.select<Row>(
        'reading table sizes',
        "SELECT TABLE_NAME AS name, TABLE_ROWS AS tableRows, DATA_LENGTH AS bytes, ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')",
        [database],
      ));
    return new Map(
      rows.map((row) => [
        String(row.name),
        {
          rows: Number(row.tableRows ?? 0),
          bytes: Number(row.bytes ?? 0),
          engine: typeof row.engine === 'string' ? row.engine : '',
          transactional:
            typeof row.engine === 'string' && MVCC_ENGINES.has(row.engine.toLowerCase()),
          // InnoDB builds a secondary key faster in one pass after the rows than row by row.
          keysDeferrable: typeof row.engine === 'string' && row.engine.toLowerCase() === 'innodb',
        },
      ]),
    );
  }

  async startSharedSnapshot(readers: readonly Session[]): Promise<SharedSnapshot> {
    if (!(await this.blockCommits()))
      return {
        shared: false,
        reason:
          'the account lacks the RELOAD privilege needed to share one snapshot between connections',
      };
    try {
      // Commits wait while every reader starts its transaction: all see one instant.
      for (const reader of readers) await reader.startConsistentSnapshot();
      return { shared: true, position: await this.readSnapshotPosition() };
    } finally {
      await this.releaseCommits();
    }
  }

  /**
   * Blocks commits server-wide (MariaDB `BACKUP STAGE BLOCK_COMMIT`, MySQL `FLUSH TABLES WITH
   * READ LOCK`). Returns false, having blocked nothing, when the account lacks RELOAD.
   */
  async blockCommits(): Promise<boolean> {
    const statements =
      this.server.flavor === 'mariadb'
        ? // MariaDB 10.4.1+: lighter than FLUSH TABLES WITH READ LOCK, which waits for every
          // running query; BLOCK_COMMIT only holds commits back for the moment we need.
          ['BACKUP STAGE START', 'BACKUP STAGE BLOCK_COMMIT']
        : ['FLUSH TABLES WITH READ LOCK'];
    try {
      for (const statement of statements) await this.connection.query(statement);
      return true;
    } catch (error) {
      const mapped = mapDriverError(error, 'blocking commits for a shared snapshot', this.target);
      if (mapped.code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || mapped.errno === 1227) {
        await this.connection.query('BACKUP STAGE END').catch(() => undefined);
        return false;
      }
      throw mapped;
    }
  }

  /** Ends what {@link blockCommits} started. */
  async releaseCommits(): Promise<void> {
    await this.run('releasing the commit block', () =>
      this.connection.query(
        this.server.flavor === 'mariadb' ? 'BACKUP STAGE END' : 'UNLOCK TABLES',
      ),
    );
  }

  async readSnapshotPosition(): Promise<SnapshotPosition | undefined> {
    let status: Row[];
    try {
      status = await this.select<Row>('reading the binary log position', 'SHOW MASTER STATUS');
    } catch {
      // Without REPLICATION CLIENT/BINLOG MONITOR the position is simply not recorded.
      return undefined;
    }
    const row = status[0];
    if (row === undefined) return undefined;
    const gtidVariable = this.server.flavor === 'mariadb' ? 'gtid_binlog_pos' : 'gtid_executed';
    const gtidRows = await this.select<Row>(
      'reading the GTID position',
      `SELECT @@GLOBAL.${gtidVariable} AS gtid`,
    ).catch(() => [] as Row[]);
    const gtid = gtidRows[0]?.gtid;
    return {
      binlogFile: String(row.File),
      binlogPosition: Number(row.Position),
      gtid: typeof gtid === 'string' && gtid !== '' ? gtid : undefined,
    };
  }

  async readSequenceState(database: string, sequence: string): Promise<SequenceState | undefined> {
    const rows = await this.select<Row>(
      `reading sequence ${quoteIdentifier(sequence)}`,
      `SELECT CAST(next_not_cached_value AS CHAR) AS nextValue, CAST(cycle_count AS CHAR) AS round FROM ${quoteIdentifier(database)}.${quoteIdentifier(sequence)}`,
    );
    const next = rows[0]?.nextValue;
    const round = rows[0]?.round;
    return typeof next === 'string' && typeof round === 'string' ? { next, round } : undefined;
  }

  async execute(sql: string): Promise<void> {
    this.refuseOnReadingSession();
    await this.run('running a statement', () => this.connection.query(sql));
  }

  async executeBytes(sql: Uint8Array): Promise<void> {
    this.refuseOnReadingSession();
    const raw = this.raw();
    await this.run(
      'running a statement',
      () =>
        new Promise<void>((resolve, reject) => {
          raw.query(
            queryOfBytes(raw, sql, (error) => {
              if (error === null) resolve();
              else reject(error);
            }),
          );
        }),
    );
  }

  async executeCounting(sql: string): Promise<number> {
    this.refuseOnReadingSession();
    const [result] = await this.run('running a statement', () =>
      this.connection.query<ResultSetHeader>(sql),
    );
    return typeof result.affectedRows === 'number' ? result.affectedRows : 0;
  }

  async close(): Promise<void> {
    if (this.aborted) return;
    await this.connection.end().catch(() => {
      this.connection.destroy();
    });
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    destroyAtOnce(
      (this.connection as unknown as { connection: CallbackConnection }).connection,
      Object.assign(new Error('the connection was dropped: the run was interrupted'), {
        code: SESSION_ABORTED,
        fatal: true,
      }),
    );
  }

  /** A reading session runs several statements per query: given SQL must never reach it. */
  private refuseOnReadingSession(): void {
    if (this.readsOnly)
      throw new InternalError('a session opened for reading only cannot run statements');
  }

  private raw(): CallbackConnection {
    return (this.connection as unknown as { connection: CallbackConnection }).connection;
  }

  private async triggerTable(database: string, name: string): Promise<string | undefined> {
    const rows = await this.select<Row>(
      'reading a trigger',
      'SELECT EVENT_OBJECT_TABLE AS tbl FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?',
      [database, name],
    );
    return rows[0] === undefined ? undefined : String(rows[0].tbl);
  }

  private async select<T extends Row>(
    action: string,
    sql: string,
    values: unknown[] = [],
  ): Promise<T[]> {
    const [rows] = await this.run(action, () =>
      this.connection.query<RowDataPacket[]>(sql, values),
    );
    return rows as T[];
  }

  private async run<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw mapDriverError(error, action, this.target);
    }
  }
}

/** A TABLE_TYPE of information_schema.TABLES that holds rows (not a view or a sequence). */
function isBaseTable(type: unknown): boolean {
  return type === 'BASE TABLE' || type === 'SYSTEM VERSIONED';
}

/** What `SHOW CREATE <keyword>` is called and which column holds the statement. */
type MariadbObjectKind =
  'table' | 'view' | 'sequence' | 'procedure' | 'function' | 'trigger' | 'event';
const SHOW_CREATE: Readonly<Record<MariadbObjectKind, { keyword: string; column: string }>> = {
  table: { keyword: 'TABLE', column: 'Create Table' },
  view: { keyword: 'VIEW', column: 'Create View' },
  sequence: { keyword: 'SEQUENCE', column: 'Create Table' },
  procedure: { keyword: 'PROCEDURE', column: 'Create Procedure' },
  function: { keyword: 'FUNCTION', column: 'Create Function' },
  trigger: { keyword: 'TRIGGER', column: 'SQL Original Statement' },
  event: { keyword: 'EVENT', column: 'Create Event' },
};

/** Tables read by one multi-statement query of {@link MariadbSession.readTables}. */
const TABLES_PER_QUERY = 64;
/** And at most about this much SQL text, far below any max_allowed_packet (MariaDB: 16 MB). */
const QUERY_BYTES = 1024 * 1024;

/**
 * An upper bound of the bytes of a table's statements: its name in SHOW CREATE and SELECT,
 * each column up to three times (SELECT, CAST, ORDER BY), 4 bytes a character.
 */
function statementBytes(table: TableReadRequest): number {
  const columns = (table.rows?.columns ?? []).reduce(
    (sum, column) => sum + 3 * column.name.length + 40,
    0,
  );
  return 4 * (100 + 2 * table.name.length + columns);
}

async function* emptyRows(): AsyncIterable<readonly RowLiterals[]> {
  // Nothing: the table's rows were not asked for.
}

/**
 * The SELECT that reads a table's insertable columns in key order, and how a row of it
 * becomes literals; undefined when the table has no insertable column.
 */
function rowSelect(
  database: string,
  table: TableDescription,
):
  | {
      sql: string;
      toLiterals: (row: (Buffer | null)[]) => RowLiterals;
      /** What starts each row line, and each column's literal kind, for a {@link RowLineEncoder}. */
      linePrefix: string;
      kinds: readonly LiteralKind[];
    }
  | undefined {
  const columns = insertableColumns(table);
  if (columns.length === 0) return undefined;
  const kinds = columns.map((column) => literalKindOf(column.dataType));
  // FLOAT is sent as text with 6 significant digits (3.4028234e38 -> 3.40282e38, the
  // mariadb-dump precision loss); as DOUBLE it is exact, and reloads to the same float bits.
  const select = columns
    .map((column) =>
      column.dataType === 'float'
        ? `CAST(${quoteIdentifier(column.name)} AS DOUBLE)`
        : quoteIdentifier(column.name),
    )
    .join(', ');
  const order = (
    table.uniqueKey.length > 0 ? table.uniqueKey : columns.map((column) => column.name)
  )
    .map((name) => orderTerm(table, name))
    .join(', ');
  const toLiterals = (row: (Buffer | null)[]): RowLiterals => {
    const literals = new Array<string>(kinds.length);
    for (let index = 0; index < kinds.length; index += 1) {
      literals[index] = sqlLiteral(row[index] ?? null, kinds[index] ?? 'string');
    }
    return literals;
  };
  return {
    sql: `SELECT ${select} FROM ${quoteIdentifier(database)}.${quoteIdentifier(table.name)} ORDER BY ${order}`,
    toLiterals,
    linePrefix: rowLinePrefix(
      table.name,
      columns.map((column) => column.name),
    ),
    kinds,
  };
}

/**
 * Text columns are ordered by their bytes: under a case-insensitive collation 'a' and 'A'
 * tie, and a tie would let the storage order decide, which is not deterministic.
 */
function orderTerm(table: TableDescription, name: string): string {
  const column = table.columns.find((candidate) => candidate.name === name);
  const quoted = quoteIdentifier(name);
  if (
    column !== undefined &&
    table.uniqueKey.length === 0 &&
    literalKindOf(column.dataType) === 'string'
  ) {
    return `${quoted}, CAST(${quoted} AS BINARY)`;
  }
  return quoted;
}

/** Per table: the primary key, else the first unique key with no NULLable or prefix column. */
function chooseUniqueKeys(rows: readonly Row[]): Map<string, string[]> {
  const indexes = new Map<string, Map<string, CandidateKey>>();
  for (const row of rows) {
    const table = String(row.tbl);
    const perTable = indexes.get(table) ?? new Map<string, CandidateKey>();
    const index = perTable.get(String(row.indexName)) ?? { columns: [], usable: true };
    index.columns.push(String(row.name));
    if (row.nullable === 'YES' || (row.subPart !== null && row.subPart !== undefined))
      index.usable = false;
    perTable.set(String(row.indexName), index);
    indexes.set(table, perTable);
  }
  return firstUsableKeys(indexes);
}

/**
 * Prepares `sql` on the connection, or undefined when the server refuses to (prepared
 * statements disabled with max_prepared_stmt_count = 0, the limit reached, a proxy without
 * them): the caller then reads as text. Throws when the connection itself failed.
 */
async function prepareRows(
  connection: CallbackConnection,
  sql: string,
): Promise<PreparedRows | undefined> {
  return new Promise((resolve, reject) => {
    connection.prepare(sql, (error, statement) => {
      if (error === null) resolve(statement);
      else if ((error as { fatal?: boolean }).fatal === true) reject(error);
      else resolve(undefined);
    });
  });
}

/**
 * Closes the socket of `connection` at once, the way mysql2 handles a lost connection: the
 * statement running and every one queued fail with `error` (a streamed read hears it as the
 * connection's 'error'), later ones fail at once, and the server, whose next write is refused,
 * stops sending. mysql2's own destroy() is a graceful close() instead: it sends a FIN and
 * marks the connection as closing, so the server goes on sending the rest of a large result,
 * and the driver then reports neither the socket's end nor the statements still queued, which
 * wait forever (issue 20: an interrupted snapshot whose event loop emptied).
 */
function destroyAtOnce(connection: CallbackConnection, error: Error): void {
  const { stream } = connection as unknown as {
    stream?: { destroyed?: boolean; destroy(error?: Error): void };
  };
  if (stream === undefined || stream.destroyed === true) connection.destroy();
  else stream.destroy(error);
}

/** The parts of mysql2's COM_QUERY command and packet that {@link queryOfBytes} relies on. */
interface QueryCommand {
  start: (this: QueryCommand, packet: unknown, connection: PacketWriter) => unknown;
}
interface PacketWriter {
  writePacket: (this: PacketWriter, packet: QueryPacket) => void;
}
interface QueryPacket {
  readonly buffer: Buffer;
  length(): number;
}
type QueryPacketClass = new (id: number, buffer: Buffer, start: number, end: number) => QueryPacket;
const COM_QUERY = 0x03;

/**
 * A COM_QUERY of `sql`, already UTF-8 bytes: mysql2 takes statements as strings only and
 * encodes them again, which for a restore's joined INSERTs (read as bytes, 100 MB of them
 * for 100 MB of rows) cost as much client CPU as reading, checking and joining them. The
 * command is mysql2's own, built for an empty statement; when it starts, the packet it writes
 * (the 4-byte frame header, the command byte, and with query attributes their two count
 * bytes) is written with `sql` after it instead (in the room before `sql` where it has
 * some, see statement-buffer.ts). Anything else in that packet means a driver
 * this was not written for: the empty statement is sent as built, and fails.
 */
function queryOfBytes(
  connection: CallbackConnection,
  sql: Uint8Array,
  done: (error: Error | null) => void,
): Parameters<CallbackConnection['query']>[0] {
  const driver = connection.constructor as unknown as {
    createQuery(
      sql: string,
      values: undefined,
      cb: (error: Error | null) => void,
      config: unknown,
    ): QueryCommand;
  };
  let unknownLayout = false;
  const command = driver.createQuery(
    '',
    undefined,
    (error) => {
      done(
        unknownLayout
          ? new InternalError('mysql2 built a query packet of an unknown layout')
          : error,
      );
    },
    connection.config,
  );
  const start = command.start;
  command.start = function (packet, writer) {
    const own = Object.hasOwn(writer, 'writePacket');
    const write = writer.writePacket;
    const restore = (): void => {
      if (own) writer.writePacket = write;
      else delete (writer as Partial<PacketWriter>).writePacket;
    };
    writer.writePacket = (empty) => {
      restore();
      const header = empty.length();
      if (
        (header !== 5 && header !== 7) ||
        empty.buffer.length !== header ||
        empty.buffer[4] !== COM_QUERY
      ) {
        // The empty statement goes instead, which the server refuses: the statement fails.
        unknownLayout = true;
        write.call(writer, empty);
        return;
      }
      let bytes = framedInPlace(sql, header);
      if (bytes === undefined) {
        bytes = Buffer.allocUnsafe(header + sql.length);
        bytes.set(sql, header);
      }
      empty.buffer.copy(bytes, 0, 0, header);
      const Packet = empty.constructor as QueryPacketClass;
      write.call(writer, new Packet(0, bytes, 0, bytes.length));
    };
    try {
      return start.call(this, packet, writer);
    } finally {
      if (writer.writePacket !== write) restore();
    }
  };
  return command as unknown as Parameters<CallbackConnection['query']>[0];
}

/** Closes the statement of `sql` on the server, unless the connection is gone (nothing to close). */
function unprepare(connection: CallbackConnection, sql: string): void {
  const internals = connection as unknown as {
    _fatalError?: unknown;
    stream?: { destroyed?: boolean };
  };
  if (internals._fatalError !== undefined && internals._fatalError !== null) return;
  if (internals.stream?.destroyed === true) return;
  connection.unprepare(sql);
}
