/**
 * The engine layer: everything that talks to a database server, behind one interface so that
 * snapshots, dumps and restores never see a driver. An engine takes a connection description
 * and typed options and returns data and streams.
 *
 * Must not import git, age, YAML, the config or the CLI; only `support/` and `errors.ts`.
 */

/** How to reach a server. Structurally the same as the config's `ConnectionSettings`. */
export interface ConnectionOptions {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  /** MariaDB: the socket file. PostgreSQL: the socket directory (or its `.s.PGSQL.<port>` file). */
  readonly socket?: string | undefined;
  /** Omitted: MariaDB connects as the OS user; PostgreSQL takes the service's, `$PGUSER`, else the OS user. */
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /**
   * Database to use after connecting. Omitted: MariaDB uses none; PostgreSQL the service's,
   * `$PGDATABASE`, else the one named like the user.
   */
  readonly database?: string | undefined;
  /** PostgreSQL only: a file whose first line is the password (read when `password` is not given). */
  readonly passwordFile?: string | undefined;
  /** PostgreSQL only: a service of `pg_service.conf` (libpq's `service`); omitted: `$PGSERVICE`. */
  readonly service?: string | undefined;
  /** PostgreSQL only: libpq's `sslmode`; omitted: the service's, `$PGSSLMODE`, else `prefer`. */
  readonly sslMode?:
    'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full' | undefined;
  /** PostgreSQL only: libpq's `sslrootcert`, the CA certificates file (or `system`). */
  readonly sslRootCert?: string | undefined;
  /** MariaDB's TLS keys; PostgreSQL reads them as sslmode, sslrootcert, sslcert and sslkey. */
  readonly tls?:
    | {
        readonly ca?: string | undefined;
        readonly cert?: string | undefined;
        readonly key?: string | undefined;
        readonly verifyServerCert: boolean;
      }
    | undefined;
  readonly connectTimeoutMs?: number | undefined;
  /** `user@host:port`, used in error messages; never the password. */
  readonly description?: string | undefined;
  /**
   * The session only reads (a snapshot): the engine may send several reads in one round trip
   * ({@link Session.readTables}), and then refuses {@link Session.execute}.
   */
  readonly readsOnly?: boolean | undefined;
}

export type ServerFlavor = 'mariadb' | 'mysql' | 'postgresql';

export interface ServerInfo {
  readonly flavor: ServerFlavor;
  /** e.g. `10.11.19-MariaDB-0+deb12u1`. */
  readonly version: string;
}

/**
 * Every kind of schema object an engine may have. Each engine lists its own, in the order a
 * restore creates them ({@link Engine.objectKinds}); this list only says which words name a
 * kind (in file names and messages).
 */
export const OBJECT_KINDS = [
  'extension',
  'schema',
  'type',
  'domain',
  'function',
  'procedure',
  'sequence',
  'table',
  'foreign-keys',
  'view',
  'materialized-view',
  'row-security',
  'trigger',
  'policy',
  'event',
] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** Kinds of objects that belong to a table: they go where it goes (left out with it). */
export const TABLE_MEMBER_KINDS = ['trigger', 'policy', 'foreign-keys', 'row-security'] as const;
export type TableMemberKind = (typeof TABLE_MEMBER_KINDS)[number];

/** True for the kind of an object that belongs to a table. */
export function isTableMemberKind(kind: ObjectKind): kind is TableMemberKind {
  return (TABLE_MEMBER_KINDS as readonly string[]).includes(kind);
}

/**
 * Kinds of which a table has at most one object, named as the table itself (PostgreSQL: its
 * foreign keys; its row-level security, turned on once every table's rows and foreign keys
 * are in): their file is named after the table.
 */
export const TABLE_NAMED_KINDS = ['foreign-keys', 'row-security'] as const;
export type TableNamedKind = (typeof TABLE_NAMED_KINDS)[number];

/** True for a kind whose object is named as its table ({@link TABLE_NAMED_KINDS}). */
export function isTableNamedKind(kind: ObjectKind): kind is TableNamedKind {
  return (TABLE_NAMED_KINDS as readonly string[]).includes(kind);
}

/** The objects of `inventory` that stand on their own: all but those of a table. */
export function standaloneObjects(inventory: SchemaInventory): ObjectRef[] {
  return inventory.objects.filter((object) => !isTableMemberKind(object.kind));
}

/** True when `text` is the name of an object kind. */
export function isObjectKind(text: string): text is ObjectKind {
  return (OBJECT_KINDS as readonly string[]).includes(text);
}

/**
 * One object of a database. Objects of a schema (PostgreSQL) are named `schema.name`, split at
 * the first dot; a function or procedure `schema.name(argument types)`, as overloads share a
 * name; a trigger or policy `schema.table.name`, as its name is unique per table only; a
 * table's foreign keys or row-level security as the table.
 */
export interface ObjectRef {
  readonly kind: ObjectKind;
  readonly name: string;
  /** The table a trigger, a policy, a table's foreign keys or row-level security belong to. */
  readonly table?: string | undefined;
}

/**
 * Every object of one database, in the order a restore creates them: kind by kind in the
 * engine's {@link Engine.objectKinds} order; within a kind by name (code point order), except
 * where one must come first (a partitioned table before its partitions, a view before the
 * views that select from it); triggers by table, then the order they fire in. Objects of
 * kinds before tables may interleave where one needs an object of a later kind (PostgreSQL:
 * a composite type with a field of a domain comes after the domain), and one may come after
 * the tables (PostgreSQL: a composite type with a field of a table's row type): a workflow
 * creates those in the inventory's order, not kind by kind.
 */
export interface SchemaInventory {
  readonly objects: readonly ObjectRef[];
}

/** The names of the objects of `kind` in `inventory`, in its order. */
export function namesOfKind(inventory: SchemaInventory, kind: ObjectKind): string[] {
  const names: string[] = [];
  for (const object of inventory.objects) if (object.kind === kind) names.push(object.name);
  return names;
}

