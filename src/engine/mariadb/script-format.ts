/** The MariaDB/MySQL script format as it is read back: statements, and what a file may hold. */
import type { FileExpectation, ScriptFormat } from '../engine.js';
import { unescapeCommentText } from '../../support/printable.js';
import { LOAD_SQL_MODE, mariadbDialect } from './mariadb-dialect.js';
import { insertTable, mariadbAdminStatements, splitInsert } from './admin-statements.js';
import { mariadbDumpScript } from './dump-script.js';
import { readScript } from './script-reader.js';
import { StatementGuard } from './statement-guard.js';

/** The character set every file starts in (the first statement of the preamble). */
const FILE_CHARSET = 'utf8mb4';

export const mariadbScriptFormat: ScriptFormat = {
  readStatements: readScript,
  // The preamble's settings as one statement: one round trip before each file.
  sessionReset: `SET ${mariadbDialect.scriptPreamble.map((statement) => statement.replace(/^SET /, '')).join(', ')}`,
  checker: (expected: FileExpectation) => new StatementGuard(expected, LOAD_SQL_MODE, FILE_CHARSET),
  commentText: (line: string) =>
    line.startsWith('-- ') ? unescapeCommentText(line.slice(3)) : undefined,
  dump: mariadbDumpScript,
  admin: mariadbAdminStatements,
  splitInsert,
  insertTable,
};
