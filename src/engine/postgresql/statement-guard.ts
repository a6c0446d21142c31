/**
 * What `restore`, `verify` and the reader of user-data copies will send to a PostgreSQL
 * server from a file: only the statements a snapshot writes for the object the file holds,
 * checked as the server will read them (standard_conforming_strings on).
 *
 * - every file: `SET` (or `SELECT pg_catalog.set_config(…, false)`) of session settings a
 *   file needs, with plain values (client_encoding only UTF8, standard_conforming_strings only
 *   on, search_path only empty or pg_catalog);
 * - a table file: one `CREATE [UNLOGGED] TABLE` of that table (its own columns, or a
 *   partition of another), `INSERT INTO` that table with literal values only, one
 *   `BEGIN`/`START TRANSACTION` after the CREATE and its `COMMIT`; after the CREATE:
 *   `ALTER TABLE` that table `ADD CONSTRAINT` (not a foreign key), `ALTER COLUMN … SET
 *   DEFAULT`, `ENABLE`/`FORCE ROW LEVEL SECURITY` (snapshots before their row-level
 *   security file had it there); `CREATE INDEX` on it; `ALTER SEQUENCE …
 *   OWNED BY` one of its columns; `COMMENT ON` it, its columns, constraints and indexes;
 *   `SELECT pg_catalog.setval` of an identity sequence its CREATE names, integer literals;
 * - a user-data file: `INSERT INTO` its table, literal values only;
 * - a foreign keys file: `ALTER TABLE` that table `ADD CONSTRAINT … FOREIGN KEY`, comments;
 * - a row-level security file: `ALTER TABLE` that table `ENABLE`/`FORCE ROW LEVEL SECURITY`;
 * - any other object's file: one `CREATE` of that object (a trigger or a policy on its
 *   table; a materialized view `WITH NO DATA`, so that its query does not run), its comments; a sequence's file one
 *   `SELECT pg_catalog.setval` of it; a trigger's file `ALTER TABLE … DISABLE/ENABLE … TRIGGER`
 *   of it; a materialized view's file `CREATE INDEX` on it.
 *
 * What reaches outside the database is refused with {@link ExternalAccessError} unless
 * {@link CheckerOptions.allowExternalAccess}: a `CREATE EXTENSION` of an extension not known
 * here to stay inside the database (known ones that do not: adminpack, dblink, file_fdw,
 * postgres_fdw, any `…_fdw`, http, untrusted languages such as plpython3u or plperlu), and a
 * function or procedure in a language other than the trusted ones (sql, plpgsql, plperl,
 * pltcl, …): `LANGUAGE c` loads any shared library the file names, `internal` binds any
 * function of the server, and an untrusted language runs code as the server's account. A
 * CHECK or DEFAULT that calls such a function runs it while the rows load, and so a
 * statement that calls one of the server's file or network functions (`lo_import`,
 * `pg_read_file`, `dblink…`) outside a routine's body is refused too.
 *
 * Every statement is one statement: a `;` outside quotes is refused, but in the body of a
 * `BEGIN ATOMIC … END` function. Names are schema-qualified and compared with the file's.
 * A file that breaks a rule is refused before its statement runs; the error names the rule,
 * never a value.
 */
import { ExternalAccessError, UnexpectedStatementError } from '../../errors.js';
import type {
  CheckedStatement,
  CheckerOptions,
  FileExpectation,
  StatementChecker,
} from '../engine.js';
import { splitQualifiedName } from './definitions.js';
import { PgLexError, PgLexer } from './pg-lexer.js';

/** What a PostgreSQL file is for. */
export type PgFileExpectation = FileExpectation;

/**
 * The session state every file starts from, and the checker assumes
 * (the script format's `sessionReset`): strings read with standard_conforming_strings on,
 * UTF-8, no search_path (every name is qualified), function bodies not checked (a function
 * may name a table created later), fixed date and number forms.
 */
export const RESET_SETTINGS: readonly (readonly [string, string])[] = [
  ['client_encoding', 'UTF8'],
  ['standard_conforming_strings', 'on'],
  ['search_path', ''],
  ['check_function_bodies', 'false'],
  ['client_min_messages', 'warning'],
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, MDY'],
  ['IntervalStyle', 'postgres'],
  ['lc_monetary', 'C'],
  ['extra_float_digits', '3'],
  ['row_security', 'off'],
];

/** Session settings a file may set, with the values each may take (undefined: any plain value). */
const SETTINGS: ReadonlyMap<string, ((value: string) => boolean) | undefined> = new Map([
  ['client_encoding', (value: string) => /^(?:utf-?8|unicode)$/i.test(value)],
  ['names', (value: string) => /^(?:utf-?8|unicode)$/i.test(value)],
  ['standard_conforming_strings', (value: string) => /^(?:on|true|1)$/i.test(value)],
  ['search_path', (value: string) => value === '' || value.toLowerCase() === 'pg_catalog'],
  ['check_function_bodies', undefined],
  ['client_min_messages', undefined],
  ['statement_timeout', undefined],
  ['lock_timeout', undefined],
  ['idle_in_transaction_session_timeout', undefined],
  ['xmloption', undefined],
  ['row_security', undefined],
  ['default_tablespace', (value: string) => value === ''],
  ['default_table_access_method', (value: string) => value === 'heap'],
  ['timezone', undefined],
  ['datestyle', undefined],
  ['intervalstyle', undefined],
  ['lc_monetary', (value: string) => /^(?:c|posix)$/i.test(value)],
  ['extra_float_digits', undefined],
  ['bytea_output', undefined],
  ['synchronous_commit', undefined],
  ['maintenance_work_mem', undefined],
  ['work_mem', undefined],
]);

/**
 * Extensions that add nothing reaching outside the database (files, the network, the
 * operating system): PostgreSQL's own contrib modules but those that do, and common ones.
 */
