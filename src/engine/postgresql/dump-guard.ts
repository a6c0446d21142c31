/**
 * What `load` sends to a PostgreSQL server from a dump: only the statements the dump writer
 * (script-format.ts `postgresqlDumpScript`, dump-database.ts) writes, checked as the server
 * will read them:
 *
 * - session `SET`s and `SELECT pg_catalog.set_config(…, false)`, as any file (statement-guard.ts);
 * - `CREATE EXTENSION`/`CREATE SCHEMA IF NOT EXISTS`;
 * - a type, domain, routine, sequence, table, view or materialized view as `DROP <kind> IF
 *   EXISTS … CASCADE`, then (nothing between) the `CREATE` of that very object;
 * - a trigger or policy on a table the dump created;
 * - what a snapshot's file of each object may hold after its CREATE (constraints, indexes,
 *   comments, defaults, row-level security, an identity sequence's or a sequence's
 *   `setval`), and `INSERT INTO` a table the dump created, literal values only: these are
 *   checked by the checker of that object's snapshot file ({@link PgStatementGuard}), kept for
 *   each object the dump created in the dump's ledger (the directory form fills a table in
 *   other files than the one that created it);
 * - `COPY "schema"."table" ("column", …) FROM stdin` into a table the dump created, naming
 *   only its columns (its own or its parents'), with its data: only through {@link
 *   PgDumpGuard.checkData}, which checks the data as it streams (copy-data.ts);
 * - a table's foreign keys (`ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY`), as a foreign keys
 *   file of that table;
 * - `REFRESH MATERIALIZED VIEW` of a materialized view the dump created.
 *
 * No transaction statements (a dump writes none), no COPY without its data (`FROM PROGRAM`, a
 * file, `TO`: see {@link PgDumpGuard.checkData}).
 */
import { UnexpectedStatementError } from '../../errors.js';
import type {
  CheckedData,
  CheckedStatement,
  CheckerOptions,
  FileExpectation,
  StatementChecker,
} from '../engine.js';
import { checkedCopyData, parseCopyStatement } from './copy-data.js';
import { quoteName, quoteQualified } from './names.js';
import { PgLexError, PgLexer } from './pg-lexer.js';
import { parseRegclass, PgStatementGuard } from './statement-guard.js';
import { parseCreateTable } from './table-file-lines.js';

type DumpExpectation = Extract<FileExpectation, { kind: 'dump' }>;

/** Kinds a dump drops right before it creates them, by the words of their DROP. */
const REPLACED_KINDS: ReadonlyMap<string, string> = new Map([
  ['type', 'type'],
  ['domain', 'domain'],
  ['function', 'function'],
  ['procedure', 'procedure'],
  ['sequence', 'sequence'],
  ['table', 'table'],
  ['view', 'view'],
  ['materialized', 'materialized-view'],
]);

/** Kinds a dump creates, by the word after CREATE (a materialized view by both). */
const CREATED_KINDS = new Set([
  ...REPLACED_KINDS.values(),
  'schema',
  'extension',
  'index',
  'trigger',
  'policy',
]);

/** Kinds whose COMMENT ON names them `schema.name`, by the words of the COMMENT. */
const COMMENTED_KINDS: ReadonlyMap<string, string> = new Map([
  ['table', 'table'],
  ['view', 'view'],
  ['materialized', 'materialized-view'],
  ['sequence', 'sequence'],
  ['type', 'type'],
  ['domain', 'domain'],
  ['function', 'function'],
  ['procedure', 'procedure'],
]);

/** The ledger key of the checker of object `name` of `kind` (a routine without its arguments). */
function ledgerKey(kind: string, name: string): string {
  return `postgresql ${kind}\u0000${name}`;
}

/** The ledger key of the columns of table `name` the dump created, which its COPYs may name. */
function columnsKey(name: string): string {
  return `postgresql columns\u0000${name}`;
}

/** What a COPY into a table the dump created may name: its own columns, and its parents'. */
interface TableColumns {
  readonly columns: readonly string[];
  readonly parents: readonly string[];
}

export class PgDumpGuard implements StatementChecker {
  private readonly expected: DumpExpectation;
  /** Checks SETs and set_config, which need no object. */
  private readonly session: PgStatementGuard;
  /** The object a DROP … IF EXISTS dropped, whose CREATE must come next. */
  private pendingDrop: { kind: string; name: string } | undefined;
  /** The checker that accepted the last CREATE INDEX: a COMMENT ON INDEX goes to it. */
  private lastIndexOwner: PgStatementGuard | undefined;
  /** The tables a CREATE TABLE inherits its columns from (a partition's parent). */
  private readonly parentsOf: (sql: string) => readonly string[] | undefined;