/** The objects of `kind` in `inventory`, in its order. */
export function objectsOfKind(inventory: SchemaInventory, kind: ObjectKind): ObjectRef[] {
  return inventory.objects.filter((object) => object.kind === kind);
}

export interface ColumnDescription {
  readonly name: string;
  /** Lower-case type name without size, e.g. `varchar`, `float`, `inet6`. */
  readonly dataType: string;
  /** Full type as declared, e.g. `bigint(20) unsigned`. */
  readonly columnType: string;
  readonly nullable: boolean;
  /** Computed by the server (VIRTUAL/STORED generated, or a system-versioning period column): never inserted. */
  readonly generated: boolean;
  /** Left out of `SELECT *`: must be named to be read and written. */
  readonly invisible: boolean;
  /**
   * PostgreSQL: the sequence of an identity column (`schema.name`), part of its table: a
   * table's rows are followed by its state, so that new rows do not reuse a stored value.
   */
  readonly identitySequence?: string | undefined;
}

export interface TableDescription {
  readonly name: string;
  /** In ordinal order. */
  readonly columns: readonly ColumnDescription[];
  /**
   * Columns that identify a row: the primary key, else the first unique key over NOT NULL
   * columns; empty when the table has neither (rows are then ordered by every column).
   */
  readonly uniqueKey: readonly string[];
}

/** A normalised `CREATE` statement and the context it needs to be replayed. */
export interface ObjectDefinition {
  readonly kind: ObjectKind;
  readonly name: string;
  /** No trailing delimiter, no `DEFINER=` clause, no `AUTO_INCREMENT=` counter. */
  readonly sql: string;
  /** The definer that was removed from `sql`, e.g. `` `csv2`@`localhost` ``. */
  readonly definer?: string | undefined;
  /** The sql_mode the object was created under (triggers, routines, events). */
  readonly sqlMode?: string | undefined;
  /** For events: the time zone their schedule times are in. */
  readonly timeZone?: string | undefined;
  /**
   * The client character set the object was created under (views, triggers, routines,
   * events): the server read its text in it, and reads a routine's body in it each time.
   */
  readonly characterSetClient?: string | undefined;
  /** The collation_connection it was created under: its string literals' collation. */
  readonly collationConnection?: string | undefined;
  /** For triggers: the table. */
  readonly table?: string | undefined;
  /**
   * Statements (no terminator) that complete the object after its CREATE: for a PostgreSQL
   * table, after its rows (constraints, indexes, comments). None for
   * MariaDB, whose CREATE says it all.
   */
  readonly after?: readonly string[] | undefined;
}

/** A database's default character set and collation (what `CREATE DATABASE` chose). */
export interface DatabaseDefaults {
  readonly characterSet: string;
  readonly collation: string;
}

/**
 * Statements around an object's CREATE that put the session into the client character set
 * and collation it was created under, and back. `notes`: why the file could not say it
 * exactly (comment lines for the file), empty when it does.
 */
export interface CreationContext {
  readonly before: readonly string[];
  readonly after: readonly string[];
  readonly notes: readonly string[];
}

/**
 * One row as SQL literals, in the order of {@link insertableColumns}. Each literal loads back
 * to exactly the stored value.
 */
export type RowLiterals = readonly string[];

/** The columns whose values a snapshot stores and an INSERT names: all but generated ones. */
export function insertableColumns(table: TableDescription): readonly ColumnDescription[] {
  return table.columns.filter((column) => !column.generated);
}

/** Complete `INSERT` statements (each ending `;\n`) and how many rows they hold. */
export interface InsertChunk {
  readonly sql: Buffer;
  readonly rows: number;
  /**
   * Hands the buffer of `sql` back for the next chunks, once it is no longer used; at most
   * once. Optional to call: an unreleased buffer is left to the garbage collector.
   */
  readonly release?: (() => void) | undefined;
}

/**
 * A part of a table's rows, as {@link Session.planRowRanges} cut them, to read with
 * {@link Session.readInsertChunks}. What it holds is the engine's business (MariaDB: a range
 * of an integer key; PostgreSQL: a range of pages): a workflow hands it back as it got it, to
 * a session of the same engine that shares the snapshot it was planned in.
 */
export interface RowRange {
  /** Which part, for messages: e.g. `"id" >= 1000 and < 2000`, `pages 6400 to 12799`. */
  readonly description: string;
}

/** How many parts {@link Session.planRowRanges} may cut a table into. */
export interface RowRangeParts {
  /** Parts wanted (about equal), e.g. for parts of a number of rows each. */
  readonly pieces: number;
  /** Sessions reading parts at once. */
  readonly readers: number;
}

export interface InsertReadOptions {
  /** Only the rows of this part of the table ({@link Session.planRowRanges}); omitted: all. */
  readonly range?: RowRange | undefined;
  /** Statements are cut at about this many bytes. */
  readonly statementBytes?: number | undefined;
}

/** What {@link Session.startSharedSnapshot} did. */
export type SharedSnapshot =
  /** Every reader sees one instant; `position` is where the server stood at it. */
  | { readonly shared: true; readonly position: SnapshotPosition | undefined }
  /** Not shared (no reader started a snapshot): why, for a warning. */
  | { readonly shared: false; readonly reason: string };

/** Where the server's binary log stood at a snapshot, as far as the server says. */
export interface SnapshotPosition {
  readonly binlogFile?: string | undefined;
  readonly binlogPosition?: number | undefined;
  readonly gtid?: string | undefined;
  /** PostgreSQL: the write-ahead log position (`pg_current_wal_lsn()`, on a standby the replayed one). */
  readonly walLsn?: string | undefined;
}

