/**
 * What `restore`, `verify` and the reader of user-data copies will send to the server from a
 * file: only the statements a snapshot writes for the object the file holds, checked as the
 * server will read them.
 *
 * - a table file: session `SET`s, one `CREATE TABLE` of that table, `INSERT INTO` that table
 *   with literal values only, after the CREATE one `START TRANSACTION` and its `COMMIT`;
 * - a user-data file: session `SET`s and `INSERT INTO` its table, literal values only;
 * - a view, sequence, routine, trigger or event file: session `SET`s and one `CREATE` of that
 *   object (a trigger on its table); a sequence file after it one `DO SETVAL` of that sequence
 *   with integer literals;
 * - a database defaults file: session `SET`s and one `ALTER DATABASE CHARACTER SET … COLLATE …`
 *   that names no database (so it reaches only the one the file is loaded into);
 * - a file of the original tool (mysqldump, `restore --legacy`): the above for its table, plus
 *   `DROP TABLE IF EXISTS`, `LOCK`/`UNLOCK TABLES`, `ALTER TABLE … DISABLE/ENABLE KEYS` of it,
 *   and `CREATE TRIGGER` on it;
 * - a file of a dump (`load`): session `SET`s; `CREATE DATABASE IF NOT EXISTS` and `USE` of
 *   the databases the load fills only; `ALTER DATABASE CHARACTER SET … COLLATE …`; each
 *   table, sequence, view, routine, trigger or event as `DROP <kind> IF EXISTS` then, with
 *   only `SET`s between, the `CREATE` of that very object (no DEFINER; a trigger on a table
 *   the dump created); `INSERT INTO` a table the dump created, literal values only; `ALTER
 *   TABLE … ADD [UNIQUE] KEY …` (keys added after the rows) of such a table; one `DO SETVAL`
 *   of each sequence it created. The tables a dump created are remembered across its files
 *   (the dump's ledger), each under the database it was created in.
 *
 * A table or sequence keeps its data in the database: its CREATE (table options, partitions)
 * names only an engine known to store rows in the server's own data directory (InnoDB,
 * MyISAM, Aria, MEMORY, …), and no UNION (a MERGE table over other tables), DATA or INDEX
 * DIRECTORY, or CONNECTION. CONNECT, FEDERATED(X), SPIDER and S3 tables read and write files
 * of the server or other servers when they are created or filled: refused with
 * {@link ExternalAccessError} unless {@link CheckerOptions.allowExternalAccess}.
 *
 * Names are unqualified, so nothing reaches another database. `SET` takes only session
 * variables that a file needs, and character sets in which every ASCII byte is itself (in
 * `gbk` or `sjis` a quote can hide inside a character). The sql_mode a `SET` chooses is
 * followed, so strings are lexed as the server lexes them. A file that breaks a rule is
 * refused before its statement runs; the error names the rule, never a value.
 */
import { ExternalAccessError, UnexpectedStatementError } from '../../errors.js';
import type {
  CheckedStatement,
  CheckerOptions,
  FileExpectation,
  StatementChecker,
} from '../engine.js';
import { SqlLexer, SqlLexError, type LexModes } from './sql-lexer.js';

/** Session variables a snapshot or mysqldump file sets. */
const SESSION_VARIABLES = new Set([
  'character_set_client',
  'character_set_results',
  'character_set_connection',
  'collation_connection',
  'time_zone',
  'sql_mode',
  'foreign_key_checks',
  'unique_checks',
  'sql_notes',
  'note_verbosity',
  'check_constraint_checks',
]);

/**
 * Client character sets a file may choose: in these a byte below 0x80 is always that ASCII
 * character (in `gbk` or `sjis` a quote can hide inside a character).
 */
const UTF8_CHARSETS = new Set(['utf8', 'utf8mb3', 'utf8mb4']);
const ASCII_SAFE_CHARSETS = new Set([...UTF8_CHARSETS, 'latin1', 'ascii', 'binary']);

/** sql_mode flags; the composite ones that turn on ANSI_QUOTES are marked. */
const SQL_MODE_FLAGS = new Set([
  'REAL_AS_FLOAT',
  'PIPES_AS_CONCAT',
  'ANSI_QUOTES',
  'IGNORE_SPACE',
  'IGNORE_BAD_TABLE_OPTIONS',
  'ONLY_FULL_GROUP_BY',
  'NO_UNSIGNED_SUBTRACTION',
  'NO_DIR_IN_CREATE',
  'POSTGRESQL',
  'ORACLE',
  'MSSQL',
  'DB2',
  'MAXDB',
  'NO_KEY_OPTIONS',
  'NO_TABLE_OPTIONS',
  'NO_FIELD_OPTIONS',
  'MYSQL323',
  'MYSQL40',
  'ANSI',
  'NO_AUTO_VALUE_ON_ZERO',
  'NO_BACKSLASH_ESCAPES',
  'STRICT_TRANS_TABLES',
  'STRICT_ALL_TABLES',
  'NO_ZERO_IN_DATE',
  'NO_ZERO_DATE',
  'ALLOW_INVALID_DATES',
  'ERROR_FOR_DIVISION_BY_ZERO',
  'TRADITIONAL',
  'NO_AUTO_CREATE_USER',
  'HIGH_NOT_PRECEDENCE',
  'NO_ENGINE_SUBSTITUTION',
  'PAD_CHAR_TO_FULL_LENGTH',
  'EMPTY_STRING_IS_NULL',
  'SIMULTANEOUS_ASSIGNMENT',
  'TIME_ROUND_FRACTIONAL',
]);
const ANSI_QUOTES_MODES = new Set([
  'ANSI_QUOTES',
  'ANSI',
  'POSTGRESQL',
  'ORACLE',
  'MSSQL',
  'DB2',
  'MAXDB',
]);

