/** The statements of a MariaDB/MySQL dump file, as text, in the order `load` and the stock client replay them. */
import type { CreationContext, DumpScript, ObjectDefinition } from '../engine.js';
import { deferSecondaryKeys, referencedTables } from './deferred-keys.js';
import { LOAD_SQL_MODE, mariadbDialect } from './mariadb-dialect.js';
import { quoteIdentifier } from './sql-literal.js';

const DROP_KEYWORD: Readonly<Record<string, string>> = {
  table: 'TABLE',
  sequence: 'SEQUENCE',
  view: 'VIEW',
  procedure: 'PROCEDURE',
  function: 'FUNCTION',
  trigger: 'TRIGGER',
  event: 'EVENT',
};

/** The time zone every file starts in (the second statement of the preamble). */
const FILE_TIME_ZONE = '+00:00';

export const mariadbDumpScript: DumpScript = {
  preamble: mariadbDialect.scriptPreamble.map((statement) => `${statement};`).join('\n'),
  useDatabase(name: string, create: boolean): string {
    const quoted = quoteIdentifier(name);
    return `${create ? `CREATE DATABASE IF NOT EXISTS ${quoted};\n` : ''}USE ${quoted};\n`;
  },
  replaceStructure(definition: ObjectDefinition): string {
    return `${dropStatement(definition)};\n${definition.sql};\n`;
  },
  // A MariaDB CREATE says it all: nothing comes after.
  afterRows: (definition: ObjectDefinition) => definition.after ?? [],
  replayableObject,
  mentions: (sql: string, name: string) => sql.includes(quoteIdentifier(name)),
  deferSecondaryKeys,
  referencedTables,
};

function dropStatement(definition: ObjectDefinition): string {
  return `DROP ${DROP_KEYWORD[definition.kind] ?? 'VIEW'} IF EXISTS ${quoteIdentifier(definition.name)}`;
}

function replayableObject(
  definition: ObjectDefinition,
  creation: CreationContext | undefined,
): string {
  const lines = [`${dropStatement(definition)};`];
  for (const note of creation?.notes ?? []) lines.push(mariadbDialect.comment(note));
  for (const statement of creation?.before ?? []) lines.push(`${statement};`);
  if (definition.sqlMode !== undefined)
    lines.push(`SET sql_mode = ${quoteText(definition.sqlMode)};`);
  if (definition.timeZone !== undefined)
    lines.push(`SET time_zone = ${quoteText(definition.timeZone)};`);
  if (definition.kind === 'view') lines.push(`${definition.sql};`);
  else lines.push(mariadbDialect.delimitedStatement(definition.sql));
  if (definition.sqlMode !== undefined) lines.push(`SET sql_mode = '${LOAD_SQL_MODE}';`);
  if (definition.timeZone !== undefined) lines.push(`SET time_zone = '${FILE_TIME_ZONE}';`);
  for (const statement of creation?.after ?? []) lines.push(`${statement};`);
  return `${lines.join('\n')}\n`;
}

function quoteText(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