  private readonly options: CheckerOptions;

  constructor(
    expected: DumpExpectation,
    parentsOf: (sql: string) => readonly string[] | undefined,
    options: CheckerOptions = {},
  ) {
    this.expected = expected;
    this.options = options;
    this.session = new PgStatementGuard(expected, 'a dump', options);
    this.parentsOf = parentsOf;
  }

  check(sql: string): CheckedStatement {
    try {
      const lexer = new PgLexer(sql);
      lexer.next();
      const word = lexer.keyword();
      if (word !== 'create' && word !== 'set') this.expectNoPendingDrop();
      switch (word) {
        case 'set':
          return this.session.check(sql);
        case 'select':
          return this.checkSelect(sql, lexer);
        case 'drop':
          this.checkDrop(lexer);
          return { kind: 'drop', rows: 0 };
        case 'create':
          return this.checkCreate(sql, lexer);
        case 'insert':
          this.expectWord(lexer, 'into');
          lexer.next();
          return this.objectChecker(
            'table',
            this.qualifiedName(lexer, 'the table of an INSERT'),
            'an INSERT into',
          ).check(sql);
        case 'alter':
          return this.checkAlter(sql, lexer);
        case 'comment':
          return this.checkComment(sql, lexer);
        case 'refresh':
          this.checkRefresh(lexer);
          return { kind: 'refresh', rows: 0 };
        case 'copy':
          // The reader hands every COPY … FROM stdin to checkData with its data.
          throw this.refuse('a COPY that is not followed by its data (FROM PROGRAM, a file, TO)');
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
    this.expectNoPendingDrop();
  }

  /**
   * A dump's rows as COPY: `COPY "schema"."table" ("column", …) FROM stdin` exactly as the
   * dump writes it ({@link parseCopyStatement}), into a table the dump created, naming each
   * of its columns at most once; its data checked as it streams ({@link checkedCopyData}).
   */
  checkData(sql: string, data: AsyncIterable<Buffer>): CheckedData {
    this.expectNoPendingDrop();
    const target = parseCopyStatement(sql);
    if (target === undefined)
      throw this.refuse(
        'a COPY of another form than `COPY "schema"."table" ("column", …) FROM stdin`',
      );
    const quoted = quoteQualified(target.table);
    if (this.expected.ledger.get(columnsKey(target.table)) === undefined)
      throw this.refuse(`COPY into ${quoted}, a table the dump did not create before its rows`);
    const known = this.columnsOf(target.table, new Set());
    const seen = new Set<string>();
    for (const column of target.columns) {
      if (seen.has(column) || !known.has(column))
        throw this.refuse(
          `COPY into ${quoted} naming column ${quoteName(column)} ${seen.has(column) ? 'twice' : 'that the dump did not create'}`,
        );
      seen.add(column);
    }
    const counted = { rows: 0 };
    return {
      table: target.table,
      data: checkedCopyData(data, target.columns.length, quoted, counted),
      lines: () => counted.rows,
    };
  }

  /** A table's own columns and those it inherits, as the dump created them. */
  private columnsOf(table: string, visited: Set<string>): Set<string> {
    const columns = new Set<string>();
    const created = this.expected.ledger.get(columnsKey(table)) as TableColumns | undefined;
    if (created === undefined || visited.has(table)) return columns;
    visited.add(table);
    for (const column of created.columns) columns.add(column);
    for (const parent of created.parents)
      for (const column of this.columnsOf(parent, visited)) columns.add(column);
    return columns;
  }

  private expectNoPendingDrop(): void {
    if (this.pendingDrop !== undefined)
      throw this.refuse(`a DROP ${this.pendingDrop.kind.toUpperCase()} not followed by its CREATE`);
  }

  private refuse(reason: string): UnexpectedStatementError {
    return new UnexpectedStatementError(`${reason}: not a statement a dump writes`);
  }

  /** The checker of an object the dump created; refuses `what` when it created none such. */
  private objectChecker(kind: string, name: string, what: string): PgStatementGuard {
    const checker = this.expected.ledger.get(ledgerKey(kind, name));
    if (!(checker instanceof PgStatementGuard))
      throw this.refuse(`${what} a ${kind.replace('-', ' ')} the dump did not create`);
    return checker;
  }

  /** The checker of the table, view or materialized view `name` the dump created. */
  private relationChecker(name: string, what: string): PgStatementGuard {
    for (const kind of ['table', 'view', 'materialized-view']) {
      const checker = this.expected.ledger.get(ledgerKey(kind, name));
      if (checker instanceof PgStatementGuard) return checker;
    }
    throw this.refuse(`${what} a relation the dump did not create`);
  }

  /** A new checker of the object a CREATE makes, kept in the ledger. */
  private newChecker(kind: string, name: string, expected: FileExpectation): PgStatementGuard {
    const checker = new PgStatementGuard(expected, 'a dump', this.options);
    this.expected.ledger.set(ledgerKey(kind, name), checker);
    return checker;
  }

  // SELECT pg_catalog.set_config(…) | SELECT pg_catalog.setval('seq', n, bool)
  private checkSelect(sql: string, lexer: PgLexer): CheckedStatement {
    lexer.next();
    if (lexer.type === 'word' || lexer.type === 'identifier') {
      const parts = this.nameParts(lexer, 'the function of a SELECT');
      const function_ = parts.at(-1);
      if (function_ === 'setval' && lexer.is('(')) {
        lexer.next();
        const sequence = parseRegclass(lexer.stringValue() ?? '');
        if (sequence === undefined) throw this.refuse('a setval of something other than a name');
        const own = this.expected.ledger.get(ledgerKey('sequence', sequence));
        if (own instanceof PgStatementGuard) return own.check(sql);
        // An identity sequence: its table's checker knows it.
        for (const checker of this.expected.ledger.values())
          if (checker instanceof PgStatementGuard && checker.hasIdentitySequence(sequence))
            return checker.check(sql);
        throw this.refuse('a setval of a sequence the dump did not create');
      }
    }
    return this.session.check(sql);
  }

  // DROP <kind> IF EXISTS schema.name[(arguments)] CASCADE
  private checkDrop(lexer: PgLexer): void {
    lexer.next();
    const kind = REPLACED_KINDS.get(lexer.keyword());
    if (kind === undefined) throw this.refuse(describeStart(lexer.sql));
    if (kind === 'materialized-view') this.expectWord(lexer, 'view');
    this.expectWord(lexer, 'if');
    this.expectWord(lexer, 'exists');
    lexer.next();
    const name = this.qualifiedName(lexer, `the ${kind} dropped`);
    lexer.next();
    if (kind === 'function' || kind === 'procedure') {
      if (!lexer.is('(')) throw this.refuse(`a DROP ${kind.toUpperCase()} without arguments`);
      for (let depth = 1; depth > 0;) {
        lexer.next();
        if (lexer.type === 'end' || lexer.is(';')) throw this.refuse('a DROP that is not one');
        depth += lexer.is('(') ? 1 : lexer.is(')') ? -1 : 0;
      }
      lexer.next();
    }
    if (lexer.keyword() !== 'cascade') throw this.refuse('a DROP other than one a dump writes');
    this.expectEnd(lexer);
    this.pendingDrop = { kind, name };
  }

  // CREATE …: of the object just dropped, a schema or extension, an index, trigger or policy
  // on a relation the dump created.
  private checkCreate(sql: string, lexer: PgLexer): CheckedStatement {
    lexer.next();
    if (lexer.keyword() === 'or') {
      this.expectWord(lexer, 'replace');
      lexer.next();
    }
    if (lexer.keyword() === 'unlogged' || lexer.keyword() === 'unique') lexer.next();
    if (lexer.keyword() === 'constraint') lexer.next();
    let kind = lexer.keyword();
    if (kind === 'materialized') {
      this.expectWord(lexer, 'view');
      kind = 'materialized-view';
    }
    if (!CREATED_KINDS.has(kind))
      throw this.refuse(`a CREATE ${kind.toUpperCase() || 'of something'}`);
    const pending = this.pendingDrop;
    this.pendingDrop = undefined;
    if (pending !== undefined && pending.kind !== kind)
      throw this.refuse(`a DROP ${pending.kind.toUpperCase()} not followed by its CREATE`);
    switch (kind) {
      case 'schema':
      case 'extension': {
        this.expectWord(lexer, 'if');
        this.expectWord(lexer, 'not');
        this.expectWord(lexer, 'exists');
        lexer.next();
        const name = this.plainName(lexer, `the ${kind} created`);
        return this.newChecker(kind, name, { kind, name }).check(sql);
      }
      case 'index': {
        lexer.next();
        if (lexer.keyword() !== 'on') {
          this.plainName(lexer, 'the index created');
          lexer.next();
        }
        if (lexer.keyword() !== 'on') throw this.refuse('a CREATE INDEX without ON');
        lexer.next();
        if (lexer.keyword() === 'only') lexer.next();
        const owner = this.relationChecker(
          this.qualifiedName(lexer, 'the table of an index'),
          'an index on',
        );
        const checked = owner.check(sql);
        this.lastIndexOwner = owner;
        return checked;
      }
      case 'trigger':
      case 'policy': {
        lexer.next();
        const name = this.plainName(lexer, `the ${kind} created`);
        // The table follows the first ON outside parentheses.
        let depth = 0;
        for (lexer.next(); !(depth === 0 && lexer.keyword() === 'on'); lexer.next()) {
          if (lexer.type === 'end') throw this.refuse(`a CREATE ${kind.toUpperCase()} without ON`);
          depth += lexer.is('(') ? 1 : lexer.is(')') ? -1 : 0;
        }
        lexer.next();
        const table = this.qualifiedName(lexer, `the table of a ${kind}`);
        this.objectChecker('table', table, `a ${kind} on`);
        const member = `${table}.${name}`;
        return this.newChecker(kind, member, { kind, name: member, table }).check(sql);
      }
      default:
        break;
    }
    if (pending === undefined)
      throw this.refuse(
        `a CREATE ${kind.toUpperCase() || 'of something'} without its DROP … IF EXISTS before it`,
      );
    lexer.next();
    const name = this.qualifiedName(lexer, `the ${kind} created`);
    if (name !== pending.name)
      throw this.refuse(`a CREATE ${kind.toUpperCase()} of another name than its DROP`);
    // A routine's checker compares the name before its arguments.
    const expected = (
      kind === 'function' || kind === 'procedure' ? { kind, name: `${name}()` } : { kind, name }
    ) as FileExpectation;
    const checked = this.newChecker(kind, name, expected).check(sql);
    if (kind === 'table') {
      const columns: TableColumns = {
        columns: parseCreateTable(sql)?.columns.map((column) => column.name) ?? [],
        parents: this.parentsOf(sql) ?? [],
      };
      this.expected.ledger.set(columnsKey(name), columns);
    }
    return checked;
  }

  // ALTER TABLE [ONLY] t …: its foreign keys, a trigger's ENABLE/DISABLE, else its checker's;
  // ALTER SEQUENCE s OWNED BY t.c: t's.
  private checkAlter(sql: string, lexer: PgLexer): CheckedStatement {
    lexer.next();
    const what = lexer.keyword();
    if (what === 'sequence') {
      lexer.next();
      this.nameParts(lexer, 'the sequence altered');
      if (lexer.keyword() !== 'owned') throw this.refuse('an ALTER SEQUENCE other than OWNED BY');
      this.expectWord(lexer, 'by');
      lexer.next();
      const parts = this.nameParts(lexer, 'the column of a sequence');
      if (parts.length !== 3)
        throw this.refuse('a sequence owned by something other than a column');
      return this.objectChecker(
        'table',
        `${parts[0]}.${parts[1]}`,
        'an ALTER SEQUENCE owned by',
      ).check(sql);
    }
    if (what !== 'table') throw this.refuse(describeStart(sql));
    lexer.next();
    if (lexer.keyword() === 'only') lexer.next();
    const table = this.qualifiedName(lexer, 'the table altered');
    const owner = this.objectChecker('table', table, 'an ALTER TABLE of');
    lexer.next();
    const action = lexer.keyword();
    if (action === 'add') {
      this.expectWord(lexer, 'constraint');
      lexer.next();
      this.plainName(lexer, 'the constraint added');
      lexer.next();
      if (lexer.keyword() === 'foreign') {
        const key = ledgerKey('foreign-keys', table);
        const keys = this.expected.ledger.get(key);
        const checker =
          keys instanceof PgStatementGuard
            ? keys
            : this.newChecker('foreign-keys', table, { kind: 'foreign-keys', name: table });
        return checker.check(sql);
      }
    } else if (action === 'enable' || action === 'disable') {
      lexer.next();
      if (lexer.keyword() === 'replica' || lexer.keyword() === 'always') lexer.next();
      if (lexer.keyword() === 'trigger') {
        lexer.next();
        const trigger = this.plainName(lexer, 'the trigger');
        return this.objectChecker('trigger', `${table}.${trigger}`, 'an ALTER TABLE of').check(sql);
      }
    }
    return owner.check(sql);
  }

  // COMMENT ON <kind> <an object the dump created, or a part of one> IS …
  private checkComment(sql: string, lexer: PgLexer): CheckedStatement {
    this.expectWord(lexer, 'on');
    lexer.next();
    const word = lexer.keyword();
    if (word === 'materialized') this.expectWord(lexer, 'view');
    lexer.next();
    const parts = this.nameParts(lexer, 'the object of a COMMENT');
    const what = 'a COMMENT ON';
    const named = COMMENTED_KINDS.get(word);
    if (named !== undefined) {
      if (parts.length !== 2) throw this.refuse('a COMMENT ON a name that is not schema-qualified');
      return this.objectChecker(named, `${parts[0]}.${parts[1]}`, what).check(sql);
    }
    switch (word) {
      case 'schema':
      case 'extension':
        return this.objectChecker(word, parts[0] ?? '', what).check(sql);
      case 'column':
        if (parts.length !== 3) throw this.refuse('a COMMENT ON a column that is not qualified');
        return this.relationChecker(`${parts[0]}.${parts[1]}`, what).check(sql);
      case 'index':
        if (this.lastIndexOwner === undefined)
          throw this.refuse('a COMMENT ON an index the dump did not create');
        return this.lastIndexOwner.check(sql);
      case 'constraint':
      case 'trigger':
      case 'policy': {
        // nameParts left the lexer on the word after the name.
        if (lexer.keyword() !== 'on')
          throw this.refuse(`a COMMENT ON ${word.toUpperCase()} without ON`);
        lexer.next();
        const domain = lexer.keyword() === 'domain';
        if (domain) lexer.next();
        const owner = this.qualifiedName(lexer, 'the table of a COMMENT');
        if (word === 'constraint')
          return this.objectChecker(domain ? 'domain' : 'table', owner, what).check(sql);
        return this.objectChecker(word, `${owner}.${parts[0] ?? ''}`, what).check(sql);
      }
      default:
        throw this.refuse(`a COMMENT ON ${word.toUpperCase() || 'something'}`);
    }
  }

  // REFRESH MATERIALIZED VIEW schema.name, of one the dump created.
  private checkRefresh(lexer: PgLexer): void {
    this.expectWord(lexer, 'materialized');
    this.expectWord(lexer, 'view');
    lexer.next();
    this.objectChecker(
      'materialized-view',
      this.qualifiedName(lexer, 'the view refreshed'),
      'a REFRESH of',
    );
    this.expectEnd(lexer);
  }

  /** The parts of a dotted name, the lexer left on the token after it. */
  private nameParts(lexer: PgLexer, what: string): string[] {
    const parts: string[] = [];
    for (;;) {
      if (lexer.type !== 'identifier' && lexer.type !== 'word')
        throw this.refuse(`${what} is not a name`);
      parts.push(lexer.name());
      lexer.next();
      if (!lexer.is('.')) return parts;
      lexer.next();
    }
  }

  /** A `schema.name` (the lexer left on its last part), as text `schema.name`. */
  private qualifiedName(lexer: PgLexer, what: string): string {
    const parts: string[] = [];
    for (;;) {
      if (lexer.type !== 'identifier' && lexer.type !== 'word')
        throw this.refuse(`${what} is not a name`);
      parts.push(lexer.name());
      const after = new PgLexer(lexer.sql, lexer.end);
      after.next();
      if (!after.is('.')) break;
      lexer.next();
      lexer.next();
    }
    if (parts.length !== 2 || parts[0]?.includes('.'))
      throw this.refuse(`${what} is not a schema-qualified name`);
    return `${parts[0]}.${parts[1]}`;
  }

  /** A name without a schema (the lexer left on it). */
  private plainName(lexer: PgLexer, what: string): string {
    if (lexer.type !== 'identifier' && lexer.type !== 'word')
      throw this.refuse(`${what} is not a name`);
    const after = new PgLexer(lexer.sql, lexer.end);
    after.next();
    if (after.is('.')) throw this.refuse(`${what} is a qualified name`);
    return lexer.name();
  }

  private expectWord(lexer: PgLexer, word: string): void {
    lexer.next();
    if (lexer.keyword() !== word)
      throw this.refuse(`a statement without ${word.toUpperCase()} where a dump's has it`);
  }

  private expectEnd(lexer: PgLexer): void {
    if (lexer.next() !== 'end') throw this.refuse('a statement that goes on past its end');
  }
}

/** The first words of a statement, for an error: keywords only, never a value. */
function describeStart(sql: string): string {
  const words = /^\s*([A-Za-z]+)(?:\s+([A-Za-z]+))?/.exec(sql);
  if (!words?.[1]) return sql.trimStart().startsWith('\\') ? 'a psql meta-command' : 'a statement';
  return `\`${[words[1], words[2]].filter(Boolean).join(' ').toUpperCase()}\``;
}