const CREATE_KINDS = new Set([
  'table',
  'view',
  'sequence',
  'procedure',
  'function',
  'trigger',
  'event',
]);

/**
 * Run after a table file's START TRANSACTION on restore. Files set unique_checks = 0 (as
 * mariadb-dump's do), and an INSERT into an empty InnoDB table in a transaction with
 * unique_checks = 0 and foreign_key_checks = 0 puts InnoDB (MariaDB >= 10.6) in its bulk
 * insert mode: every row of the transaction buffered, sorted and merged into each index at
 * COMMIT. For rows that come in key order that costs the server about twice the CPU of
 * inserting them one by one (10.11, the restore bench: orders 3.0-3.8 s against 1.4-1.6 s,
 * events 3.1 s against 1.3 s). With unique checks on it is not used; the rows are the ones a
 * table with those unique keys held, so checking them changes nothing else.
 */
const ROWS_LOAD_SETTING = 'SET unique_checks = 1';

/**
 * Engines that keep a table's rows in the server's own data directory (a MERGE table's
 * UNION is refused on its own). Any other engine may keep them elsewhere.
 */
const LOCAL_ENGINES = new Set([
  'innodb',
  'xtradb',
  'myisam',
  'aria',
  'memory',
  'heap',
  'csv',
  'archive',
  'blackhole',
  'mrg_myisam',
  'merge',
  'sequence',
  'rocksdb',
  'tokudb',
  'columnstore',
  'mroonga',
]);

/** Engines whose tables are files of the server or tables on other servers, named in errors. */
const EXTERNAL_ENGINES = new Set(['connect', 'federated', 'federatedx', 'spider', 's3']);

/** What a dump's `DROP … IF EXISTS` may name, by its keyword. */
const DUMP_DROP_KINDS = new Set([
  'table',
  'sequence',
  'view',
  'procedure',
  'function',
  'trigger',
  'event',
]);

/** Words a key of `ALTER TABLE … ADD KEY` may have after its columns. */
const KEY_OPTION_WORDS = new Set([
  'using',
  'btree',
  'hash',
  'rtree',
  'comment',
  'key_block_size',
  'ignored',
  'not',
  'visible',
  'invisible',
  'clustering',
  'yes',
  'no',
]);

/** The ledger key of table or sequence `name` created in `database` by a dump. */
function ledgerKey(kind: 'table' | 'sequence', database: string, name: string): string {
  return `mariadb ${kind}\u0000${database}\u0000${name}`;
}

/** How the server lexes under `sqlMode`; undefined when it holds a flag not known here. */
export function lexModesOf(sqlMode: string): LexModes | undefined {
  const flags = sqlMode
    .split(',')
    .map((flag) => flag.trim().toUpperCase())
    .filter((flag) => flag !== '');
  if (!flags.every((flag) => SQL_MODE_FLAGS.has(flag))) return undefined;
  return {
    noBackslashEscapes: flags.includes('NO_BACKSLASH_ESCAPES'),
    ansiQuotes: flags.some((flag) => ANSI_QUOTES_MODES.has(flag)),
  };
}

/**
 * Checks the statements of one file in order. `sessionSqlMode` and `sessionCharset`: the
 * session's settings when the file starts (the reader resets them before each file).
 */
export class StatementGuard implements StatementChecker {
  private readonly expected: FileExpectation;
  private readonly allowExternalAccess: boolean;
  private modes: LexModes;
  /** Session variables as the file has set them so far (lower-case names). */
  private readonly session = new Map<string, string | undefined>();
  /** User variables the file has set (lower-case names), undefined when not known. */
  private readonly userVariables = new Map<string, string | undefined>();
  private created = 0;
  /** A table file's transaction: not yet opened, open, committed. */
  private transaction: 'none' | 'open' | 'committed' = 'none';
  private stateSet = false;
  /**
   * The text up to `VALUES` of the last INSERT accepted, when it held no comment: the next
   * INSERT that starts with it is checked from there (rows of one table share it). Cleared by
   * a SET, which may change how text is read.
   */
  private insertPrefix: string | undefined;
  /** A dump: the database the session is in (undefined before a dump of several USEs one). */
  private current: string | undefined;
  /** A dump: the object a DROP … IF EXISTS dropped, whose CREATE must come next. */
  private pendingDrop: { kind: string; name: string } | undefined;
  /** A dump: sequences (ledger keys) whose state this file has set. */
  private readonly statesSet = new Set<string>();

  constructor(
    expected: FileExpectation,
    sessionSqlMode: string,
    sessionCharset: string,
    options: CheckerOptions = {},
  ) {
    this.expected = expected;
    this.allowExternalAccess = options.allowExternalAccess === true;
    if (expected.kind === 'dump' && expected.databases.length === 1)
      this.current = expected.databases[0];
    const modes = lexModesOf(sessionSqlMode);
    if (modes === undefined)
      throw new UnexpectedStatementError(`unknown sql_mode ${sessionSqlMode}`);
    this.modes = { ...modes, asciiCode: !UTF8_CHARSETS.has(sessionCharset.toLowerCase()) };
    this.session.set('sql_mode', sessionSqlMode);
    this.session.set('character_set_client', sessionCharset);
  }