/** The server's estimate of a table's size (information_schema.TABLES): for planning only. */
export interface TableSizeEstimate {
  readonly rows: number;
  readonly bytes: number;
  readonly engine: string;
  /**
   * Whether a consistent-snapshot read sees the table at the snapshot's instant (MariaDB:
   * InnoDB and RocksDB tables; PostgreSQL: every table). The engine decides: workflows know no
   * storage engine by name.
   */
  readonly transactional: boolean;
  /**
   * Whether a dump may leave the table's secondary keys out of its CREATE TABLE and add them
   * after its rows ({@link DumpScript.deferSecondaryKeys}; MariaDB: InnoDB tables, which
   * load faster so). PostgreSQL: false, as its tables' `after` statements (indexes and
   * constraints) come after the rows anyway.
   */
  readonly keysDeferrable: boolean;
}

/**
 * Which schemas of a database a session reads (PostgreSQL's `database.schemas`); omitted:
 * every schema but the server's own. MariaDB databases have no schemas: it reads none.
 */
export interface SchemaFilter {
  readonly schemas?: readonly string[] | undefined;
}

/**
 * Objects the server hides from the connected account: it lists none of them, without an
 * error, for want of a privilege, so a snapshot would leave them out unnoticed.
 */
export interface HiddenObjects {
  readonly kinds: readonly ObjectKind[];
  /** The privilege that would show them, e.g. `EVENT`. */
  readonly privilege: string;
  /** The statement an administrator runs to grant it. */
  readonly grant: string;
}

/** One table asked of {@link Session.readTables}. */
export interface TableReadRequest {
  readonly name: string;
  /** The table's description when its rows are wanted; undefined: its structure only. */
  readonly rows?: TableDescription | undefined;
  /**
   * The rows are wanted as the row lines of a table file ({@link TableRead.lines}) where the
   * session can give them so; a session may give {@link TableRead.rows} instead.
   */
  readonly asLines?: boolean | undefined;
}

/**
 * Row lines of a table file, complete, as UTF-8 bytes: exactly what the dialect's
 * `rowLineWriter` writes for the same rows, one after the other.
 */
export interface RowLineChunk {
  readonly bytes: Buffer;
  readonly rows: number;
}

/** What {@link Session.readTables} gives for one table, in the order asked. */
export interface TableRead {
  readonly name: string;
  readonly definition: ObjectDefinition;
  /**
   * The rows as {@link Session.readRowBatches} gives them (none when not asked). Read them
   * whole, or not at all, before asking for the next table.
   */
  readonly rows: AsyncIterable<readonly RowLiterals[]>;
  /**
   * Given instead of {@link rows} (which is then empty) when the request asked `asLines` and
   * the session can: the same rows, already written as row lines. Read as `rows` are.
   */
  readonly lines?: AsyncIterable<RowLineChunk> | undefined;
}

/** A connection, with its own transaction. Not safe for concurrent calls. */
export interface Session {
  readonly server: ServerInfo;
  /**
   * The database this session is connected to, where the engine connects to one (PostgreSQL:
   * the one the connection named, else the service's, `$PGDATABASE` or the user's name).
   * Undefined for an engine whose sessions are in no database (MariaDB).
   */
  readonly database?: string | undefined;
  /**
   * Starts a read-only transaction whose reads all see one instant, without blocking writers
   * of transactional tables. Every later read of this session sees that instant until
   * {@link endConsistentSnapshot}.
   */
  startConsistentSnapshot(): Promise<void>;
  endConsistentSnapshot(): Promise<void>;
  /**
   * The id of this session's snapshot (after {@link startConsistentSnapshot}), for
   * {@link importSnapshot} of other sessions; valid while this transaction is open.
   * PostgreSQL (`pg_export_snapshot()`); other engines share a snapshot by
   * {@link startSharedSnapshot} only.
   */
  exportSnapshot?(): Promise<string>;
  /** Starts a consistent snapshot that sees exactly what the session that exported `id` sees. */
  importSnapshot?(id: string): Promise<void>;
  /** Names of the databases on the server, sorted. */
  listDatabases(): Promise<readonly string[]>;
  /** The default character set and collation of `database`. Throws EngineError if it does not exist. */
  readDatabaseDefaults(database: string): Promise<DatabaseDefaults>;
  /** Every object of `database`. Throws EngineError if the database does not exist. */
  listObjects(database: string, filter?: SchemaFilter): Promise<SchemaInventory>;
  /** Columns and row identity of every base table of `database`, by table name. */
  describeTables(
    database: string,
    filter?: SchemaFilter,
  ): Promise<ReadonlyMap<string, TableDescription>>;
  /** The normalised definition of one object. */
  showCreate(database: string, kind: ObjectKind, name: string): Promise<ObjectDefinition>;
  /**
   * Streams the rows of a table in batches, ordered by its unique key (all columns when it
   * has none), as literals of its insertable columns. Memory stays bounded whatever the
   * table's size; stopping early leaves the session usable.
   */
  readRowBatches(database: string, table: TableDescription): AsyncIterable<readonly RowLiterals[]>;
  /**
   * The definitions and rows of many tables, the same as {@link showCreate} and
   * {@link readRowBatches} table by table; on a session opened with `readsOnly`, in a few
   * round trips for many tables instead of two for each. Memory stays bounded; the session
   * can do nothing else until the iteration ends. Optional: without it, callers ask table by
   * table.
   */
  readTables?(database: string, tables: readonly TableReadRequest[]): AsyncIterable<TableRead>;
  /**
   * Streams a table's rows (in storage order, no sorting) as the statements of a dump that
   * load them into `table.name`, naming its insertable columns, in chunks of whole statements
   * (a chunk stands on its own: chunks of several tables are interleaved in a dump). MariaDB:
   * multi-row `INSERT`s; PostgreSQL: a `COPY ... FROM stdin` with its data lines and `\.`
   * line, as pg_dump writes them (an `INSERT ... DEFAULT VALUES` a row for a table without a
   * column to insert). Memory stays bounded whatever the table's size. Values load back
   * exactly, as {@link readRowBatches}.
   */
  readInsertChunks(
    database: string,
    table: TableDescription,
    options?: InsertReadOptions,
  ): AsyncIterable<InsertChunk>;
  /**
   * Cuts the reading of `table`'s rows into at most `parts.pieces` parts (about equal, by the
   * server's layout of the table) that sessions sharing this session's snapshot may read at
   * once with {@link readInsertChunks}: read in that snapshot, the parts together give each
   * row exactly once. Undefined when the engine reads this table whole (no way to cut it, or
   * too small to). Runs inside this session's consistent snapshot, and keeps the parts valid
   * until it ends. MariaDB: ranges of a single integer key column, between its smallest and
   * largest value; PostgreSQL 14 and later: ranges of the table's pages (a TID range scan),
   * the table locked against rewrites (VACUUM FULL, CLUSTER) meanwhile; older PostgreSQL: as
   * MariaDB. PostgreSQL reads the parts of a table bigger than a quarter of shared_buffers by
   * sequential scans, which keep the server's cache as a whole read does but each read the
   * whole table: such a table gets no more parts than `parts.readers`.
   */
  planRowRanges(
    database: string,
    table: TableDescription,
    parts: RowRangeParts,
  ): Promise<readonly RowRange[] | undefined>;
  /**
   * The kinds of objects of `database` the server hides from this account (for want of a
   * privilege); empty when it sees them all.
   */
  findHiddenObjects(database: string): Promise<readonly HiddenObjects[]>;
  /** Size estimates of the base tables of `database`, by name. */
  estimateTableSizes(
    database: string,
    filter?: SchemaFilter,
  ): Promise<ReadonlyMap<string, TableSizeEstimate>>;
  /**
   * Makes each of `readers` (other sessions of this engine to the same server; PostgreSQL:
   * to the same database) start a consistent snapshot ({@link startConsistentSnapshot}) of
   * one and the same instant, this session coordinating: MariaDB blocks commits while the
   * readers start theirs (`BACKUP STAGE BLOCK_COMMIT`, MySQL `FLUSH TABLES WITH READ LOCK`);
   * PostgreSQL exports its snapshot (`pg_export_snapshot()`) and the readers import it. This
   * session holds no transaction afterwards. When it cannot share one (MariaDB: the account
   * lacks RELOAD), it says why, and no reader has started a snapshot.
   */
  startSharedSnapshot(readers: readonly Session[]): Promise<SharedSnapshot>;
  /** The binary log position and GTID state now; undefined when binary logging is off. */
  readSnapshotPosition(): Promise<SnapshotPosition | undefined>;
  /**
   * A sequence's state: its next value not yet cached (no value at or past it was handed
   * out) and its round. Undefined when the server returns no row.
   */
  readSequenceState(database: string, sequence: string): Promise<SequenceState | undefined>;
  /** Runs statements that return nothing (DDL, SET); for tests, restores and loads. */
  execute(sql: string): Promise<void>;
  /**
   * Runs a statement given as its UTF-8 bytes, as {@link execute} does, without decoding it
   * (a restore's joined INSERTs); engines without it get the decoded text.
   */
  executeBytes?(sql: Uint8Array): Promise<void>;
  /** Runs one statement and returns the number of rows it changed (an INSERT's rows). */
  executeCounting(sql: string): Promise<number>;
  /**
   * Starts a statement that reads data from the client (PostgreSQL's `COPY ... FROM stdin`)
   * and leaves it open: its data goes in with {@link DataStatement.write}, in as many parts
   * as the caller has (a load sends the consecutive blocks of a table's rows into one), until
   * {@link DataStatement.end}. Nothing else runs on the session meanwhile. Optional: an
   * engine whose scripts carry no data has none.
   */
  openDataStatement?(sql: string): DataStatement;
  close(): Promise<void>;
  /** Drops the connection at once (an interrupted run): what is running fails, and so does anything later. */
  abort(): void;
}