const CONTAINED_EXTENSIONS = new Set([
  'plpgsql',
  'plperl',
  'pltcl',
  'plv8',
  'amcheck',
  'autoinc',
  'bloom',
  'btree_gin',
  'btree_gist',
  'citext',
  'cube',
  'dict_int',
  'dict_xsyn',
  'earthdistance',
  'fuzzystrmatch',
  'hstore',
  'hstore_plperl',
  'insert_username',
  'intagg',
  'intarray',
  'isn',
  'jsonb_plperl',
  'lo',
  'ltree',
  'moddatetime',
  'pageinspect',
  'pg_buffercache',
  'pg_freespacemap',
  'pg_prewarm',
  'pg_stat_statements',
  'pg_surgery',
  'pg_trgm',
  'pg_visibility',
  'pg_walinspect',
  'pgcrypto',
  'pgrowlocks',
  'pgstattuple',
  'refint',
  'seg',
  'sslinfo',
  'tablefunc',
  'tcn',
  'tsm_system_rows',
  'tsm_system_time',
  'unaccent',
  'uuid-ossp',
  'postgis',
  'postgis_topology',
  'address_standardizer',
  'address_standardizer_data_us',
  'pgrouting',
  'vector',
  'timescaledb',
  'pg_partman',
  'hypopg',
  'ip4r',
  'rum',
  'semver',
  'unit',
  'prefix',
  'periods',
]);

/**
 * Extensions known to reach outside the database (beside any `…_fdw` and untrusted language),
 * named as such in errors.
 */
const EXTERNAL_EXTENSIONS = new Set([
  'adminpack',
  'dblink',
  'http',
  'pgsql_http',
  'pg_net',
  'aws_s3',
  'aws_lambda',
  'aws_commons',
  'xml2',
  'plsh',
  'plr',
]);

/** Trusted procedural languages: a routine in them runs with no access outside the database. */
const TRUSTED_LANGUAGES = new Set([
  'sql',
  'plpgsql',
  'plperl',
  'pltcl',
  'plv8',
  'pljava',
  'pllua',
  'plrust',
]);

/**
 * Server functions that read or write the server's files or reach other servers (the core's
 * for superusers, adminpack's, dblink's): refused in a CREATE or ALTER, where a CHECK or
 * DEFAULT would run them while the rows load.
 */
const SERVER_FILE_FUNCTIONS =
  /^(?:lo_import|lo_export|pg_read_file|pg_read_binary_file|pg_stat_file|pg_ls_\w+|pg_file_\w+|pg_logdir_ls|dblink\w*)$/;

/** Object kinds of a CREATE, as the words after CREATE name them. */
const CREATE_KINDS = new Set([
  'table',
  'sequence',
  'view',
  'materialized',
  'function',
  'procedure',
  'trigger',
  'index',
  'type',
  'domain',
  'schema',
  'extension',
  'policy',
]);

/** Words a type name of a cast may hold after its first (`double precision`, `with time zone`). */
const TYPE_WORDS = new Set([
  'varying',
  'precision',
  'with',
  'without',
  'time',
  'zone',
  'day',
  'hour',
  'minute',
  'second',
  'year',
  'month',
  'to',
]);

/** Object kinds of COMMENT ON. */
const COMMENT_TARGETS = new Set([
  'table',
  'column',
  'constraint',
  'index',
  'sequence',
  'view',
  'materialized',
  'function',
  'procedure',
  'trigger',
  'policy',
  'type',
  'domain',
  'schema',
  'extension',
]);

export class PgStatementGuard implements StatementChecker {
  private readonly expected: PgFileExpectation;
  private readonly allowExternalAccess: boolean;
  private created = 0;
  private transaction: 'none' | 'open' | 'committed' = 'none';
  private stateSet = false;
  /** Identity sequences the table's CREATE names (`schema.name`): their state may be set. */
  private readonly identitySequences = new Set<string>();
  /** See the MariaDB guard: rows of one table share the text up to VALUES. */
  private insertPrefix: string | undefined;
  /** Settings the session holds, by lower-case name, as the text that set them. */
  private readonly settings = new Map<string, string>(
    RESET_SETTINGS.map(([name, value]) => [name.toLowerCase(), value]),
  );

  /** Who writes such files, for errors: `a snapshot`, or `a dump` (see dump-guard.ts). */
  private readonly writer: string;

  constructor(expected: PgFileExpectation, writer = 'a snapshot', options: CheckerOptions = {}) {
    this.expected = expected;
    this.writer = writer;
    this.allowExternalAccess = options.allowExternalAccess === true;
  }

  /** Whether the table's CREATE names `sequence` (`schema.name`) as an identity sequence. */
  hasIdentitySequence(sequence: string): boolean {
    return this.identitySequences.has(sequence);
  }