  /** Checks one statement; throws {@link UnexpectedStatementError} when the file may not hold it. */
  check(sql: string): CheckedStatement {
    const prefix = this.insertPrefix;
    if (prefix !== undefined && sql.startsWith(prefix) && /^[ (]/.test(sql.charAt(prefix.length))) {
      try {
        const rows = this.checkValues(new SqlLexer(sql, this.modes, prefix.length));
        return { kind: 'insert', rows, valuesAt: prefix.length };
      } catch (error) {
        if (error instanceof SqlLexError)
          throw new UnexpectedStatementError(
            `the statement cannot be read safely (${error.message})`,
          );
        throw error;
      }
    }
    const lexer = new SqlLexer(sql, this.modes);
    try {
      lexer.next();
      if (this.expected.kind === 'dump') {
        // Rows of one table come one statement after another: anything else ends them.
        if (lexer.keyword() !== 'insert') this.insertPrefix = undefined;
        if (
          this.pendingDrop !== undefined &&
          lexer.keyword() !== 'set' &&
          lexer.keyword() !== 'create'
        )
          throw this.refuse(
            `a DROP ${this.pendingDrop.kind.toUpperCase()} not followed by its CREATE`,
          );
        if (lexer.keyword() === 'use') {
          this.checkUse(lexer);
          return { kind: 'use', rows: 0 };
        }
      }
      switch (lexer.keyword()) {
        case 'set':
          this.checkSet(lexer);
          return { kind: 'set', rows: 0 };
        case 'create': {
          const enabledAt = this.checkCreate(lexer);
          return enabledAt === undefined
            ? { kind: 'create', rows: 0 }
            : {
                kind: 'create',
                rows: 0,
                disabledEvent: `${sql.slice(0, enabledAt.start)}DISABLE${sql.slice(enabledAt.end)}`,
                event: enabledAt.event,
              };
        }
        case 'insert': {
          const rows = this.checkInsert(lexer);
          return { kind: 'insert', rows, valuesAt: this.insertPrefix?.length };
        }
        case 'drop':
          if (this.expected.kind === 'dump') this.checkDumpDrop(lexer);
          else this.checkLegacyDrop(lexer);
          return { kind: 'drop', rows: 0 };
        case 'lock':
        case 'unlock':
          this.checkLegacyLock(lexer);
          return { kind: 'lock', rows: 0 };
        case 'alter':
          if (
            this.expected.kind === 'database' ||
            (this.expected.kind === 'dump' && this.isAlterDatabase(lexer))
          ) {
            this.checkDatabaseDefaults(lexer);
            return { kind: 'alter-database', rows: 0 };
          }
          if (this.expected.kind === 'dump') {
            this.checkAddKeys(lexer);
            return { kind: 'keys', rows: 0 };
          }
          this.checkLegacyKeys(lexer);
          return { kind: 'keys', rows: 0 };
        case 'start':
        case 'commit':
          return this.checkTransaction(lexer) === 'open'
            ? { kind: 'transaction', rows: 0, followedBy: ROWS_LOAD_SETTING }
            : { kind: 'transaction', rows: 0 };
        case 'do':
          this.checkSequenceState(lexer);
          return { kind: 'state', rows: 0 };
        default:
          throw this.refuse(describeStart(sql));
      }
    } catch (error) {
      if (error instanceof SqlLexError)
        throw new UnexpectedStatementError(
          `the statement cannot be read safely (${error.message})`,
        );
      throw error;
    }
  }

  /**
   * The text up to `VALUES` of the last INSERT accepted, when the next one may start with it
   * and be read as one row of literals by {@link scanRowValues} (which knows only backslash
   * escapes in strings); else undefined.
   */
  rowHead(): string | undefined {
    return this.modes.noBackslashEscapes ? undefined : this.insertPrefix;
  }

  /**
   * Checks that the file held what it must (a table or object file: its CREATE; a table
   * file's transaction, if opened, committed).
   */
  finish(): void {
    if (this.expected.kind === 'dump') {
      if (this.pendingDrop !== undefined)
        throw this.refuse(
          `a DROP ${this.pendingDrop.kind.toUpperCase()} not followed by its CREATE`,
        );
      return;
    }
    if (this.transaction === 'open')
      throw new UnexpectedStatementError(
        `the file opens a transaction and does not commit it, unlike a snapshot's ${describeExpected(this.expected)}`,
      );
    if (this.expected.kind === 'rows' || this.expected.kind === 'legacy-table') return;
    if (this.created === 0)
      throw new UnexpectedStatementError(
        this.expected.kind === 'database'
          ? 'the file holds no ALTER DATABASE of the database defaults'
          : `the file holds no CREATE ${this.expected.kind.toUpperCase()} of ${describeExpected(this.expected)}`,
      );
  }

  private refuse(reason: string): UnexpectedStatementError {
    return new UnexpectedStatementError(
      this.expected.kind === 'dump'
        ? `${reason}: not a statement a dump writes`
        : `${reason}: not a statement a snapshot writes for ${describeExpected(this.expected)}`,
    );
  }

  // A dump's USE `db`: only of a database the load fills.
  private checkUse(lexer: SqlLexer): void {
    lexer.next();
    this.current = this.loadedDatabase(lexer, 'USE');
    this.expectEnd(lexer);
  }

  // A dump of several databases: CREATE DATABASE IF NOT EXISTS `db` of one the load fills.
  private checkCreateDatabase(lexer: SqlLexer): void {
    this.expectWord(lexer, 'if');
    this.expectWord(lexer, 'not');
    this.expectWord(lexer, 'exists');
    lexer.next();
    this.loadedDatabase(lexer, 'CREATE DATABASE');
    this.expectEnd(lexer);
  }

  /** The database named at the lexer, which must be one the load fills. */
  private loadedDatabase(lexer: SqlLexer, what: string): string {
    const expected = this.expected;
    const name = this.unqualifiedName(lexer, `the database of a ${what}`);
    if (expected.kind !== 'dump' || !expected.databases.includes(name))
      throw this.refuse(`a ${what} of a database this load does not fill`);
    return name;
  }

  /** A dump: the database the session is in; refuses a statement before a dump of several USEs one. */
  private currentDatabase(): string {
    if (this.current === undefined) throw this.refuse('a statement before the USE of a database');
    return this.current;
  }

  /** A dump: whether its files created table or sequence `name` in the current database. */
  private dumpCreated(kind: 'table' | 'sequence', name: string): boolean {
    const expected = this.expected;
    return (
      expected.kind === 'dump' && expected.ledger.has(ledgerKey(kind, this.currentDatabase(), name))
    );
  }

  /** True at `ALTER DATABASE` (the lexer left where it was). */
  private isAlterDatabase(lexer: SqlLexer): boolean {
    const after = new SqlLexer(lexer.sql, this.modes, lexer.end);
    after.next();
    return after.keyword() === 'database';
  }

  // A dump's DROP <kind> IF EXISTS `name`, right before the CREATE of that object.
  private checkDumpDrop(lexer: SqlLexer): void {
    lexer.next();
    const kind = lexer.keyword();
    if (!DUMP_DROP_KINDS.has(kind))
      throw this.refuse(`a DROP ${kind.toUpperCase() || 'of something'}`);
    this.expectWord(lexer, 'if');
    this.expectWord(lexer, 'exists');
    lexer.next();
    const name = this.unqualifiedName(lexer, `the ${kind} dropped`);
    this.expectEnd(lexer);
    this.currentDatabase();
    this.pendingDrop = { kind, name };
  }

  // A dump's keys added after the rows: ALTER TABLE `t` ADD [UNIQUE] KEY `k` (…)[ options], … of a table it created.
  private checkAddKeys(lexer: SqlLexer): void {
    lexer.next();
    if (lexer.keyword() !== 'table') throw this.refuse(describeStart(lexer.sql));
    lexer.next();
    if (!this.dumpCreated('table', this.unqualifiedName(lexer, 'the table altered')))
      throw this.refuse('an ALTER TABLE of a table the dump did not create');
    const notKey = () => this.refuse('an ALTER TABLE other than ADD KEY');
    lexer.next();
    for (;;) {
      if (lexer.keyword() !== 'add') throw notKey();
      lexer.next();
      if (lexer.keyword() === 'unique') lexer.next();
      if (lexer.keyword() !== 'key' && lexer.keyword() !== 'index') throw notKey();
      lexer.next();
      if (!lexer.is('(')) {
        this.unqualifiedName(lexer, 'the key added');
        lexer.next();
      }
      if (!lexer.is('(')) throw notKey();
      // Columns: names, a prefix length, ASC/DESC.
      for (let depth = 1; depth > 0;) {
        lexer.next();
        if (lexer.is('(')) depth += 1;
        else if (lexer.is(')')) depth -= 1;
        else if (
          !lexer.is(',') &&
          lexer.type !== 'identifier' &&
          lexer.type !== 'number' &&
          !['asc', 'desc'].includes(lexer.keyword())
        )
          throw notKey();
      }
      for (lexer.next(); lexer.type !== 'end' && !lexer.is(','); lexer.next()) {
        if (lexer.type === 'word' && KEY_OPTION_WORDS.has(lexer.keyword())) continue;
        if (lexer.type === 'string' || lexer.type === 'number' || lexer.is('=')) continue;
        throw notKey();
      }
      if (lexer.type === 'end') return;
      lexer.next();
    }
  }

  // SET: session variables the files need, user variables, NAMES / CHARACTER SET.
  private checkSet(lexer: SqlLexer): void {
    this.insertPrefix = undefined;
    for (;;) {
      lexer.next();
      const word = lexer.keyword();
      if (word === 'names' || word === 'charset' || word === 'character') {
        if (word === 'character') this.expectWord(lexer, 'set');
        lexer.next();
        this.useCharset(this.charsetValue(lexer));
        lexer.next();
        if (lexer.keyword() === 'collate') {
          lexer.next();
          this.collationValue(lexer);
          lexer.next();
        }
      } else {
        let target: { user: boolean; name: string };
        if (lexer.type === 'user-variable') {
          target = { user: true, name: userVariableName(lexer.text()) };
        } else {
          if (word === 'session' || word === 'local') lexer.next();
          const name =
            lexer.type === 'system-variable' ? sessionVariableName(lexer.text()) : lexer.keyword();
          if (name === undefined || !SESSION_VARIABLES.has(name))
            throw this.refuse(`a SET of ${lexer.text() || 'nothing'}`);
          target = { user: false, name };
        }
        lexer.next();
        if (!lexer.is('=') && lexer.text() !== ':=') throw this.refuse('a SET without `=`');
        lexer.next();
        const value = this.setValue(lexer, target);
        if (target.user) this.userVariables.set(target.name, value);
        else this.applySession(target.name, value);
        lexer.next();
      }
      if (lexer.type === 'end') return;
      if (!lexer.is(',')) throw this.refuse('a SET of more than settings');
    }
  }

  /** The value of a SET, as far as it is known; refuses anything but a plain value. */
  private setValue(lexer: SqlLexer, target: { user: boolean; name: string }): string | undefined {
    switch (lexer.type) {
      case 'string':
        return lexer.stringValue();
      case 'number':
        return lexer.text();
      case 'word':
        if (/^[a-z0-9_]+$/i.test(lexer.text())) return lexer.text();
        break;
      case 'user-variable':
        return this.userVariables.get(userVariableName(lexer.text()));
      case 'system-variable': {
        const name = sessionVariableName(lexer.text());
        if (name !== undefined && SESSION_VARIABLES.has(name)) return this.session.get(name);
        break;
      }
      case 'punctuation':
        if (lexer.is('-') && lexer.next() === 'number') return `-${lexer.text()}`;
        break;
      default:
        break;
    }
    throw this.refuse(
      `SET ${target.user ? '@' : ''}${target.name} to something other than a value`,
    );
  }

  private applySession(name: string, value: string | undefined): void {
    if (name === 'sql_mode') {
      const modes = value === undefined ? undefined : lexModesOf(value);
      if (modes === undefined) throw this.refuse('SET sql_mode to a value not known here');
      this.modes = { ...modes, asciiCode: this.modes.asciiCode };
    }
    if (name === 'character_set_client') this.useCharset(value);
    this.session.set(name, value);
  }

  private useCharset(value: string | undefined): void {
    if (value?.toLowerCase() === 'default') value = 'utf8mb4';
    if (!isAsciiSafeCharset(value))
      throw this.refuse('SET of a client character set that may hide quotes');
    this.session.set('character_set_client', value);
    this.modes = { ...this.modes, asciiCode: !UTF8_CHARSETS.has(value?.toLowerCase() ?? '') };
  }

  private charsetValue(lexer: SqlLexer): string {
    const value =
      lexer.type === 'string' ? lexer.stringValue() : lexer.type === 'word' ? lexer.text() : '';
    if (value.toLowerCase() === 'default' || isAsciiSafeCharset(value)) return value;
    throw this.refuse('SET NAMES to a character set that may hide quotes');
  }

  private collationValue(lexer: SqlLexer): void {
    const value =
      lexer.type === 'string' ? lexer.stringValue() : lexer.type === 'word' ? lexer.text() : '';
    if (!/^[a-z0-9_]+$/i.test(value)) throw this.refuse('a COLLATE that is not a collation name');
  }

  // CREATE [DEFINER=…] [ALGORITHM=…] [SQL SECURITY …] [AGGREGATE] <kind> [IF NOT EXISTS] name
  /**
   * Checks a CREATE; for a CREATE EVENT whose status is ENABLE, returns where that word
   * stands (the `ENABLE` before `DO`: the schedule holds only expressions and the comment
   * is a string, so the first such word is the status).
   */
  private checkCreate(lexer: SqlLexer): { start: number; end: number; event: string } | undefined {
    lexer.next();
    let kind = lexer.keyword();
    const dump = this.expected.kind === 'dump';
    if (dump && (kind === 'database' || kind === 'schema')) {
      this.checkCreateDatabase(lexer);
      return undefined;
    }
    while (!CREATE_KINDS.has(kind)) {
      // A dump's CREATE has no DEFINER: an account it names would own what runs in it.
      if (kind === 'definer' && dump) throw this.refuse('a CREATE with a DEFINER');
      if (kind === 'definer') this.skipDefiner(lexer);
      else if (kind === 'algorithm') {
        lexer.next();
        if (!lexer.is('=')) throw this.refuse('a CREATE that is not one a snapshot writes');
        lexer.next();
        lexer.next();
      } else if (kind === 'sql') {
        this.expectWord(lexer, 'security');
        lexer.next();
        lexer.next();
      } else if (kind === 'aggregate') lexer.next();
      else throw this.refuse(describeStart(lexer.sql));
      kind = lexer.keyword();
    }
    const expected = this.expected;
    if (expected.kind === 'database') throw this.refuse(`a CREATE ${kind.toUpperCase()}`);
    const allowed =
      expected.kind === 'legacy-table'
        ? kind === 'table' || kind === 'trigger'
        : expected.kind === 'dump' || expected.kind === kind;
    if (!allowed) throw this.refuse(`a CREATE ${kind.toUpperCase()}`);
    if (expected.kind === 'dump' && this.pendingDrop?.kind !== kind)
      throw this.refuse(`a CREATE ${kind.toUpperCase()} without its DROP … IF EXISTS before it`);
    lexer.next();
    if (lexer.keyword() === 'if') {
      this.expectWord(lexer, 'not');
      this.expectWord(lexer, 'exists');
      lexer.next();
    }
    const name = this.unqualifiedName(lexer, `the ${kind} created`);
    const caseInsensitive = kind === 'procedure' || kind === 'function' || kind === 'event';
    const wanted =
      expected.kind === 'rows'
        ? undefined
        : expected.kind === 'dump'
          ? this.pendingDrop?.name
          : expected.kind === 'legacy-table' && kind === 'trigger'
            ? undefined
            : expected.name;
    if (
      wanted !== undefined &&
      (caseInsensitive ? name.toLowerCase() !== wanted.toLowerCase() : name !== wanted)
    )
      throw this.refuse(`a CREATE ${kind.toUpperCase()} of another name`);
    lexer.next();
    if (kind === 'table') {
      // Columns of its own: not `LIKE` or `AS SELECT` another table's.
      if (!lexer.is('(')) throw this.refuse('a CREATE TABLE without its columns');
      // The columns, keys and constraints, to the `)` that closes them; the options after.
      for (let depth = 1; depth > 0;) {
        if (lexer.next() === 'end') throw this.refuse('a CREATE TABLE whose columns do not end');
        if (lexer.is('(')) depth += 1;
        else if (lexer.is(')')) depth -= 1;
        else if (lexer.keyword() === 'select') throw this.refuse('a CREATE TABLE … SELECT');
      }
      lexer.next();
      this.checkTableOptions(lexer, kind, name);
    } else if (kind === 'sequence') {
      this.checkTableOptions(lexer, kind, name);
    } else if (kind === 'procedure' || kind === 'function') {
      // A stored routine has parameters; `RETURNS … SONAME` loads a shared library.
      if (!lexer.is('(')) throw this.refuse(`a CREATE ${kind.toUpperCase()} that loads a library`);
    } else if (kind === 'trigger') {
      this.checkTriggerTable(lexer);
    }
    if (expected.kind === 'dump') {
      this.pendingDrop = undefined;
      if (kind === 'table' || kind === 'sequence')
        expected.ledger.set(ledgerKey(kind, this.currentDatabase(), name), true);
    } else {
      if (kind === 'table' || expected.kind !== 'legacy-table') this.created += 1;
      if (this.created > 1) throw this.refuse('a second CREATE');
    }
    if (kind !== 'event') return undefined;
    for (; lexer.type !== 'end' && lexer.keyword() !== 'do'; lexer.next()) {
      if (lexer.keyword() === 'enable') return { start: lexer.start, end: lexer.end, event: name };
    }
    return undefined;
  }

  /**
   * The options of a CREATE TABLE (after its columns, partitions included) or of a CREATE
   * SEQUENCE, from the token at the lexer to the end: no `… SELECT`, and, unless external
   * access is allowed, nothing that keeps the rows outside the database (see the top).
   * Option words are keywords (never quoted), wherever they stand: in a versioned comment,
   * in a partition's or subpartition's definition.
   */
  private checkTableOptions(lexer: SqlLexer, kind: string, name: string): void {
    let previous = '';
    for (; lexer.type !== 'end'; lexer.next()) {
      const word = lexer.keyword();
      if (word === 'select') throw this.refuse('a CREATE TABLE … SELECT');
      if (!this.allowExternalAccess) {
        if (word === 'engine') {
          // ENGINE [=] name: a word, a quoted name or a string.
          if (lexer.next() === 'punctuation' && lexer.is('=')) lexer.next();
          if (lexer.type === 'word' || lexer.type === 'identifier' || lexer.type === 'string') {
            const engine = (lexer.type === 'string' ? lexer.stringValue() : lexer.name())
              .trim()
              .toLowerCase();
            if (!LOCAL_ENGINES.has(engine))
              throw this.external(
                kind,
                name,
                EXTERNAL_ENGINES.has(engine)
                  ? `ENGINE=${engine.toUpperCase()}`
                  : 'an ENGINE not known here to keep its rows in the database',
              );
          }
        } else if (word === 'union') {
          throw this.external(kind, name, 'UNION (a MERGE table over other tables)');
        } else if (word === 'connection') {
          if (lexer.peekIs('=') || lexer.peekType() === 'string')
            throw this.external(kind, name, 'CONNECTION');
        } else if (word === 'directory' && (previous === 'data' || previous === 'index')) {
          throw this.external(kind, name, `${previous.toUpperCase()} DIRECTORY`);
        }
      }
      previous = lexer.keyword();
    }
  }

  private external(kind: string, name: string, option: string): ExternalAccessError {
    return new ExternalAccessError(
      `${kind} ${quote(name)} has ${option}, which reaches outside the database`,
    );
  }

  // … {BEFORE|AFTER} {INSERT|UPDATE|DELETE} ON table
  private checkTriggerTable(lexer: SqlLexer): void {
    if (lexer.keyword() !== 'before' && lexer.keyword() !== 'after')
      throw this.refuse('a CREATE TRIGGER without BEFORE or AFTER');
    lexer.next();
    if (!['insert', 'update', 'delete'].includes(lexer.keyword()))
      throw this.refuse('a CREATE TRIGGER without its event');
    this.expectWord(lexer, 'on');
    lexer.next();
    const table = this.unqualifiedName(lexer, 'the table of a trigger');
    if (this.expected.kind === 'dump' && !this.dumpCreated('table', table))
      throw this.refuse('a trigger on a table the dump did not create');
    const wanted =
      this.expected.kind === 'trigger'
        ? this.expected.table
        : this.expected.kind === 'legacy-table'
          ? this.expected.name
          : undefined;
    if (wanted !== undefined && table !== wanted) throw this.refuse('a trigger on another table');
  }

  private skipDefiner(lexer: SqlLexer): void {
    lexer.next();
    if (!lexer.is('=')) throw this.refuse('a DEFINER without `=`');
    lexer.next();
    if (lexer.keyword() === 'current_user') {
      if (lexer.next() === 'punctuation' && lexer.is('(')) {
        lexer.next();
        if (!lexer.is(')')) throw this.refuse('a DEFINER that is not an account');
        lexer.next();
      }
      return;
    }
    if (lexer.type !== 'identifier' && lexer.type !== 'word' && lexer.type !== 'string')
      throw this.refuse('a DEFINER that is not an account');
    // `user`@`host`: the host lexes as a user variable, or as `@` and a name.
    if (lexer.next() === 'user-variable') lexer.next();
    else if (lexer.is('@')) {
      lexer.next();
      lexer.next();
    }
  }

  // INSERT INTO table [(columns)] VALUES (literals)[, (literals)]…
  private checkInsert(lexer: SqlLexer): number {
    const expected = this.expected;
    if (expected.kind === 'dump') {
      this.expectWord(lexer, 'into');
      lexer.next();
      if (!this.dumpCreated('table', this.unqualifiedName(lexer, 'the table of an INSERT')))
        throw this.refuse('an INSERT into a table the dump did not create');
    } else {
      if (expected.kind !== 'rows' && expected.kind !== 'table' && expected.kind !== 'legacy-table')
        throw this.refuse(describeStart(lexer.sql));
      const table = expected.kind === 'rows' ? expected.table : expected.name;
      this.expectWord(lexer, 'into');
      lexer.next();
      if (this.unqualifiedName(lexer, 'the table of an INSERT') !== table)
        throw this.refuse('an INSERT into another table');
    }
    lexer.next();
    if (lexer.is('(')) {
      for (;;) {
        lexer.next();
        if (lexer.type !== 'identifier' && lexer.type !== 'word')
          throw this.refuse('an INSERT whose column list is not names');
        lexer.next();
        if (lexer.is(')')) break;
        if (!lexer.is(',')) throw this.refuse('an INSERT whose column list is not names');
      }
      lexer.next();
    }
    if (lexer.keyword() !== 'values') throw this.refuse('an INSERT other than INSERT … VALUES');
    const valuesAt = lexer.end;
    const rows = this.checkValues(lexer);
    // Only now, with the whole statement accepted: a later INSERT may start from here. Not
    // after an executable comment, whose end the shortcut would not see.
    const prefix = lexer.sql.slice(0, valuesAt);
    this.insertPrefix = prefix.includes('/*') ? undefined : prefix;
    return rows;
  }

  /** `(literals)[, (literals)]…` to the end of the statement; the number of rows. */
  private checkValues(lexer: SqlLexer): number {
    let rows = 0;
    for (;;) {
      lexer.next();
      if (!lexer.is('(')) throw this.refuse('an INSERT whose rows are not value lists');
      for (;;) {
        this.literal(lexer);
        lexer.next();
        if (lexer.is(')')) break;
        if (!lexer.is(',')) throw this.refuse('an INSERT with something other than values');
      }
      rows += 1;
      if (lexer.next() === 'end') {
        // Rows of consecutive INSERTs are joined into one statement: a comment in one would
        // swallow the rows after it.
        if (lexer.sawComment) throw this.refuse('an INSERT with a comment');
        return rows;
      }
      if (!lexer.is(',')) throw this.refuse('an INSERT with more than rows (ON DUPLICATE, …)');
    }
  }

  /** Moves onto one literal value: a number, string, hex or bit value, NULL, TRUE or FALSE. */
  private literal(lexer: SqlLexer): void {
    let type = lexer.next();
    while (type === 'punctuation' && (lexer.is('-') || lexer.is('+'))) {
      type = lexer.next();
      if (type !== 'number') throw this.refuse('an INSERT with an expression for a value');
    }
    switch (type) {
      case 'number':
      case 'string':
      case 'hex':
      case 'bit':
        return;
      case 'word': {
        const word = lexer.keyword();
        if (word === 'null' || word === 'true' || word === 'false') return;
        // A character set introducer: _binary '…', _utf8mb4 0x….
        if (/^_[a-z0-9]+$/.test(word)) {
          const next = lexer.next();
          if (next === 'string' || next === 'hex' || next === 'bit') return;
        }
        break;
      }
      default:
        break;
    }
    throw this.refuse('an INSERT with an expression for a value');
  }

  // START TRANSACTION after the CREATE TABLE, then COMMIT: once each, bare, in a table file.
  private checkTransaction(lexer: SqlLexer): 'open' | 'committed' {
    if (this.expected.kind !== 'table') throw this.refuse(describeStart(lexer.sql));
    if (lexer.keyword() === 'start') {
      this.expectWord(lexer, 'transaction');
      this.expectEnd(lexer);
      if (this.created === 0 || this.transaction !== 'none')
        throw this.refuse('a START TRANSACTION other than the one after the CREATE TABLE');
      this.transaction = 'open';
      return this.transaction;
    }
    this.expectEnd(lexer);
    if (this.transaction !== 'open') throw this.refuse('a COMMIT without its START TRANSACTION');
    this.transaction = 'committed';
    return this.transaction;
  }

  // DO SETVAL(seq, next, 0[, round]): after the CREATE SEQUENCE, of that sequence, once.
  private checkSequenceState(lexer: SqlLexer): void {
    const expected = this.expected;
    if (expected.kind !== 'sequence' && expected.kind !== 'dump')
      throw this.refuse(describeStart(lexer.sql));
    lexer.next();
    if (lexer.keyword() !== 'setval') throw this.refuse('a DO other than SETVAL');
    lexer.next();
    if (!lexer.is('(')) throw this.refuse('a SETVAL without its arguments');
    lexer.next();
    const sequence = this.unqualifiedName(lexer, 'the sequence of SETVAL');
    if (expected.kind === 'dump') {
      // Once for each sequence the dump created, in the file that created it.
      const key = ledgerKey('sequence', this.currentDatabase(), sequence);
      if (!expected.ledger.has(key) || this.statesSet.has(key))
        throw this.refuse('a SETVAL other than the one after a CREATE SEQUENCE of the dump');
      this.statesSet.add(key);
    } else if (sequence !== expected.name) throw this.refuse('a SETVAL of another sequence');
    const values: string[] = [];
    for (;;) {
      lexer.next();
      if (lexer.is(')')) break;
      if (!lexer.is(',')) throw this.refuse('a SETVAL with something other than values');
      let sign = '';
      if (lexer.next() === 'punctuation' && lexer.is('-')) {
        sign = '-';
        lexer.next();
      }
      if (lexer.type !== 'number' || !/^\d+$/.test(lexer.text()))
        throw this.refuse('a SETVAL with something other than integers');
      values.push(sign + lexer.text());
    }
    this.expectEnd(lexer);
    // The next value, is_used 0 (that value is handed out next), and the round if any.
    const [, isUsed, round] = values;
    if (values.length < 2 || values.length > 3 || isUsed !== '0' || round?.startsWith('-'))
      throw this.refuse('a SETVAL other than the one a snapshot writes');
    if (expected.kind === 'dump') return;
    if (this.created === 0 || this.stateSet)
      throw this.refuse('a SETVAL other than the one after the CREATE SEQUENCE');
    this.stateSet = true;
  }

  // ALTER DATABASE CHARACTER SET name COLLATE name: no database name (the current one), nothing more.
  private checkDatabaseDefaults(lexer: SqlLexer): void {
    this.expectWord(lexer, 'database');
    this.expectWord(lexer, 'character');
    this.expectWord(lexer, 'set');
    lexer.next();
    this.nameValue(lexer, 'a CHARACTER SET that is not a character set name');
    this.expectWord(lexer, 'collate');
    lexer.next();
    this.nameValue(lexer, 'a COLLATE that is not a collation name');
    this.expectEnd(lexer);
    if (this.expected.kind === 'dump') {
      this.currentDatabase();
      return;
    }
    this.created += 1;
    if (this.created > 1) throw this.refuse('a second ALTER DATABASE');
  }

  /** A bare character set or collation name (a word, not a string or an expression). */
  private nameValue(lexer: SqlLexer, reason: string): void {
    if (lexer.type !== 'word' || !/^[a-z0-9_]+$/i.test(lexer.text())) throw this.refuse(reason);
  }

  // mysqldump's DROP TABLE IF EXISTS `t`, LOCK TABLES `t` WRITE, UNLOCK TABLES, ALTER TABLE `t` DISABLE KEYS.
  private checkLegacyDrop(lexer: SqlLexer): void {
    if (this.expected.kind !== 'legacy-table') throw this.refuse(describeStart(lexer.sql));
    this.expectWord(lexer, 'table');
    this.expectWord(lexer, 'if');
    this.expectWord(lexer, 'exists');
    lexer.next();
    if (this.unqualifiedName(lexer, 'the table dropped') !== this.expected.name)
      throw this.refuse('a DROP of another table');
    this.expectEnd(lexer);
  }

  private checkLegacyLock(lexer: SqlLexer): void {
    if (this.expected.kind !== 'legacy-table') throw this.refuse(describeStart(lexer.sql));
    const unlock = lexer.keyword() === 'unlock';
    lexer.next();
    if (lexer.keyword() !== 'tables' && lexer.keyword() !== 'table') throw this.refuse('a LOCK');
    if (unlock) {
      this.expectEnd(lexer);
      return;
    }
    lexer.next();
    if (this.unqualifiedName(lexer, 'the table locked') !== this.expected.name)
      throw this.refuse('a LOCK of another table');
    this.expectWord(lexer, 'write');
    this.expectEnd(lexer);
  }

  private checkLegacyKeys(lexer: SqlLexer): void {
    if (this.expected.kind !== 'legacy-table') throw this.refuse(describeStart(lexer.sql));
    this.expectWord(lexer, 'table');
    lexer.next();
    if (this.unqualifiedName(lexer, 'the table altered') !== this.expected.name)
      throw this.refuse('an ALTER of another table');
    lexer.next();
    if (lexer.keyword() !== 'disable' && lexer.keyword() !== 'enable')
      throw this.refuse('an ALTER TABLE other than DISABLE/ENABLE KEYS');
    this.expectWord(lexer, 'keys');
    this.expectEnd(lexer);
  }

  /** The name at the lexer; refuses `db.name`, which reaches another database. */
  private unqualifiedName(lexer: SqlLexer, what: string): string {
    if (lexer.type !== 'identifier' && lexer.type !== 'word')
      throw this.refuse(`${what} is not a name`);
    const name = lexer.name();
    // Look at what follows without moving: a dot after the name qualifies it.
    if (lexer.peekIs('.')) throw this.refuse(`${what} is in another database`);
    return name;
  }

  private expectWord(lexer: SqlLexer, word: string): void {
    lexer.next();
    if (lexer.keyword() !== word)
      throw this.refuse(
        `a statement without ${word.toUpperCase()} where ${this.expected.kind === 'dump' ? "a dump's" : "a snapshot's"} has it`,
      );
  }

  private expectEnd(lexer: SqlLexer): void {
    if (lexer.next() !== 'end') throw this.refuse('a statement that goes on past its end');
  }
}

/** True for a client character set a file may choose (every ASCII byte is that character). */
export function isAsciiSafeCharset(value: string | undefined): boolean {
  return value !== undefined && ASCII_SAFE_CHARSETS.has(value.toLowerCase());
}

/** True for `utf8`, `utf8mb3` and `utf8mb4`: a UTF-8 file's text reaches the server as written. */
export function isUtf8Charset(value: string): boolean {
  return UTF8_CHARSETS.has(value.toLowerCase());
}

/** `@name`, `@'name'`, `` @`name` `` → `name`, lower-cased (user variables ignore case). */
function userVariableName(text: string): string {
  const body = text.slice(1);
  const quote = body[0];
  const name =
    quote === "'" || quote === '"' || quote === '`'
      ? body
          .slice(1, -1)
          .split(quote + quote)
          .join(quote)
      : body;
  return name.toLowerCase();
}

/** `@@x`, `@@session.x`, `@@local.x` → `x`; undefined for `@@global.x`. */
function sessionVariableName(text: string): string | undefined {
  const parts = text.slice(2).toLowerCase().split('.');
  if (parts.length === 1) return parts[0];
  if (parts.length === 2 && (parts[0] === 'session' || parts[0] === 'local')) return parts[1];
  return undefined;
}

/** The first words of a statement, for an error: keywords only, never a value. */
function describeStart(sql: string): string {
  const words = /^\s*(?:\/\*M?!\d*\s*)?([A-Za-z]+)(?:\s+([A-Za-z]+))?/.exec(sql);
  if (!words?.[1]) return 'a statement';
  return `\`${[words[1], words[2]].filter(Boolean).join(' ').toUpperCase()}\``;
}

function describeExpected(expected: FileExpectation): string {
  switch (expected.kind) {
    case 'rows':
      return `the rows of table ${quote(expected.table)}`;
    case 'legacy-table':
      return `table ${quote(expected.name)} (mysqldump)`;
    case 'database':
      return 'the database defaults';
    case 'dump':
      return 'a dump';
    default:
      return `${expected.kind} ${quote(expected.name)}`;
  }
}

function quote(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}
