/** The one count of row changes (commit message, `log`, `diff`): by key, values by column name. */
import { describe, expect, it } from 'vitest';
import {
  countRowChanges,
  formatRowChanges,
  RowDigestCollector,
  type RowDigest,
} from '../../src/diff/count-row-changes.js';
import { mariadbScriptFormat as script } from '../../src/engine/mariadb/script-format.js';

const row = (id: number | string, value: string): string =>
  `INSERT INTO \`t\` (\`id\`,\`v\`) VALUES (${String(id)},'${value}');`;

function digest(
  lines: readonly string[],
  key: readonly string[] = ['id'],
  max?: number,
): RowDigest {
  const collector = new RowDigestCollector(script, key, max);
  for (const line of lines) collector.add(line);
  return collector.result();
}

describe('countRowChanges', () => {
  it('matches rows by key: added, removed and changed (once)', () => {
    expect(
      countRowChanges(
        digest([row(1, 'a'), row(2, 'b'), row(3, 'c')]),
        digest([row(1, 'a'), row(2, 'B'), row(4, 'd')]),
      ),
    ).toEqual({ added: 1, removed: 1, changed: 1 });
  });

  it('does not depend on the order of the rows', () => {
    expect(
      countRowChanges(
        digest([row(3, 'c'), row(1, 'a'), row(2, 'b')]),
        digest([row(2, 'B'), row(4, 'd'), row(1, 'a')]),
      ),
    ).toEqual({ added: 1, removed: 1, changed: 1 });
  });

  it('compares whole rows, duplicates counted, when there is no key', () => {
    expect(
      countRowChanges(
        digest([row(1, 'a'), row(1, 'a')], []),
        digest([row(1, 'a'), row(2, 'b')], []),
      ),
    ).toEqual({ added: 1, removed: 1, changed: 0 });
  });

  it('compares whole rows when the key changed', () => {
    expect(
      countRowChanges(digest([row(1, 'a')], ['id']), digest([row(1, 'b')], ['id', 'v'])),
    ).toEqual({ added: 1, removed: 1, changed: 0 });
  });

  it('sees no change in rows whose columns were only reordered', () => {
    const reordered = "INSERT INTO `t` (`v`,`id`) VALUES ('a',1);";
    expect(countRowChanges(digest([row(1, 'a')]), digest([reordered]))).toEqual({
      added: 0,
      removed: 0,
      changed: 0,
    });
    const edited = "INSERT INTO `t` (`v`,`id`) VALUES ('b',1);";
    expect(countRowChanges(digest([row(1, 'a')]), digest([edited])).changed).toBe(1);
  });

  it('counts a row that gained a column as changed', () => {
    const wider = "INSERT INTO `t` (`id`,`v`,`w`) VALUES (1,'a',NULL);";
    expect(countRowChanges(digest([row(1, 'a')]), digest([wider]))).toMatchObject({
      added: 0,
      removed: 0,
      changed: 1,
    });
  });

  it('reads literals with commas, parentheses and escaped quotes inside strings', () => {
    const line = (value: string): string =>
      `INSERT INTO \`t\` (\`id\`,\`v\`) VALUES ('k, (1)',${value});`;
    expect(
      countRowChanges(digest([line("'it\\'s, (x)'")]), digest([line("'it\\'s, (y)'")])),
    ).toMatchObject({ added: 0, removed: 0, changed: 1 });
  });

  it('matches rows with a NULL in their key whole, without changing the count of others', () => {
    const before = digest([row('NULL', 'a'), row(1, 'a')]);
    const after = digest([row('NULL', 'b'), row(1, 'b')]);
    expect(countRowChanges(before, after)).toEqual({
      added: 1,
      removed: 1,
      changed: 1,
    });
  });

  it('counts every row of a new table as added', () => {
    expect(countRowChanges(undefined, digest([row(1, 'a'), row(2, 'b')]))).toEqual({
      added: 2,
      removed: 0,
      changed: 0,
    });
  });

  it('compares only the number of rows past the limit, and says so', () => {
    const lines = Array.from({ length: 11 }, (_, index) => row(index, 'v'));
    expect(
      countRowChanges(digest(lines.slice(0, 10), ['id'], 10), digest(lines, ['id'], 10)),
    ).toEqual({ added: 1, removed: 0, changed: 0, counted: false });
  });

  it('counts 14 changed rows among 300,000', () => {
    const lines = Array.from({ length: 300_000 }, (_, index) => row(index, 'v'));
    const before = digest(lines);
    for (let index = 0; index < 14; index += 1) lines[index * 20_000] = row(index * 20_000, 'w');
    expect(countRowChanges(before, digest(lines))).toEqual({
      added: 0,
      removed: 0,
      changed: 14,
    });
  });
});

describe('formatRowChanges', () => {
  it('writes +added -removed ~changed', () => {
    expect(formatRowChanges({ added: 29, removed: 50, changed: 17 })).toBe('+29 -50 ~17');
  });
});