/**
 * Where a sequence stands, as decimal text: a restore that sets it hands out `next` first,
 * never a value the source handed out (values the source had cached and not used are skipped).
 */
export interface SequenceState {
  /** The next value not yet cached (MariaDB `next_not_cached_value`). */
  readonly next: string;
  /** How many times a CYCLE sequence went round (MariaDB `cycle_count`); `0` otherwise. */
  readonly round: string;
  /**
   * `next` was handed out already and the sequence can give no other (PostgreSQL, a sequence
   * without CYCLE at its bound): a restore sets it as used.
   */
  readonly exhausted?: boolean | undefined;
}

/** How SQL text of this engine is written. */
export interface SqlDialect {
  quoteIdentifier(name: string): string;
  /**
   * The name of an object of `kind` as a file's title line writes it (read back by
   * {@link ScriptFormat.fileTitle}): {@link quoteIdentifier} of it, but for a PostgreSQL
   * extension or schema, whose name is in no schema, one quoted identifier.
   */
  quoteObjectName(kind: ObjectKind, name: string): string;
  quoteString(value: string): string;
  /** `sql` as a statement of a script: with its terminator, and a newline after it. */
  statementLine(sql: string): string;
  /**
   * A comment line holding `text`, which stays on its line whatever it holds (a name with a
   * newline would otherwise end the comment and start a statement). No trailing newline.
   */
  comment(text: string): string;
  /**
   * Statements that put a session of the stock client into the state our files assume
   * (character set, time zone, sql_mode, no foreign key checks).
   */
  readonly scriptPreamble: readonly string[];
  /**
   * Statements (without `;`) that set and reset the client character set and collation an
   * object was created under, around its CREATE in a file that starts with
   * {@link scriptPreamble}. Empty when the definition records none (a sequence, an old
   * snapshot).
   */
  creationContext(definition: ObjectDefinition): CreationContext;
  /**
   * The statement (without `;`) that gives the session's current database `defaults`; it names
   * no database, so it applies to whichever one the client uses. Undefined for an engine
   * whose databases take their defaults only when created (PostgreSQL): a snapshot then
   * has no database defaults file.
   */
  databaseDefaultsStatement(defaults: DatabaseDefaults): string | undefined;
  /** `INSERT INTO t (cols) VALUES (...)` for one or more rows, without the trailing `;`. */
  insertStatement(table: string, columns: readonly string[], rows: readonly RowLiterals[]): string;
  /**
   * A snapshot's row lines: a function of one row's literals that gives its line (a one-row
   * INSERT into `table` naming `columns`, with its `;` and newline). Build it once per table.
   */
  rowLineWriter(table: string, columns: readonly string[]): (row: RowLiterals) => string;
  /**
   * The statement, without its `;`, that sets sequence `name` (created in this session's
   * database) to `state`, so that it hands out `state.next` first. Throws on a state that is
   * not integer text.
   */
  sequenceStateStatement(name: string, state: SequenceState): string;
  /**
   * The statements, without their `;`, that open and close the one transaction a table
   * file's rows load in: the stock client then commits once per file, not once per row.
   */
  readonly rowsTransaction: { readonly begin: string; readonly end: string };
  /** The statement (without `;`) that disables event `name` of the session's database. */
  disableEventStatement(name: string): string;
  /** The statement that re-creates a trigger/routine/event, wrapped in `DELIMITER` lines for the stock client. */
  delimitedStatement(sql: string): string;
  /**
   * The lines of a snapshot file that re-create `definition` in a session after
   * {@link scriptPreamble}: under the sql_mode and time zone it was created under (and, when
   * `withContext`, its client character set and collation, with their notes as comments),
   * delimited for the stock client where it needs to be, then the file's settings again.
   */
  replayableLines(definition: ObjectDefinition, withContext: boolean): readonly string[];
  /**
   * `statement` without its DEFINER clause (plain or in a versioned comment, as mysqldump
   * writes it), so that any account can replay it.
   */
  withoutDefiner(statement: string): string;
}

