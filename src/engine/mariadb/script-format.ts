/** The MariaDB/MySQL script format as it is read back: statements, and what a file may hold. */
import type { CheckerOptions, FileExpectation, ScriptFormat } from '../engine.js';
import { commentText } from '../common/comment-lines.js';
import { LOAD_SQL_MODE, mariadbDialect } from './mariadb-dialect.js';
import { insertTable, mariadbAdminStatements, splitInsert } from './admin-statements.js';
import { parseCreateTable } from './parse-create-table.js';
import {
  findRowValues,
  isFramingLine,
  isKeyLine,
  parseRowHead,
  ROW_LINE_PREFIX,
} from './table-file-lines.js';
import { mariadbDumpScript } from './dump-script.js';
import { readScript } from './script-reader.js';
import { StatementGuard } from './statement-guard.js';

/** The character set every file starts in (the first statement of the preamble). */
const FILE_CHARSET = 'utf8mb4';

export const mariadbScriptFormat: ScriptFormat = {
  readStatements: readScript,
  // The preamble's settings as one statement: one round trip before each file.
  sessionReset: `SET ${mariadbDialect.scriptPreamble.map((statement) => statement.replace(/^SET /, '')).join(', ')}`,
  checker: (expected: FileExpectation, options?: CheckerOptions) =>
    new StatementGuard(expected, LOAD_SQL_MODE, FILE_CHARSET, options),
  commentText,
  fileTitle(line: string): { name: string; table?: string | undefined } | undefined {
    const text = commentText(line);
    const match =
      text === undefined
        ? null
        : /^schema_backup: \w+ `((?:[^`]|``)*)`(?: on table `((?:[^`]|``)*)`)?/.exec(text);
    if (!match) return undefined;
    return { name: (match[1] ?? '').replace(/``/g, '`'), table: match[2]?.replace(/``/g, '`') };
  },
  dump: mariadbDumpScript,
  admin: mariadbAdminStatements,
  splitInsert,
  joinInsert: (prefix: string, values: readonly string[]) => `${prefix}${values.join(',')}`,
  insertTable,
  rowLinePrefix: ROW_LINE_PREFIX,
  isFramingLine,
  isKeyLine,
  parseRowHead,
  findRowValues,
  parseCreateTable,
};
