/**
 * Reads the `CREATE TABLE` statements of snapshot files (as the server's SHOW CREATE TABLE
 * writes them: one column, key or constraint per line) into their parts, for a summary of
 * what changed between two versions. Pure; knows nothing of git or the server.
 */

import type { ColumnDefinition, TableDefinition } from '../engine.js';

const IDENTIFIER = /^`((?:[^`]|``)*)`/;

/** Parses a `CREATE TABLE` statement; undefined when `sql` holds none. */
export function parseCreateTable(sql: string): TableDefinition | undefined {
  const start = /CREATE TABLE `((?:[^`]|``)*)` \(\n/.exec(sql);
  if (!start) return undefined;
  const name = (start[1] ?? '').replace(/``/g, '`');
  const body = sql.slice(start.index + start[0].length);
  const end = body.search(/\n\)[^\n]*(?:;|$)/);
  if (end === -1) return undefined;
  const lines = body
    .slice(0, end)
    .split('\n')
    .map((line) => line.trim().replace(/,$/, ''));
  const options = (/\n\)\s*([^\n]*?);?\s*(?:\n|$)/.exec(body.slice(end))?.[1] ?? '').trim();

  const columns: ColumnDefinition[] = [];
  const indexes = new Map<string, string>();
  const foreignKeys = new Map<string, string>();
  const checks = new Map<string, string>();
  let primary: string[] = [];
  let firstUnique: string[] | undefined;
  for (const line of lines) {
    const column = IDENTIFIER.exec(line);
    if (column) {
      const definition = line.slice(column[0].length).trim();
      columns.push(parseColumn((column[1] ?? '').replace(/``/g, '`'), definition));
      continue;
    }
    if (line.startsWith('PRIMARY KEY')) {
      indexes.set('PRIMARY', line);
      primary = keyColumns(line);
      continue;
    }
    const constraint = /^CONSTRAINT `((?:[^`]|``)*)` (FOREIGN KEY|CHECK)/.exec(line);
    if (constraint) {
      (constraint[2] === 'CHECK' ? checks : foreignKeys).set(
        (constraint[1] ?? '').replace(/``/g, '`'),
        line,
      );
      continue;
    }
    const key = /^(?:UNIQUE |FULLTEXT |SPATIAL |VECTOR )?(?:KEY|INDEX) `((?:[^`]|``)*)`/.exec(line);
    if (key) {
      indexes.set((key[1] ?? '').replace(/``/g, '`'), line);
      if (line.startsWith('UNIQUE') && firstUnique === undefined) firstUnique = keyColumns(line);
    }
  }
  return {
    name,
    columns,
    indexes,
    foreignKeys,
    checks,
    options,
    rowKey: primary.length > 0 ? primary : (firstUnique ?? []),
  };
}

function parseColumn(name: string, definition: string): ColumnDefinition {
  const type =
    /^[a-z]+(?:\([^)]*\))?(?: unsigned)?(?: zerofill)?/i.exec(definition)?.[0] ??
    definition.split(' ')[0] ??
    '';
  const charset = /(CHARACTER SET \S+(?: COLLATE \S+)?|COLLATE \S+)/.exec(definition)?.[1];
  const defaultValue = /DEFAULT ('(?:[^']|'')*'|\S+)/.exec(definition)?.[1];
  return {
    name,
    definition,
    type,
    nullable: !/\bNOT NULL\b/.test(definition),
    default: defaultValue,
    charset,
  };
}

/** The column names of a key line, e.g. `KEY `k` (`a`,`b`(10))` gives a, b. */
function keyColumns(line: string): string[] {
  const list = /\((.*)\)/.exec(line)?.[1] ?? '';
  return [...list.matchAll(/`((?:[^`]|``)*)`/g)].map((match) =>
    (match[1] ?? '').replace(/``/g, '`'),
  );
}