/** One statement of a script, as the engine's stock client splits it. */
export interface ScriptStatement {
  /** Without the delimiter and the comments before it. */
  readonly sql: string;
  /** 1-based line where the statement starts, for error messages. */
  readonly line: number;
  /** Byte offset in the script just after the statement's delimiter (or its last byte). */
  readonly end: number;
  /**
   * Set when the reader joined consecutive one-row INSERTs (see {@link ScriptReadOptions}):
   * `sql` is one multi-row INSERT of `rows` rows, every one already checked, `lines` the line
   * of each row.
   */
  readonly joined?:
    | {
        readonly rows: number;
        readonly lines: readonly number[];
        /** The statement as UTF-8 bytes: `sql` is decoded from them only when read. */
        readonly bytes?: Uint8Array | undefined;
        /**
         * Called once the statement has run or failed (never before): the reader may then
         * reuse the memory of `bytes` for a later statement.
         */
        readonly release?: (() => void) | undefined;
      }
    | undefined;
  /**
   * Set for a statement that reads data from the script, as the stock client sends it to the
   * server (PostgreSQL's `COPY ... FROM stdin`): the raw lines that follow it, up to and with
   * the line that ends them (`\.`), or to the script's end when none does. Never statements:
   * the reader goes on after them. Take them (all or some) before the next statement; what
   * is left is skipped.
   */
  readonly data?: AsyncIterable<Buffer> | undefined;
}

/**
 * A statement reading data from the client, open on a session ({@link Session.openDataStatement}).
 * A failure of the server (a row that breaks a constraint, a value of the wrong type) or of
 * the connection settles {@link finished} at once, while data is still being sent: whoever
 * waits on a write, on the end or on `finished` learns of it without sending anything more.
 */
export interface DataStatement {
  /**
   * Sends data (whole lines, as {@link StatementChecker.checkData} gives them), the parts
   * together. Resolves once the connection has taken it (back-pressure: the server reads no
   * faster than it loads); rejects with the statement's failure once it has failed, and sends
   * nothing then. One write at a time; {@link end} may come while one waits (its data goes first).
   */
  write(data: readonly Buffer[]): Promise<void>;
  /** Ends the data: resolves with the rows the statement added, or rejects with its failure. */
  end(): Promise<number>;
  /**
   * Abandons the statement: the server keeps none of its rows. Resolves once the server has
   * answered (the session is usable again) or the connection is gone; never rejects.
   */
  abort(reason: string): Promise<void>;
  /** The statement's outcome: the rows it added, or its failure as soon as there is one. */
  readonly finished: Promise<number>;
  /**
   * After a failure the server placed: the line of the data it failed on, counted from 1 over
   * everything written to this statement. Undefined before, or when the server named none.
   */
  readonly failedLine: number | undefined;
}

/** A statement with data ({@link ScriptStatement.data}) as {@link StatementChecker.checkData} accepted it. */
export interface CheckedData {
  /** The table it fills, named as {@link ScriptFormat.insertTable} names one. */
  readonly table: string;
  /**
   * The data as the server takes it (without its end line), checked as it streams: it throws
   * UnexpectedStatementError at the first line out of form, and when the end line is missing.
   */
  readonly data: AsyncIterable<Buffer>;
  /** The lines of data (rows) read and checked so far: all of them once `data` has ended. */
  readonly lines?: (() => number) | undefined;
}

/** How {@link ScriptFormat.readStatements} may join rows while it reads. */
export interface ScriptReadOptions {
  /**
   * The checker of the file's statements (each statement the reader yields must be checked
   * with it before the next is taken). A reader may then check the one-row INSERTs that
   * follow one the checker accepted itself, as the checker would, and yield them joined.
   */
  readonly checker: StatementChecker;
  /** Joined statements stay under this many bytes. */
  readonly joinBytes: number;
}