  check(sql: string): CheckedStatement {
    try {
      const prefix = this.insertPrefix;
      if (
        prefix !== undefined &&
        sql.startsWith(prefix) &&
        /^[ (]/.test(sql.charAt(prefix.length))
      ) {
        const rows = this.checkValues(new PgLexer(sql, prefix.length));
        return { kind: 'insert', rows, valuesAt: prefix.length };
      }
      const lexer = new PgLexer(sql);
      lexer.next();
      switch (lexer.keyword()) {
        case 'set':
          return this.settingResult(this.checkSet(lexer));
        case 'select':
          return this.checkSelect(lexer);
        case 'create':
          return { kind: this.checkCreate(lexer) ? 'create' : 'keys', rows: 0 };
        case 'insert': {
          const rows = this.checkInsert(lexer);
          return { kind: 'insert', rows, valuesAt: this.insertPrefix?.length };
        }
        case 'alter':
          this.checkAlter(lexer);
          return { kind: 'keys', rows: 0 };
        case 'comment':
          this.checkComment(lexer);
          return { kind: 'keys', rows: 0 };
        case 'begin':
        case 'start':
        case 'commit':
          this.checkTransaction(lexer);
          return { kind: 'transaction', rows: 0 };
        default:
          throw this.refuse(describeStart(sql));
      }
    } catch (error) {
      if (error instanceof PgLexError)
        throw new UnexpectedStatementError(
          `the statement cannot be read safely (${error.message})`,
        );
      throw error;
    }
  }

  finish(): void {
    if (this.transaction === 'open')
      throw new UnexpectedStatementError(
        `the file opens a transaction and does not commit it, unlike a snapshot's ${describeExpected(this.expected)}`,
      );
    if (this.expected.kind === 'rows') return;
    if (this.created === 0)
      throw new UnexpectedStatementError(
        this.expected.kind === 'foreign-keys'
          ? `the file holds no foreign key or check of ${describeExpected(this.expected)}`
          : this.expected.kind === 'row-security'
            ? `the file holds no ENABLE or FORCE ROW LEVEL SECURITY of ${describeExpected(this.expected)}`
            : `the file holds no CREATE of ${describeExpected(this.expected)}`,
      );
  }

  private refuse(reason: string): UnexpectedStatementError {
    return new UnexpectedStatementError(
      this.expected.kind === 'dump'
        ? `${reason}: not a statement ${this.writer} writes`
        : `${reason}: not a statement ${this.writer} writes for ${describeExpected(this.expected)}`,
    );
  }

  /** The file's table, `schema.name`, for the kinds that have one. */
  private tableOfFile(): string | undefined {
    const expected = this.expected;
    if (expected.kind === 'rows') return expected.table;
    if (expected.kind === 'table') return expected.name;
    if (expected.kind === 'foreign-keys' || expected.kind === 'row-security') return expected.name;
    if (expected.kind === 'trigger' || expected.kind === 'policy') return expected.table;
    return undefined;
  }

  private expectedName(): string {
    const expected = this.expected;
    return 'name' in expected ? expected.name : '';
  }

  /**
   * A trigger's or policy's own name: listings name it `schema.table.name` (its table is
   * `schema.table`); a name without its table in it, `schema.name`.
   */
  private memberName(): string {
    const own = this.expectedName();
    const table = this.tableOfFile();
    if (table !== undefined && own.startsWith(`${table}.`)) return own.slice(table.length + 1);
    return splitQualifiedName(own).name;
  }

  // SET [SESSION] name {=|TO} value[, value…] | SET TIME ZONE value | SET NAMES value
  private checkSet(lexer: PgLexer): { name: string; values: readonly string[]; local: boolean } {
    this.insertPrefix = undefined;
    lexer.next();
    const local = lexer.keyword() === 'local';
    if (lexer.keyword() === 'session' || local) lexer.next();
    let name = lexer.type === 'word' || lexer.type === 'identifier' ? lexer.name() : '';
    // SET TIME ZONE value, SET NAMES value: no `=`.
    const bare = name === 'time' || name === 'names';
    if (name === 'time') {
      this.expectWord(lexer, 'zone');
      name = 'timezone';
    }
    if (!SETTINGS.has(name)) throw this.refuse(`a SET of ${name || 'something'}`);
    if (!bare) {
      lexer.next();
      if (!lexer.is('=') && lexer.keyword() !== 'to') throw this.refuse('a SET without `=`');
    }
    const values: string[] = [];
    for (;;) {
      lexer.next();
      values.push(this.settingValue(lexer, name));
      lexer.next();
      if (lexer.type === 'end') break;
      if (!lexer.is(',')) throw this.refuse(`SET ${name} to something other than a value`);
    }
    this.checkSetting(name, values);
    return { name, values, local };
  }

  /**
   * A SET's result: redundant when the session already holds that setting as the same text
   * (set by the session reset, or by the file's last SET of it). A SET LOCAL lasts until the
   * transaction ends: its setting is unknown from then on.
   */
  private settingResult(setting: {
    name: string;
    values: readonly string[];
    local: boolean;
  }): CheckedStatement {
    const name = setting.name === 'names' ? 'client_encoding' : setting.name;
    const text = setting.values.join(', ');
    if (setting.local) {
      this.settings.delete(name);
      return { kind: 'set', rows: 0 };
    }
    const redundant = this.settings.get(name) === text;
    this.settings.set(name, text);
    return redundant ? { kind: 'set', rows: 0, redundant } : { kind: 'set', rows: 0 };
  }

  private settingValue(lexer: PgLexer, name: string): string {
    if (lexer.type === 'string') {
      const value = lexer.stringValue();
      if (value !== undefined) return value;
    } else if (lexer.type === 'number' || lexer.type === 'word' || lexer.type === 'identifier') {
      return lexer.type === 'number' ? lexer.text() : lexer.name();
    } else if (lexer.is('-') && lexer.next() === 'number') return `-${lexer.text()}`;
    throw this.refuse(`SET ${name} to something other than a value`);
  }

  private checkSetting(name: string, values: readonly string[]): void {
    const allowed = SETTINGS.get(name);
    if (values.length > 1 && name !== 'datestyle' && name !== 'search_path')
      throw this.refuse(`SET ${name} to a list`);
    if (allowed !== undefined && !values.every(allowed))
      throw this.refuse(`SET ${name} to a value a file may not choose`);
  }

  // SELECT pg_catalog.set_config('name', 'value', false) | SELECT pg_catalog.setval('seq', n, bool)
  private checkSelect(lexer: PgLexer): CheckedStatement {
    lexer.next();
    let function_ = lexer.type === 'word' || lexer.type === 'identifier' ? lexer.name() : '';
    if (function_ === 'pg_catalog') {
      lexer.next();
      if (!lexer.is('.')) throw this.refuse('a SELECT');
      lexer.next();
      function_ = lexer.type === 'word' || lexer.type === 'identifier' ? lexer.name() : '';
    }
    if (function_ !== 'set_config' && function_ !== 'setval') throw this.refuse('a SELECT');
    lexer.next();
    if (!lexer.is('(')) throw this.refuse(`a ${function_} without its arguments`);
    const args: { type: string; text: string; value: string | undefined }[] = [];
    for (;;) {
      let sign = '';
      if (lexer.next() === 'punctuation' && lexer.is('-')) {
        sign = '-';
        lexer.next();
      }
      args.push({ type: lexer.type, text: sign + lexer.text(), value: lexer.stringValue() });
      lexer.next();
      if (lexer.is(')')) break;
      if (!lexer.is(',')) throw this.refuse(`a ${function_} with something other than values`);
    }
    this.expectEnd(lexer);
    const [first, second, third] = args;
    if (function_ === 'set_config') {
      if (
        args.length !== 3 ||
        first?.value === undefined ||
        second?.value === undefined ||
        third?.text.toLowerCase() !== 'false'
      )
        throw this.refuse('a set_config other than one of the session');
      const name = first.value.toLowerCase();
      if (!SETTINGS.has(name)) throw this.refuse(`a set_config of ${name}`);
      const values = name === 'search_path' ? [second.value.trim()] : [second.value];
      this.checkSetting(name, values);
      this.insertPrefix = undefined;
      return this.settingResult({ name, values, local: false });
    }
    // setval('schema.sequence', n, true|false): the next value is n (+ increment when true).
    if (
      args.length !== 3 ||
      first?.value === undefined ||
      second?.type !== 'number' ||
      !/^-?\d+$/.test(second.text) ||
      !/^(?:true|false)$/i.test(third?.text ?? '')
    )
      throw this.refuse('a setval other than the one a snapshot writes');
    const sequence = parseRegclass(first.value);
    if (sequence === undefined) throw this.refuse('a setval of something other than a name');
    const expected = this.expected;
    if (this.created === 0) throw this.refuse('a setval before the CREATE');
    if (expected.kind === 'sequence') {
      if (sequence !== expected.name) throw this.refuse('a setval of another sequence');
      if (this.stateSet) throw this.refuse('a second setval');
      this.stateSet = true;
    } else if (expected.kind !== 'table' || !this.identitySequences.has(sequence))
      throw this.refuse('a setval of a sequence that is not the file’s');
    return { kind: 'state', rows: 0 };
  }

  /**
   * CREATE of the file's object (true) or of an index on the file's table or materialized
   * view (false).
   */
  private checkCreate(lexer: PgLexer): boolean {
    lexer.next();
    let orReplace = false;
    let unique = false;
    let constraint = false;
    if (lexer.keyword() === 'or') {
      this.expectWord(lexer, 'replace');
      orReplace = true;
      lexer.next();
    }
    if (lexer.keyword() === 'unlogged') lexer.next();
    if (lexer.keyword() === 'unique') {
      unique = true;
      lexer.next();
    }
    if (lexer.keyword() === 'constraint') {
      constraint = true;
      lexer.next();
    }
    let kind = lexer.keyword();
    if (!CREATE_KINDS.has(kind)) throw this.refuse(describeStart(lexer.sql));
    if (kind === 'materialized') {
      this.expectWord(lexer, 'view');
      kind = 'materialized-view';
    }
    if (orReplace && kind !== 'function' && kind !== 'procedure')
      throw this.refuse(`a CREATE OR REPLACE ${kind.toUpperCase()}`);
    if (unique && kind !== 'index') throw this.refuse('a CREATE UNIQUE other than an index');
    if (constraint && kind !== 'trigger') throw this.refuse('a CREATE CONSTRAINT');
    if (kind === 'index') {
      this.checkCreateIndex(lexer);
      return false;
    }
    if (this.expected.kind !== kind) throw this.refuse(`a CREATE ${kind.toUpperCase()}`);
    const own = this.expectedName();
    this.created += 1;
    if (this.created > 1) throw this.refuse('a second CREATE');
    lexer.next();
    if (lexer.keyword() === 'if') {
      if (kind !== 'schema' && kind !== 'extension')
        throw this.refuse(`a CREATE ${kind.toUpperCase()} IF NOT EXISTS`);
      this.expectWord(lexer, 'not');
      this.expectWord(lexer, 'exists');
      lexer.next();
    }
    switch (kind) {
      case 'schema':
      case 'extension': {
        if (this.plainName(lexer, `the ${kind} created`) !== own)
          throw this.refuse(`a CREATE ${kind.toUpperCase()} of another name`);
        if (kind === 'extension') this.checkExtension(own);
        lexer.next();
        if (kind === 'extension' && lexer.keyword() === 'with') {
          this.expectWord(lexer, 'schema');
          lexer.next();
          this.plainName(lexer, 'the schema of an extension');
          lexer.next();
        }
        if (lexer.type !== 'end') throw this.refuse(`a CREATE ${kind.toUpperCase()} with more`);
        return true;
      }
      case 'function':
      case 'procedure': {
        const name = this.qualifiedName(lexer, `the ${kind} created`);
        const wanted = own.slice(0, Math.max(0, own.indexOf('(')));
        if (name !== wanted) throw this.refuse(`a CREATE ${kind.toUpperCase()} of another name`);
        lexer.next();
        if (!lexer.is('(')) throw this.refuse(`a CREATE ${kind.toUpperCase()} without arguments`);
        this.checkRoutineRest(lexer);
        return true;
      }
      case 'trigger':
      case 'policy': {
        const name = this.plainName(lexer, `the ${kind} created`);
        if (name !== this.memberName())
          throw this.refuse(`a CREATE ${kind.toUpperCase()} of another name`);
        // The table follows the first ON outside parentheses.
        let depth = 0;
        for (lexer.next(); !(depth === 0 && lexer.keyword() === 'on'); lexer.next()) {
          if (lexer.type === 'end') throw this.refuse(`a CREATE ${kind.toUpperCase()} without ON`);
          depth += lexer.is('(') ? 1 : lexer.is(')') ? -1 : 0;
        }
        lexer.next();
        const table = this.qualifiedName(lexer, `the table of a ${kind}`);
        if (table !== this.tableOfFile()) throw this.refuse(`a ${kind} on another table`);
        this.checkRest(lexer);
        return true;
      }
      default:
        break;
    }
    if (this.qualifiedName(lexer, `the ${kind} created`) !== own)
      throw this.refuse(`a CREATE ${kind.toUpperCase().replace('-', ' ')} of another name`);
    lexer.next();
    if (kind === 'table') {
      // Columns of its own, a partition of another table, or a typed table (`OF type`, its
      // columns' options in parentheses when it has some): not `AS SELECT`.
      if (lexer.keyword() === 'partition') this.expectWord(lexer, 'of');
      else if (lexer.keyword() === 'of') {
        lexer.next();
        this.qualifiedName(lexer, 'the type of a typed table');
      } else if (!lexer.is('(')) throw this.refuse('a CREATE TABLE without its columns');
      this.checkRest(lexer, (at) => {
        // `… AS IDENTITY (SEQUENCE NAME schema.name …)`: that sequence's state may be set.
        if (at.keyword() !== 'sequence') return;
        at.next();
        if (at.keyword() !== 'name') return;
        at.next();
        this.identitySequences.add(this.qualifiedName(at, 'an identity sequence'));
      });
    } else if (kind === 'type') {
      if (lexer.keyword() !== 'as')
        throw this.refuse('a CREATE TYPE other than an enum, composite or range type');
      this.checkRest(lexer);
    } else if (kind === 'materialized-view') {
      // WITH NO DATA: its query does not run now.
      const words: string[] = [];
      this.checkRest(lexer, (at) => {
        words.push(at.keyword());
        if (words.length > 3) words.shift();
      });
      if (words.join(' ') !== 'with no data')
        throw this.refuse('a CREATE MATERIALIZED VIEW without WITH NO DATA');
    } else {
      this.checkRest(lexer);
    }
    return true;
  }

  // CREATE [UNIQUE] INDEX [name] ON [ONLY] table …: on the file's table or materialized view.
  private checkCreateIndex(lexer: PgLexer): void {
    const expected = this.expected;
    if ((expected.kind !== 'table' && expected.kind !== 'materialized-view') || this.created === 0)
      throw this.refuse('a CREATE INDEX');
    lexer.next();
    if (lexer.keyword() !== 'on') {
      this.plainName(lexer, 'the index created');
      lexer.next();
    }
    if (lexer.keyword() !== 'on') throw this.refuse('a CREATE INDEX without ON');
    lexer.next();
    if (lexer.keyword() === 'only') lexer.next();
    if (this.qualifiedName(lexer, 'the table of an index') !== expected.name)
      throw this.refuse('an index on another table');
    this.checkRest(lexer);
  }

  /**
   * The rest of a CREATE FUNCTION/PROCEDURE: one statement (a `;` only inside the
   * `BEGIN ATOMIC … END` body, which ends at the first END after a `;`), not in C.
   */
  private checkRoutineRest(lexer: PgLexer): void {
    // The lexer stands on the argument list's `(`.
    let depth = 1;
    let body: 'none' | 'begin' | 'open' | 'after-semicolon' | 'closed' = 'none';
    let previous = '';
    for (lexer.next(); lexer.type !== 'end'; lexer.next()) {
      const word = lexer.keyword();
      if (body === 'closed') throw this.refuse('a statement that goes on past its end');
      if (lexer.is('(')) depth += 1;
      else if (lexer.is(')')) depth -= 1;
      // Outside a `BEGIN ATOMIC` body, where `language` may be a column's name.
      if (depth === 0 && body === 'none' && previous === 'language') this.checkLanguage(lexer);
      if (body === 'none' && depth === 0 && word === 'begin') body = 'begin';
      else if (body === 'begin') body = word === 'atomic' ? 'open' : 'none';
      else if (body === 'open' || body === 'after-semicolon') {
        if (lexer.is(';')) body = 'after-semicolon';
        else if (word === 'end' && (body === 'after-semicolon' || previous === 'atomic'))
          body = 'closed';
        else body = 'open';
      } else if (lexer.is(';')) throw this.refuse('more than one statement');
      previous = word;
    }
    if (body === 'open' || body === 'after-semicolon')
      throw this.refuse('a BEGIN ATOMIC without its END');
  }

  /** A routine's language, at the lexer: a trusted one, unless external access is allowed. */
  private checkLanguage(lexer: PgLexer): void {
    const language = (
      lexer.type === 'string'
        ? (lexer.stringValue() ?? '')
        : lexer.type === 'word' || lexer.type === 'identifier'
          ? lexer.name()
          : ''
    ).toLowerCase();
    if (this.allowExternalAccess || TRUSTED_LANGUAGES.has(language)) return;
    const what =
      language === 'c'
        ? 'a function in C, which loads a library'
        : language === 'internal'
          ? 'a function in language internal, which binds any function of the server'
          : `a function in ${/^[a-z0-9_]+$/.test(language) ? `language ${language}` : 'a language'} not known here to be trusted`;
    throw new ExternalAccessError(
      `${describeExpected(this.expected)} is ${what}: it reaches outside the database`,
    );
  }

  /** A CREATE EXTENSION of `name`: one known to stay inside the database, unless allowed. */
  private checkExtension(name: string): void {
    if (this.allowExternalAccess || CONTAINED_EXTENSIONS.has(name)) return;
    const external =
      EXTERNAL_EXTENSIONS.has(name) ||
      name.endsWith('_fdw') ||
      /(?:plpython\d?u|plperlu|pltclu|pljavau)$/.test(name);
    throw new ExternalAccessError(
      external
        ? `extension ${quote(name)} reaches outside the database (files, the network or the operating system)`
        : `extension ${quote(name)} is not known here to stay inside the database`,
    );
  }

  /**
   * The rest of a statement: no second statement, and (unless external access is allowed) no
   * call of a server function that reads or writes files or other servers: a CHECK or
   * DEFAULT runs it while the rows load. `visit` sees each token.
   */
  private checkRest(lexer: PgLexer, visit?: (lexer: PgLexer) => void): void {
    for (lexer.next(); lexer.type !== 'end'; lexer.next()) {
      if (lexer.is(';')) throw this.refuse('more than one statement');
      if (
        !this.allowExternalAccess &&
        (lexer.type === 'word' || lexer.type === 'identifier') &&
        SERVER_FILE_FUNCTIONS.test(lexer.name().toLowerCase()) &&
        isCall(lexer)
      )
        throw new ExternalAccessError(
          `${describeExpected(this.expected)} calls ${lexer.name().toLowerCase()}(), which reaches outside the database`,
        );
      visit?.(lexer);
    }
  }

  // INSERT INTO schema.table [(columns)] [OVERRIDING {SYSTEM|USER} VALUE] VALUES (literals)[, …]
  // | INSERT INTO schema.table DEFAULT VALUES
  private checkInsert(lexer: PgLexer): number {
    const expected = this.expected;
    if (expected.kind !== 'rows' && expected.kind !== 'table')
      throw this.refuse(describeStart(lexer.sql));
    if (expected.kind === 'table' && this.created === 0)
      throw this.refuse('an INSERT before the CREATE TABLE');
    this.expectWord(lexer, 'into');
    lexer.next();
    if (this.qualifiedName(lexer, 'the table of an INSERT') !== this.tableOfFile())
      throw this.refuse('an INSERT into another table');
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
    if (lexer.keyword() === 'overriding') {
      lexer.next();
      if (lexer.keyword() !== 'system' && lexer.keyword() !== 'user')
        throw this.refuse('an INSERT with an OVERRIDING other than SYSTEM or USER VALUE');
      this.expectWord(lexer, 'value');
      lexer.next();
    }
    // A row of a table without a column to insert (none, or only generated ones).
    if (lexer.keyword() === 'default') {
      this.expectWord(lexer, 'values');
      this.expectEnd(lexer);
      if (lexer.sawComment) throw this.refuse('an INSERT with a comment');
      this.insertPrefix = undefined;
      return 1;
    }
    if (lexer.keyword() !== 'values') throw this.refuse('an INSERT other than INSERT … VALUES');
    const valuesAt = lexer.end;
    const rows = this.checkValues(lexer);
    const prefix = lexer.sql.slice(0, valuesAt);
    this.insertPrefix = prefix.includes('/*') || prefix.includes('--') ? undefined : prefix;
    return rows;
  }

  private checkValues(lexer: PgLexer): number {
    let rows = 0;
    for (;;) {
      lexer.next();
      if (!lexer.is('(')) throw this.refuse('an INSERT whose rows are not value lists');
      this.valueList(lexer, ')');
      rows += 1;
      if (lexer.next() === 'end') {
        if (lexer.sawComment) throw this.refuse('an INSERT with a comment');
        return rows;
      }
      if (!lexer.is(',')) throw this.refuse('an INSERT with more than rows (ON CONFLICT, …)');
    }
  }

  /** Values separated by commas up to `close`, which the lexer is left on. */
  private valueList(lexer: PgLexer, close: string): void {
    lexer.next();
    if (lexer.is(close)) return;
    for (;;) {
      this.literal(lexer);
      if (lexer.is(close)) return;
      if (!lexer.is(',')) throw this.refuse('an INSERT with an expression for a value');
      lexer.next();
    }
  }

  /**
   * One literal from the token at the lexer, which is left on the token after it: a number
   * (with a sign), a string, NULL, TRUE, FALSE, ARRAY[…] or ROW(…) of literals, any of them
   * in parentheses or cast to a type (`::type`).
   */
  private literal(lexer: PgLexer): void {
    if (lexer.is('-') || lexer.is('+')) {
      if (lexer.next() !== 'number') throw this.refuse('an INSERT with an expression for a value');
    }
    const word = lexer.keyword();
    if (lexer.type === 'number' || lexer.type === 'string') lexer.next();
    else if (word === 'null' || word === 'true' || word === 'false') lexer.next();
    else if (word === 'array') {
      lexer.next();
      if (!lexer.is('[')) throw this.refuse('an INSERT with an expression for a value');
      this.arrayElements(lexer);
      lexer.next();
    } else if (word === 'row') {
      lexer.next();
      if (!lexer.is('(')) throw this.refuse('an INSERT with an expression for a value');
      this.valueList(lexer, ')');
      lexer.next();
    } else if (lexer.is('(')) {
      lexer.next();
      this.literal(lexer);
      if (!lexer.is(')')) throw this.refuse('an INSERT with an expression for a value');
      lexer.next();
    } else throw this.refuse('an INSERT with an expression for a value');
    while (lexer.is('::')) this.castType(lexer);
  }

  /** `[a, b]` or `[[a], [b]]` after ARRAY, from its `[` to its `]`. */
  private arrayElements(lexer: PgLexer): void {
    lexer.next();
    if (lexer.is(']')) return;
    for (;;) {
      if (lexer.is('[')) {
        this.arrayElements(lexer);
        lexer.next();
      } else this.literal(lexer);
      if (lexer.is(']')) return;
      if (!lexer.is(',')) throw this.refuse('an INSERT with an expression for a value');
      lexer.next();
    }
  }

  /** After `::`: a type name (`schema.name`, `varchar(10)`, `double precision`, `int[]`). */
  private castType(lexer: PgLexer): void {
    const bad = () => this.refuse('an INSERT with a cast to something other than a type');
    lexer.next();
    if (lexer.type !== 'word' && lexer.type !== 'identifier') throw bad();
    lexer.next();
    for (;;) {
      if (lexer.is('.')) {
        const part = lexer.next();
        if (part !== 'word' && part !== 'identifier') throw bad();
        lexer.next();
      } else if (lexer.is('(')) {
        for (;;) {
          if (lexer.next() !== 'number') throw bad();
          lexer.next();
          if (lexer.is(')')) break;
          if (!lexer.is(',')) throw bad();
        }
        lexer.next();
      } else if (lexer.is('[')) {
        if (lexer.next() === 'number') lexer.next();
        if (!lexer.is(']')) throw bad();
        lexer.next();
      } else if (TYPE_WORDS.has(lexer.keyword())) lexer.next();
      else return;
    }
  }

  // ALTER TABLE [ONLY] t ADD CONSTRAINT … | ALTER COLUMN c SET DEFAULT … | ENABLE/FORCE ROW
  // LEVEL SECURITY | DISABLE/ENABLE [REPLICA|ALWAYS] TRIGGER t; ALTER SEQUENCE s OWNED BY t.c
  private checkAlter(lexer: PgLexer): void {
    const expected = this.expected;
    lexer.next();
    const what = lexer.keyword();
    if (what === 'sequence') {
      if (expected.kind !== 'table' || this.created === 0) throw this.refuse('an ALTER SEQUENCE');
      lexer.next();
      this.qualifiedName(lexer, 'the sequence altered');
      this.expectWord(lexer, 'owned');
      this.expectWord(lexer, 'by');
      lexer.next();
      const parts = this.nameParts(lexer, 'the column of a sequence');
      if (
        parts.length !== 3 ||
        parts[0]?.includes('.') ||
        `${parts[0]}.${parts[1]}` !== expected.name
      )
        throw this.refuse('a sequence owned by another table');
      this.expectEnd(lexer);
      return;
    }
    if (what !== 'table') throw this.refuse(describeStart(lexer.sql));
    lexer.next();
    if (lexer.keyword() === 'only') lexer.next();
    if (this.qualifiedName(lexer, 'the table altered') !== this.tableOfFile())
      throw this.refuse('an ALTER TABLE of another table');
    const kind = expected.kind;
    lexer.next();
    const action = lexer.keyword();
    if (action === 'add' && (kind === 'table' || kind === 'foreign-keys')) {
      this.expectWord(lexer, 'constraint');
      lexer.next();
      this.plainName(lexer, 'the constraint added');
      lexer.next();
      // A table's file adds its keys and checks; its foreign-keys file its foreign keys, and
      // the checks that reach a table's or view's row type (definitions.ts).
      const constraint = lexer.keyword();
      if (
        constraint === 'foreign'
          ? kind !== 'foreign-keys'
          : kind === 'foreign-keys' && constraint !== 'check'
      )
        throw this.refuse(
          constraint === 'foreign'
            ? 'a foreign key in a table file'
            : 'a constraint other than a foreign key or a check',
        );
      if (kind === 'foreign-keys') this.created += 1;
      else if (this.created === 0) throw this.refuse('an ALTER TABLE before the CREATE TABLE');
      this.checkRest(lexer);
      return;
    }
    if (action === 'alter' && kind === 'table' && this.created > 0) {
      lexer.next();
      if (lexer.keyword() === 'column') lexer.next();
      this.plainName(lexer, 'the column altered');
      this.expectWord(lexer, 'set');
      this.expectWord(lexer, 'default');
      this.checkRest(lexer);
      return;
    }
    if (
      (action === 'enable' || action === 'force') &&
      ((kind === 'table' && this.created > 0) || kind === 'row-security')
    ) {
      this.expectWord(lexer, 'row');
      this.expectWord(lexer, 'level');
      this.expectWord(lexer, 'security');
      this.expectEnd(lexer);
      if (kind === 'row-security') this.created += 1;
      return;
    }
    if ((action === 'enable' || action === 'disable') && kind === 'trigger' && this.created > 0) {
      lexer.next();
      if (action === 'enable' && (lexer.keyword() === 'replica' || lexer.keyword() === 'always'))
        lexer.next();
      if (lexer.keyword() !== 'trigger')
        throw this.refuse('an ALTER TABLE other than of the trigger');
      lexer.next();
      if (this.plainName(lexer, 'the trigger') !== this.memberName())
        throw this.refuse('an ALTER TABLE of another trigger');
      this.expectEnd(lexer);
      return;
    }
    throw this.refuse(`an ALTER TABLE … ${action.toUpperCase() || 'something'}`);
  }

  // COMMENT ON <kind> <the file's object, or a part of it> IS 'text' | NULL
  private checkComment(lexer: PgLexer): void {
    if (this.created === 0) throw this.refuse('a COMMENT before the CREATE');
    if (this.expected.kind === 'row-security') throw this.refuse('a COMMENT');
    this.expectWord(lexer, 'on');
    lexer.next();
    let kind = lexer.keyword();
    if (!COMMENT_TARGETS.has(kind)) throw this.refuse(`a COMMENT ON ${kind.toUpperCase()}`);
    if (kind === 'materialized') {
      this.expectWord(lexer, 'view');
      kind = 'materialized-view';
    }
    lexer.next();
    const parts = this.nameParts(lexer, 'the object of a COMMENT');
    const expected = this.expected;
    const own = this.expectedName();
    const table = this.tableOfFile() ?? own;
    let matches: boolean;
    switch (kind) {
      case 'column':
        matches =
          parts.length === 3 && !parts[0]?.includes('.') && `${parts[0]}.${parts[1]}` === own;
        break;
      case 'constraint':
      case 'trigger':
      case 'policy': {
        this.expectWord(lexer, 'on');
        lexer.next();
        if (lexer.keyword() === 'domain') lexer.next();
        matches =
          parts.length === 1 &&
          this.qualifiedName(lexer, 'the table of a COMMENT') === table &&
          (kind === 'constraint' || parts[0] === this.memberName());
        break;
      }
      case 'index':
        matches =
          (expected.kind === 'table' || expected.kind === 'materialized-view') &&
          parts.length === 2 &&
          parts[0] === splitQualifiedName(own).schema;
        break;
      case 'function':
      case 'procedure':
        matches =
          expected.kind === kind &&
          parts.length === 2 &&
          !parts[0]?.includes('.') &&
          parts.join('.') === own.slice(0, Math.max(0, own.indexOf('(')));
        if (matches) {
          lexer.next();
          if (!lexer.is('(')) throw this.refuse('a COMMENT ON a routine without its arguments');
          for (let depth = 1; depth > 0;) {
            lexer.next();
            if (lexer.type === 'end' || lexer.is(';'))
              throw this.refuse('a COMMENT that is not one');
            depth += lexer.is('(') ? 1 : lexer.is(')') ? -1 : 0;
          }
        }
        break;
      case 'schema':
      case 'extension':
        matches = expected.kind === kind && parts.length === 1 && parts[0] === own;
        break;
      default:
        matches =
          expected.kind === kind &&
          parts.length === 2 &&
          !parts[0]?.includes('.') &&
          parts.join('.') === own;
        break;
    }
    if (!matches) throw this.refuse(`a COMMENT ON another object`);
    this.expectWord(lexer, 'is');
    lexer.next();
    if (lexer.type !== 'string' && lexer.keyword() !== 'null')
      throw this.refuse('a COMMENT that is not a string');
    this.expectEnd(lexer);
  }

  // BEGIN | START TRANSACTION after the CREATE TABLE, then COMMIT: once each, in a table file.
  private checkTransaction(lexer: PgLexer): void {
    if (this.expected.kind !== 'table') throw this.refuse(describeStart(lexer.sql));
    const word = lexer.keyword();
    if (word === 'commit') {
      this.expectEnd(lexer);
      if (this.transaction !== 'open') throw this.refuse('a COMMIT without its BEGIN');
      this.transaction = 'committed';
      return;
    }
    if (word === 'start') this.expectWord(lexer, 'transaction');
    this.expectEnd(lexer);
    if (this.created === 0 || this.transaction !== 'none')
      throw this.refuse('a BEGIN other than the one after the CREATE TABLE');
    this.transaction = 'open';
  }

  /** The parts of a dotted name from the lexer, which is left on its last part. */
  private nameParts(lexer: PgLexer, what: string): string[] {
    const parts: string[] = [];
    for (;;) {
      if (lexer.type !== 'identifier' && lexer.type !== 'word')
        throw this.refuse(`${what} is not a name`);
      parts.push(lexer.name());
      const saved = { start: lexer.start, end: lexer.end };
      const after = new PgLexer(lexer.sql, saved.end);
      after.next();
      if (!after.is('.')) return parts;
      lexer.next();
      lexer.next();
    }
  }

  /** A `schema.name`, as text `schema.name`; refuses an unqualified or longer name. */
  private qualifiedName(lexer: PgLexer, what: string): string {
    const parts = this.nameParts(lexer, what);
    if (parts.length !== 2) throw this.refuse(`${what} is not a schema-qualified name`);
    // Names are carried as `schema.name`, split at the first dot: a schema with a dot in
    // its name would read as another object.
    if (parts[0]?.includes('.')) throw this.refuse(`${what} is in a schema whose name has a dot`);
    return `${parts[0]}.${parts[1]}`;
  }

  /** A name without a schema. */
  private plainName(lexer: PgLexer, what: string): string {
    const parts = this.nameParts(lexer, what);
    if (parts.length !== 1) throw this.refuse(`${what} is a qualified name`);
    return parts[0] ?? '';
  }

  private expectWord(lexer: PgLexer, word: string): void {
    lexer.next();
    if (lexer.keyword() !== word)
      throw this.refuse(`a statement without ${word.toUpperCase()} where a snapshot's has it`);
  }

  private expectEnd(lexer: PgLexer): void {
    if (lexer.next() !== 'end') throw this.refuse('a statement that goes on past its end');
  }
}

/** Whether `(` follows the token at the lexer (which does not move). */
function isCall(lexer: PgLexer): boolean {
  const after = new PgLexer(lexer.sql, lexer.end);
  after.next();
  return after.is('(');
}

/** `schema.name` from a regclass literal's text (`"a"."b"` or `a.b`); undefined for other text. */
export function parseRegclass(text: string): string | undefined {
  const lexer = new PgLexer(text);
  const parts: string[] = [];
  for (;;) {
    const type = lexer.next();
    if (type !== 'word' && type !== 'identifier') return undefined;
    parts.push(lexer.name());
    if (lexer.next() === 'end') break;
    if (!lexer.is('.')) return undefined;
  }
  return parts.length === 2 && !parts[0]?.includes('.') ? `${parts[0]}.${parts[1]}` : undefined;
}

/** The first words of a statement, for an error: keywords only, never a value. */
function describeStart(sql: string): string {
  const words = /^\s*([A-Za-z]+)(?:\s+([A-Za-z]+))?/.exec(sql);
  if (!words?.[1]) return sql.trimStart().startsWith('\\') ? 'a psql meta-command' : 'a statement';
  return `\`${[words[1], words[2]].filter(Boolean).join(' ').toUpperCase()}\``;
}

function describeExpected(expected: PgFileExpectation): string {
  switch (expected.kind) {
    case 'rows':
      return `the rows of table ${quote(expected.table)}`;
    case 'database':
      return 'the database defaults';
    case 'dump':
      return 'a dump';
    default:
      return `${expected.kind.replace('-', ' ')} ${quote(expected.name)}`;
  }
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
