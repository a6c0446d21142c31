/**
 * Secondary indexes of big tables are created after their rows. InnoDB builds an index from
 * the table's sorted rows much faster than it maintains it row by row: MariaDB 10.11 has no
 * change buffer by default, so once an index outgrows the buffer pool every inserted row
 * costs a random page read. On the 2 GB bench (a 6.6 M-row table with one secondary key, a
 * 128 MB buffer pool) this took a load from 56.8 s to 48.8 s, index build included.
 *
 * Only plain B-tree keys (`KEY`, `UNIQUE KEY`) move, and only where that cannot change what
 * the table becomes: never on a table without a primary key (InnoDB could cluster on a
 * unique key), never a key the AUTO_INCREMENT column needs, never on a table in a foreign
 * key (the constraint needs its index when it is created). MariaDB orders a table's keys
 * by kind (unique, then plain and spatial, then fulltext), and within a kind by creation: the
 * keys that move are added back in their original order, after every key of their kind that
 * stays, so `SHOW CREATE TABLE` comes out the same.
 */
import type { DeferredKeys } from '../engine.js';
import { quoteIdentifier as quoteName } from './sql-literal.js';

/** A key definition line of `SHOW CREATE TABLE` that may move (no `USING HASH`: long unique keys keep their hidden column). */
const MOVABLE_KEY = /^ {2}(?:UNIQUE )?KEY `(?:[^`]|``)+` \(`((?:[^`]|``)+)`/;

/**
 * Splits `create` (a table's `SHOW CREATE TABLE`) into the table without its movable
 * secondary keys and the statement that adds them; undefined when nothing may move or the
 * text is not laid out as the server writes it.
 */
export function deferSecondaryKeys(tableName: string, create: string): DeferredKeys | undefined {
  const lines = create.split('\n');
  const end = lines.findIndex((line, index) => index > 0 && line.startsWith(')'));
  const head = lines[0];
  if (end < 2 || head === undefined || !/^CREATE TABLE .* \($/.test(head)) return undefined;
  const body = lines.slice(1, end).map((line, index, all) => {
    const last = index === all.length - 1;
    return last ? line : line.replace(/,$/, '');
  });
  if (body.some((line) => !line.startsWith('  '))) return undefined;
  if (!body.some((line) => line.startsWith('  PRIMARY KEY ('))) return undefined;
  if (body.some((line) => / FOREIGN KEY /.test(line) && line.startsWith('  CONSTRAINT ')))
    return undefined;
  const autoIncrement = body
    .filter((line) => line.startsWith('  `') && / AUTO_INCREMENT\b/.test(line))
    .map((line) => /^ {2}`((?:[^`]|``)+)`/.exec(line)?.[1]);
  const movable = body.map((line) => {
    const key = MOVABLE_KEY.exec(line);
    return key !== null && !line.includes(' USING HASH') && !autoIncrement.includes(key[1]);
  });
  // Keys of one kind keep their creation order: a key that stays pins those before it.
  const kindOf = (line: string): string =>
    line.startsWith('  UNIQUE KEY ') && !line.includes(' USING HASH')
      ? 'unique'
      : line.startsWith('  KEY ') || line.startsWith('  SPATIAL KEY ')
        ? 'plain'
        : 'other';
  for (const kind of ['unique', 'plain']) {
    const pinned = body.findLastIndex(
      (line, index) => kindOf(line) === kind && movable[index] === false,
    );
    for (let index = 0; index < pinned; index += 1)
      if (kindOf(body[index] ?? '') === kind) movable[index] = false;
  }
  const moved = body.filter((_line, index) => movable[index]).map((line) => line.trim());
  const kept = body.filter((_line, index) => movable[index] !== true);
  if (moved.length === 0) return undefined;
  return {
    create: [head, kept.join(',\n'), ...lines.slice(end)].join('\n'),
    addKeys: `ALTER TABLE ${quoteName(tableName)} ${moved.map((key) => `ADD ${key}`).join(', ')}`,
  };
}

/** Names of the tables that `creates` (the database's `CREATE TABLE`s) reference in a foreign key. */
export function referencedTables(creates: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const create of creates) {
    for (const match of create.matchAll(
      / FOREIGN KEY \(.*?\) REFERENCES (?:`(?:[^`]|``)+`\.)?`((?:[^`]|``)+)` \(/g,
    )) {
      const name = match[1];
      if (name !== undefined) names.add(name.replace(/``/g, '`'));
    }
  }
  return names;
}