/** What a file is for, and so which statements it may hold. */
export type FileExpectation =
  /** A snapshot's table file: its CREATE TABLE and rows. */
  | { readonly kind: 'table'; readonly name: string }
  /** A user-data file: rows of one table. */
  | { readonly kind: 'rows'; readonly table: string }
  | {
      readonly kind: Exclude<ObjectKind, 'table' | TableMemberKind>;
      readonly name: string;
    }
  /** A trigger or policy; `table`, when the file's title names it, is checked too. */
  | {
      readonly kind: Exclude<TableMemberKind, TableNamedKind>;
      readonly name: string;
      readonly table?: string | undefined;
    }
  /**
   * A table's foreign keys, or its row-level security (PostgreSQL, loaded after every table's
   * rows, row-level security after every foreign key and view); `name` is the table.
   */
  | { readonly kind: TableNamedKind; readonly name: string }
  /** A snapshot's database defaults file: its ALTER DATABASE of the current database. */
  | { readonly kind: 'database' }
  /** A file of the original tool (mysqldump of one table, its triggers included). */
  | { readonly kind: 'legacy-table'; readonly name: string }
  /**
   * A file of a dump (`load`): what the engine's {@link DumpScript} writes, every object
   * replaced (its DROP … IF EXISTS right before its CREATE), rows only into tables the dump
   * created, nothing that reaches outside the databases it loads into.
   */
  | {
      readonly kind: 'dump';
      /**
       * The databases the load fills (a dump of several: those its header lists; of one: the
       * target, `--into` or its own name): the only ones a `CREATE DATABASE` or `USE` may name.
       * The file starts in the one when there is one; a dump of several must `USE` one first.
       */
      readonly databases: readonly string[];
      /** What the dump's files checked so far created: shared by the checkers of one dump's files. */
      readonly ledger: DumpLedger;
    };

/**
 * What the files of one dump created so far, kept by the engine's checker under keys of its
 * own: the directory form creates a table in one file and fills it in others, so the
 * checkers of one dump's files share one ledger. A workflow makes one per load
 * ({@link newDumpLedger}) and never reads it.
 */
export type DumpLedger = Map<string, unknown>;

/** An empty {@link DumpLedger}, for the files of one load. */
export function newDumpLedger(): DumpLedger {
  return new Map<string, unknown>();
}

export interface CheckedStatement {
  readonly kind:
    | 'set'
    | 'create'
    | 'insert'
    | 'drop'
    | 'lock'
    | 'keys'
    | 'alter-database'
    | 'transaction'
    | 'state'
    | 'use'
    | 'refresh';
  /** Rows an INSERT adds. */
  readonly rows: number;
  /** An INSERT: where its row values start (after `VALUES`); what stands before is the same for every row of a table. */
  readonly valuesAt?: number | undefined;
  /**
   * A CREATE EVENT whose status is ENABLE: the same statement with only its status made
   * DISABLE, so that a restored event is created without ever being scheduled to run.
   */
  readonly disabledEvent?: string | undefined;
  /** With {@link disabledEvent}: the event's name, for the report of what was disabled. */
  readonly event?: string | undefined;
  /**
   * A statement of the engine's own (never text of the file) that restore runs right after
   * this one: a setting under which the rows that follow load faster.
   */
  readonly followedBy?: string | undefined;
  /**
   * A setting the session already holds, as the same text (after
   * {@link ScriptFormat.sessionReset}, or the file's last setting of it): restore need not
   * send it, a round trip saved.
   */
  readonly redundant?: boolean | undefined;
}

/** What a checker lets through beyond what files of an ordinary database hold. */
export interface CheckerOptions {
  /**
   * Accept definitions that reach outside the database when they are created, filled or
   * used: MariaDB tables whose data lives in files or on other servers (ENGINE=CONNECT,
   * FEDERATED, SPIDER, S3, an engine not known here, a MERGE table's UNION, DATA/INDEX
   * DIRECTORY, CONNECTION); PostgreSQL extensions with file, network or operating system
   * access and routines in an untrusted language (C, internal, plpython3u, plperlu, …).
   * Refused by default (`restore`/`load --allow-external-access`).
   */
  readonly allowExternalAccess?: boolean | undefined;
}

/** Checks the statements of one file, in order. */
export interface StatementChecker {
  /** Throws UnexpectedStatementError for a statement the file may not hold. */
  check(sql: string): CheckedStatement;
  /** Throws UnexpectedStatementError when the file lacked what it must hold (its CREATE). */
  finish(): void;
  /**
   * Checks a statement that carries data ({@link ScriptStatement.data}), in place of
   * {@link check}: throws UnexpectedStatementError unless the file may hold it (a dump's
   * PostgreSQL `COPY … FROM stdin` into a table the dump created, naming its columns), and
   * returns its data wrapped in the checks of its form. Optional: a checker of files that
   * hold no data has none, and such a statement is refused.
   */
  checkData?(sql: string, data: AsyncIterable<Buffer>): CheckedData;
}

/**
 * The engine's SQL script format as it is read back: how scripts split into statements, and
 * which statements a file of a snapshot may hold.
 */
