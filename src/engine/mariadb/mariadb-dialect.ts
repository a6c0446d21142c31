/** SQL text as MariaDB and MySQL read it, for the files snapshots and dumps write. */
import type {
  CreationContext,
  DatabaseDefaults,
  ObjectDefinition,
  RowLiterals,
  SequenceState,
  SqlDialect,
} from '../engine.js';
import { InternalError } from '../../errors.js';
import { commentLine } from '../common/comment-lines.js';
import { splitDefiner } from './normalize-create.js';
import { quoteIdentifier, quoteString } from './sql-literal.js';
import { isAsciiSafeCharset, isUtf8Charset } from './statement-guard.js';

/** The client character set every file is written in and starts with. */
const FILE_CHARSET = 'utf8mb4';

/**
 * The sql_mode our files load under: NO_AUTO_VALUE_ON_ZERO keeps a stored 0 in an
 * AUTO_INCREMENT column; everything else off, so that backslash escapes work and stored
 * zero dates load (as mariadb-dump does).
 */
export const LOAD_SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO';

/** Statements that put a session of the stock client into the state our files assume. */
const PREAMBLE: readonly string[] = [
  `SET NAMES ${FILE_CHARSET}`,
  "SET time_zone = '+00:00'",
  `SET sql_mode = '${LOAD_SQL_MODE}'`,
  'SET foreign_key_checks = 0',
  'SET unique_checks = 0',
];

/**
 * What starts a row line of a table file, up to the `(` of its values (the session's
 * RowLineEncoder of row-line-encoder.ts writes the same lines as bytes).
 */
export function rowLinePrefix(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(',')}) VALUES `;
}

export const mariadbDialect: SqlDialect = {
  quoteIdentifier,
  quoteObjectName: (_kind, name) => quoteIdentifier(name),
  quoteString,
  statementLine: (sql: string) => `${sql};\n`,
  comment: commentLine,
  scriptPreamble: PREAMBLE,
  insertStatement(table: string, columns: readonly string[], rows: readonly RowLiterals[]): string {
    const values = rows.map((row) => `(${row.join(',')})`).join(',');
    return `INSERT INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(',')}) VALUES ${values}`;
  },
  rowLineWriter(table: string, columns: readonly string[]): (row: RowLiterals) => string {
    const prefix = rowLinePrefix(table, columns);
    return (row) => `${prefix}(${row.join(',')});\n`;
  },
  sequenceStateStatement(name: string, state: SequenceState): string {
    if (!/^-?\d+$/.test(state.next) || !/^\d+$/.test(state.round))
      throw new InternalError(`sequence state is not integers: ${state.next}, ${state.round}`);
    // SETVAL(seq, n, 0): the next value handed out is n. DO: the stock client prints nothing.
    // The round only where a CYCLE sequence went round (it is 0 otherwise, the default).
    const round = state.round === '0' ? '' : `, ${state.round}`;
    return `DO SETVAL(${quoteIdentifier(name)}, ${state.next}, 0${round})`;
  },
  rowsTransaction: { begin: 'START TRANSACTION', end: 'COMMIT' },
  creationContext,
  databaseDefaultsStatement(defaults: DatabaseDefaults): string {
    return `ALTER DATABASE CHARACTER SET ${charsetName(defaults.characterSet)} COLLATE ${charsetName(defaults.collation)}`;
  },
  withoutDefiner(statement: string): string {
    // mysqldump: `/*!50017 DEFINER=`u`@`h`*/`; SHOW CREATE: `DEFINER=`u`@`h``.
    return splitDefiner(statement.replace(/\/\*!\d{5}\s+DEFINER=[^*]*\*\/\s*/g, '')).sql;
  },
  disableEventStatement(name: string): string {
    return `ALTER EVENT ${quoteIdentifier(name)} DISABLE`;
  },
  delimitedStatement,
  replayableLines,
};

function delimitedStatement(sql: string): string {
  return `DELIMITER ;;\n${sql};;\nDELIMITER ;`;
}

function replayableLines(definition: ObjectDefinition, withContext: boolean): readonly string[] {
  const lines: string[] = [];
  // The client character set and collation it was created under: a routine's body is read
  // in them each time it runs, and its literals take them.
  const context = withContext ? creationContext(definition) : { notes: [], before: [], after: [] };
  for (const note of context.notes) lines.push(commentLine(note));
  for (const statement of context.before) lines.push(`${statement};`);
  const needsDelimiter =
    definition.kind === 'trigger' ||
    definition.kind === 'procedure' ||
    definition.kind === 'function' ||
    definition.kind === 'event';
  // The object's own session settings while it is created, then the file's again.
  const settings: [string, string | undefined][] = [
    ['sql_mode', definition.sqlMode],
    // An event's STARTS/ENDS times are read in the time zone it was created in.
    ['time_zone', definition.timeZone],
  ];
  for (const [variable, value] of settings) {
    if (value !== undefined) lines.push(`SET ${variable} = ${quoteString(value)};`);
  }
  lines.push(needsDelimiter ? delimitedStatement(definition.sql) : `${definition.sql};`);
  for (const [variable, value] of settings) {
    const restore = PREAMBLE.find((statement) => statement.startsWith(`SET ${variable} `));
    if (value !== undefined && restore !== undefined) lines.push(`${restore};`);
  }
  for (const statement of context.after) lines.push(`${statement};`);
  return lines;
}

/**
 * The object's client character set and collation_connection around its CREATE, then the
 * file's (`SET NAMES utf8mb4` resets both). A file is UTF-8 text: its statement reaches the
 * server exactly as the object's creator sent it when the object's client character set is a
 * UTF-8 one, or when its text is ASCII (the same bytes in latin1, ascii and binary). A
 * non-ASCII text under another client character set would need the file to hold bytes that
 * are not UTF-8 (mariadb-dump writes them so): such an object is written under utf8mb4 with
 * its collation_connection kept, so its string literals keep their character set and
 * collation, and the file says what was recorded. So is an object whose client character set
 * could hide a quote in a file (gbk, sjis, …), which restore refuses to set.
 */
function creationContext(definition: ObjectDefinition): CreationContext {
  const client = definition.characterSetClient;
  const collation = definition.collationConnection;
  if (client === undefined || collation === undefined) return { before: [], after: [], notes: [] };
  const exact =
    isUtf8Charset(client) || (isAsciiSafeCharset(client) && !/[^\p{ASCII}]/u.test(definition.sql));
  const notes = exact
    ? []
    : [
        `created under client character set ${client}; written under ${FILE_CHARSET} (${isAsciiSafeCharset(client) ? 'its text is not ASCII' : 'that character set is not one a file may set'}), with its collation_connection, so its literals read the same`,
      ];
  return {
    before: [
      `SET character_set_client = ${quoteString(exact ? client : FILE_CHARSET)}`,
      `SET collation_connection = ${quoteString(collation)}`,
    ],
    after: [`SET NAMES ${FILE_CHARSET}`],
    notes,
  };
}

/** A character set or collation name as the server reports it; anything else is a bug. */
function charsetName(name: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(name))
    throw new Error(`not a character set or collation name: ${name}`);
  return name;
}
