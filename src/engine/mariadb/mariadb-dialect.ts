/** SQL text as MariaDB and MySQL read it, for the files snapshots and dumps write. */
import type { RowLiterals, SequenceState, SqlDialect } from '../engine.js';
import { InternalError } from '../../errors.js';
import { escapeCommentText } from '../../support/printable.js';
import { splitDefiner } from './normalize-create.js';
import { quoteIdentifier, quoteString } from './sql-literal.js';

/**
 * The sql_mode our files load under: NO_AUTO_VALUE_ON_ZERO keeps a stored 0 in an
 * AUTO_INCREMENT column; everything else off, so that backslash escapes work and stored
 * zero dates load (as mariadb-dump does).
 */
export const LOAD_SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO';

export const mariadbDialect: SqlDialect = {
  quoteIdentifier,
  quoteString,
  comment: (text: string) => `-- ${escapeCommentText(text)}`,
  scriptPreamble: [
    'SET NAMES utf8mb4',
    "SET time_zone = '+00:00'",
    `SET sql_mode = '${LOAD_SQL_MODE}'`,
    'SET foreign_key_checks = 0',
    'SET unique_checks = 0',
  ],
  insertStatement(table: string, columns: readonly string[], rows: readonly RowLiterals[]): string {
    const values = rows.map((row) => `(${row.join(',')})`).join(',');
    return `INSERT INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(',')}) VALUES ${values}`;
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
  withoutDefiner(statement: string): string {
    // mysqldump: `/*!50017 DEFINER=`u`@`h`*/`; SHOW CREATE: `DEFINER=`u`@`h``.
    return splitDefiner(statement.replace(/\/\*!\d{5}\s+DEFINER=[^*]*\*\/\s*/g, '')).sql;
  },
  delimitedStatement(sql: string): string {
    return `DELIMITER ;;\n${sql};;\nDELIMITER ;`;
  },
};