export interface ScriptFormat {
  /** Statements of the script whose bytes `chunks` yields, as the stock client splits them. */
  readStatements(
    chunks: AsyncIterable<Buffer | Uint8Array | string>,
    options?: ScriptReadOptions,
  ): AsyncIterable<ScriptStatement>;
  /**
   * One statement that puts a session into the state every file starts from (the state
   * {@link checker} assumes): run it before each file.
   */
  readonly sessionReset: string;
  /** A checker of the statements of a file of `expected`, for a session after {@link sessionReset}. */
  checker(expected: FileExpectation, options?: CheckerOptions): StatementChecker;
  /** The text of a comment line that {@link SqlDialect.comment} wrote; undefined for other lines. */
  commentText(line: string): string | undefined;
  /**
   * The object a snapshot file's first line names (`schema_backup: <kind> <name>[ on table
   * <table>]` in a comment, names quoted); undefined for any other line.
   */
  fileTitle(line: string): { name: string; table?: string | undefined } | undefined;
  /** What every line of a table file that holds rows starts with (one row a line). */
  readonly rowLinePrefix: string;
  /** True for a line that frames a table file's rows (blank, or opening and committing their transaction). */
  isFramingLine(line: string): boolean;
  /** True for a line of a CREATE TABLE that may change the row key (a primary or unique key). */
  isKeyLine(line: string): boolean;
  /** The head of a row line that names its columns and holds one row; undefined for another line. */
  parseRowHead(line: string): RowHead | undefined;
  /**
   * Finds where each value literal of a one-row line starts and ends, from offset `start`
   * (the end of its head), into `bounds` (start and end offset of value i at 2i and 2i+1):
   * at most `maxValues`. Returns how many, or -1 when the line is not one row.
   */
  findRowValues(line: string, start: number, bounds: Int32Array, maxValues: number): number;
  /** Parses a CREATE TABLE statement as the engine writes it; undefined when `sql` holds none. */
  parseCreateTable(sql: string): TableDefinition | undefined;
  /**
   * The tables that must exist before a table file's statement `sql` runs, when `sql` is the
   * file's CREATE TABLE (PostgreSQL: a partition's parent, the tables it inherits from);
   * undefined for any other statement. Optional: without it (MariaDB, whose tables need no
   * other to be created), restore loads every table file at once.
   */
  tableDependencies?(sql: string): readonly string[] | undefined;
  /**
   * The objects a table file's CREATE TABLE `sql` may need besides those tables: every
   * object it names (PostgreSQL: its columns' types, its type `OF`, the functions its
   * defaults call, another table whose row type a column has), as carried names, a routine
   * by its name without arguments; undefined for any other statement. Optional: restore then
   * creates no table after objects that waited for the tables.
   */
  tableNeeds?(sql: string): readonly string[] | undefined;
  /** How a dump file is written. */
  readonly dump: DumpScript;
  /** Statements that prepare and clean up targets. */
  readonly admin: AdminStatements;
  /**
   * An INSERT split into what stands before its row values (`INSERT INTO t (cols) VALUES `,
   * the same for every row of a table) and the values; undefined for other statements.
   */
  splitInsert(sql: string): { prefix: string; values: string } | undefined;
  /** One statement of the rows of INSERTs that {@link splitInsert} gave the same `prefix`. */
  joinInsert(prefix: string, values: readonly string[]): string;
  /** The table (unquoted) an INSERT statement writes to; undefined for other statements. */
  insertTable(sql: string): string | undefined;
}

/** One column of a {@link TableDefinition}. */
export interface ColumnDefinition {
  readonly name: string;
  /** The whole definition after the name, e.g. `varchar(10) NOT NULL DEFAULT 'x'`. */
  readonly definition: string;
  /** `varchar(10)`, `int(11) unsigned`, … */
  readonly type: string;
  readonly nullable: boolean;
  /** The DEFAULT clause's value as written, or undefined. */
  readonly default: string | undefined;
  /** `CHARACTER SET … COLLATE …` as written, or undefined (the table's). */
  readonly charset: string | undefined;
}

/** A table's CREATE TABLE, read into its parts (for a summary of what changed). */
export interface TableDefinition {
  readonly name: string;
  /** In order. */
  readonly columns: readonly ColumnDefinition[];
  /** `PRIMARY`, and every other key by name, with its whole line. */
  readonly indexes: ReadonlyMap<string, string>;
  readonly foreignKeys: ReadonlyMap<string, string>;
  readonly checks: ReadonlyMap<string, string>;
  /** What follows the closing parenthesis: ENGINE, CHARSET, COMMENT, partitioning… */
  readonly options: string;
  /** Columns of the primary key, else of the first unique key; empty when none. */
  readonly rowKey: readonly string[];
}

/** The head of a line that holds one row: the same for every row of a table. */
export interface RowHead {
  /** The line's text up to its first value. */
  readonly text: string;
  /** The columns the line names, in order. */
  readonly columns: readonly string[];
}

/** A table's `CREATE TABLE` with its movable secondary keys split off, to add after the rows. */
export interface DeferredKeys {
  /** The `CREATE TABLE` without the deferred keys. */
  readonly create: string;
  /** The statement that adds them back, without the final `;`. */
  readonly addKeys: string;
}

/**
 * What a dump file says, as text: every function returns whole lines (each ending `\n`) of
 * statements with their `;`, ready to write, unless it says otherwise.
 */
export interface DumpScript {
  /** The session settings the rest of a dump assumes, one statement a line, no final newline. */
  readonly preamble: string;
  /**
   * Makes `name` the current database; creates it first when `create` (a dump of several).
   * Undefined for an engine whose stock client cannot switch databases between statements
   * (PostgreSQL): a dump then holds one database.
   */
  readonly useDatabase?: ((name: string, create: boolean) => string) | undefined;
  /**
   * A table's or sequence's structure: drop it if it exists, then its CREATE and those of
   * its `after` statements that do not wait for its rows ({@link afterRows} gives the others).
   */
  replaceStructure(definition: ObjectDefinition): string;
  /**
   * The `after` statements (no `;`) of a table's definition that run after its rows
   * (PostgreSQL: keys, indexes, comments; not CHECK constraints, which
   * {@link replaceStructure} writes, as a table that inherits from it copies them when created).
   */
  afterRows(definition: ObjectDefinition): readonly string[];
  /**
   * A view, routine, trigger or event made replayable: dropped if it exists, then created
   * under the client character set, collation, sql_mode and time zone it was created under
   * (`creation` from {@link SqlDialect.creationContext}), and the session set back.
   */
  replayableObject(definition: ObjectDefinition, creation: CreationContext | undefined): string;
  /** Whether `sql` (a view's CREATE) names object `name`. */
  mentions(sql: string, name: string): boolean;
  /**
   * Splits `create` (a table's CREATE TABLE) into the table without its movable secondary
   * keys and the statement that adds them; undefined when nothing may move.
   */
  deferSecondaryKeys(tableName: string, create: string): DeferredKeys | undefined;
  /** Names of the tables that `creates` (a database's CREATE TABLEs) reference in a foreign key. */
  referencedTables(creates: readonly string[]): Set<string>;
}

/** What {@link AdminStatements.indexBuild} says of an index build. */
export interface IndexBuild {
  readonly table: string;
  /** True when other shared builds of the same table may run at the same time. */
  readonly sharesTable: boolean;
  /**
   * The same result in two steps, where the engine can say so exactly: `build`, a build that
   * shares the table (run as one, beside the table's other builds), then `attach`, run after
   * it (and after every build before the next statement that is not one) to make the index
   * what the statement makes (PostgreSQL: a primary key or unique constraint built as
   * `CREATE UNIQUE INDEX`, then `ADD CONSTRAINT … USING INDEX`). Undefined: the statement
   * runs as it is.
   */
  readonly split?: { readonly build: string; readonly attach: string };
}

/**
 * Statements (without `;`) that restore, load and verify run on a session to prepare and
 * clean up a target database, and what they read back from a statement that failed.
 */
export interface AdminStatements {
  /**
   * The database a session that creates and drops databases connects to (PostgreSQL:
   * `postgres`, as createdb and dropdb); undefined for an engine whose sessions need none.
   */
  readonly adminDatabase: string | undefined;
  /**
   * The server's own databases (MariaDB `mysql`, `sys`…; PostgreSQL's templates, whose objects
   * every new database copies): load never fills one, whatever a dump's header names.
   */
  readonly systemDatabases: readonly string[];
  /** Creates database `name` with the default character set of every file. */
  createDatabase(name: string): string;
  /**
   * The objects a database holds as {@link createDatabase} makes it (PostgreSQL: schema
   * `public`, extension `plpgsql`): a database with only these is empty.
   */
  readonly newDatabaseObjects: readonly ObjectRef[];
  /** Drops database `name`, if it exists. */
  dropDatabase(name: string): string;
  /**
   * Makes `name` the session's current database. PostgreSQL, whose sessions cannot change
   * their database: a statement that fails unless `name` is the one it connected to.
   */
  useDatabase(name: string): string;
  /** Drops object `name` of `kind` in `database`; only if it exists when `ifExists`. */
  dropObject(database: string, kind: ObjectKind, name: string, ifExists: boolean): string;
  /** Turns the session's foreign key checks off, so tables drop in any order. */
  readonly foreignKeyChecksOff: string;
  /**
   * The statements that make table `table` of `database` hold `note` as its one row, after
   * dropping any table of that name (the incomplete marker). `note` is cut to fit.
   */
  markerStatements(database: string, table: string, note: string): readonly string[];
  /**
   * Names a statement in an error message without its values: an INSERT by its table,
   * anything else by its first words.
   */
  describeStatement(sql: string): string;
  /** The database a `USE` statement switches to; undefined for another statement. */
  usedDatabase(sql: string): string | undefined;
  /** True for a statement that sets session state (every connection of a load runs it). */
  isSessionSetting(sql: string): boolean;
  /**
   * True for a failure after which the server rolled the statement back whole (a deadlock,
   * a lock wait timeout), so that running it again is safe.
   */
  isRolledBackWhole(error: unknown): boolean;
  /**
   * The index a statement builds and nothing else (PostgreSQL: `CREATE INDEX`, a primary key
   * or unique constraint added after the rows): its table, and whether other builds of that
   * table may run at once with it (`CREATE INDEX` shares the table with other index builds,
   * as pg_restore runs them; `ALTER TABLE … ADD CONSTRAINT` locks it whole). A load builds
   * the indexes of different tables at once, and shared builds of one table at once;
   * undefined for any other statement. Optional: without it, a load runs such statements
   * one by one.
   */
  indexBuild?(sql: string): IndexBuild | undefined;
  /** True for a statement that locks or unlocks tables (mysqldump's `LOCK TABLES`). */
  isTableLock(sql: string): boolean;
  /** The 1-based row of a multi-row INSERT that a server error `message` names; undefined when none. */
  failedRow(message: string): number | undefined;
  /**
   * A server error `message` without its quote of the statement, which may hold row values
   * (these never go into an error or a log).
   */
  withoutStatementText(message: string): string;
}

export interface Engine {
  readonly name: string;
  readonly dialect: SqlDialect;
  readonly script: ScriptFormat;
  /** The kinds of objects this engine has, in the order a restore creates them. */
  readonly objectKinds: readonly ObjectKind[];
  /**
   * The parts of an object's name that its file name is made of, outermost first, each
   * encoded on its own and joined with `.`: `[name]`, or `[schema, name]` for an object of a
   * PostgreSQL schema (`public.items.sql`).
   */
  readonly fileNameParts: (kind: ObjectKind, name: string) => readonly string[];
  /** The table a config's category entry means (PostgreSQL: `items` is `public.items`). */
  readonly tableNamed: (configName: string) => string;
  /** Connects. Throws EngineError with a hint when unreachable or access is denied. */
  openSession(options: ConnectionOptions): Promise<Session>;
}

/**
 * Opens `count` sessions with `options` at once, as connecting costs round trips (and on
 * PostgreSQL a server process) that need not wait for each other: all of them, or none
 * (when one fails, those opened are closed and its error is thrown).
 */
export async function openSessions(
  engine: Pick<Engine, 'openSession'>,
  options: ConnectionOptions,
  count: number,
): Promise<Session[]> {
  const settled = await Promise.allSettled(
    Array.from({ length: count }, () => engine.openSession(options)),
  );
  const sessions: Session[] = [];
  let failure: { reason: unknown } | undefined;
  for (const result of settled) {
    if (result.status === 'fulfilled') sessions.push(result.value);
    else failure ??= { reason: result.reason };
  }
  if (failure === undefined) return sessions;
  await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
  throw failure.reason;
}

/**
 * The database a workflow reads over `session`: `named` (the config's or the command
 * line's), else the one the session connected to when the connection named none.
 */
export function sessionDatabase(session: Session, named: string | undefined): string {
  return named !== undefined && named !== '' ? named : (session.database ?? named ?? '');
}

/**
 * True for an object that every new database of `engine` holds (PostgreSQL: the schema
 * `public`, the extension `plpgsql`; MariaDB: none): it does not make a database non-empty,
 * and dropping what a failed load created leaves it.
 */
export function isNewDatabaseObject(engine: Engine, object: ObjectRef): boolean {
  return engine.script.admin.newDatabaseObjects.some(
    (made) => made.kind === object.kind && made.name === object.name,
  );
}
