import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compareSummaries,
  summarizeFile,
  summarizeText,
} from '../../src/snapshot/compare-table-file.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { mariadbScriptFormat as script } from '../../src/engine/mariadb/script-format.js';
import { postgresqlScriptFormat as pgScript } from '../../src/engine/postgresql/script-format.js';

const HEADER = [
  '-- table settings',
  'CREATE TABLE `settings` (',
  '  `k` varchar(64) NOT NULL,',
  '  `v` text DEFAULT NULL,',
  '  PRIMARY KEY (`k`)',
  ') ENGINE=InnoDB;',
];
const row = (key: string, value: string): string =>
  `INSERT INTO \`settings\` (\`k\`,\`v\`) VALUES ('${key}','${value}');`;

function tableFile(rows: readonly string[], header: readonly string[] = HEADER): string {
  return [...header, '', ...rows, ''].join('\n');
}

describe('summarizeText', () => {
  it('separates structure lines from row lines, ignoring blank lines', () => {
    const summary = summarizeText(script, tableFile([row('a', '1'), row('b', '2')]));
    expect(summary.structure).toBe(HEADER.join('\n'));
    expect(summary.rowCount).toBe(2);
    expect(summary.rows.keyName).toBe('k');
    expect(summary.rows.rows?.length).toBe(2);
  });

  it('counts only lines that start with INSERT INTO as rows', () => {
    const summary = summarizeText(
      script,
      '  INSERT INTO t VALUES (1);\n-- INSERT INTO t VALUES (2);\nINSERT INTO t VALUES (3);\n',
    );
    expect(summary.rowCount).toBe(1);
    expect(summary.structure).toBe('  INSERT INTO t VALUES (1);\n-- INSERT INTO t VALUES (2);');
  });

  it('summarises empty text', () => {
    const summary = summarizeText(script, '');
    expect(summary.structure).toBe('');
    expect(summary.rowCount).toBe(0);
  });
});

describe('summarizeFile', () => {
  it('gives the same summary as summarizeText', async () => {
    const dir = await createTempDir('cmp');
    const file = join(dir, 'settings.sql');
    const text = tableFile([row('a', '1'), row('b', 'x\\ny'), row('c', '😀')]);
    await writeFile(file, text);
    expect(await summarizeFile(script, file)).toEqual(summarizeText(script, text));
  });

  it('returns undefined for a file that does not exist', async () => {
    const dir = await createTempDir('cmp');
    expect(await summarizeFile(script, join(dir, 'absent.sql'))).toBeUndefined();
  });

  it('throws other errors (a directory)', async () => {
    const dir = await createTempDir('cmp');
    await expect(summarizeFile(script, dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('compareSummaries', () => {
  it('counts every row of a new file as added, and its structure as changed', () => {
    expect(
      compareSummaries(undefined, summarizeText(script, tableFile([row('a', '1'), row('b', '2')]))),
    ).toEqual({ structureChanged: true, rowsAdded: 2, rowsRemoved: 0, rowsChanged: 0 });
  });

  it('sees no change between equal files', () => {
    const text = tableFile([row('a', '1')]);
    expect(compareSummaries(summarizeText(script, text), summarizeText(script, text))).toEqual({
      structureChanged: false,
      rowsAdded: 0,
      rowsRemoved: 0,
      rowsChanged: 0,
    });
  });

  it('counts added, removed and changed rows by key', () => {
    const before = summarizeText(script, tableFile([row('a', '1'), row('b', '2'), row('c', '3')]));
    const after = summarizeText(script, tableFile([row('a', '1'), row('b', 'two'), row('d', '4')]));
    expect(compareSummaries(before, after)).toEqual({
      structureChanged: false,
      rowsAdded: 1,
      rowsRemoved: 1,
      rowsChanged: 1,
    });
  });

  it('sees a structure change, but not a change of blank lines', () => {
    const before = summarizeText(script, tableFile([row('a', '1')]));
    const altered = HEADER.map((line) => line.replace('varchar(64)', 'varchar(128)'));
    expect(
      compareSummaries(before, summarizeText(script, tableFile([row('a', '1')], altered)))
        .structureChanged,
    ).toBe(true);
    const spaced = summarizeText(script, `\n\n${tableFile([row('a', '1')])}\n\n`);
    expect(compareSummaries(before, spaced).structureChanged).toBe(false);
  });

  it('counts a pure column reorder as a structure change, not as changed rows', () => {
    const before = summarizeText(script, tableFile([row('a', '1'), row('b', '2')]));
    const reordered = [HEADER[0] ?? '', HEADER[1] ?? '', HEADER[3] ?? '', HEADER[2] ?? '']
      .concat(HEADER.slice(4))
      .map((line) =>
        line.replace('DEFAULT NULL', 'DEFAULT NULL,').replace('NOT NULL,', 'NOT NULL'),
      );
    const rows = ["('1','a')", "('2','b')"].map(
      (values) => `INSERT INTO \`settings\` (\`v\`,\`k\`) VALUES ${values};`,
    );
    expect(compareSummaries(before, summarizeText(script, tableFile(rows, reordered)))).toEqual({
      structureChanged: true,
      rowsAdded: 0,
      rowsRemoved: 0,
      rowsChanged: 0,
    });
  });

  it('drops the row set beyond the limit and falls back to counts, saying so', () => {
    const many = Array.from({ length: 1001 }, (_, index) => row(String(index), 'v'));
    const big = summarizeText(script, tableFile(many), 1000);
    expect(big.rowCount).toBe(1001);
    expect(big.rows.rows).toBeUndefined();
    const atLimit = summarizeText(script, tableFile(many.slice(0, 1000)), 1000);
    expect(atLimit.rows.rows?.length).toBe(1000);
    expect(compareSummaries(atLimit, big)).toEqual({
      structureChanged: false,
      rowsAdded: 1,
      rowsRemoved: 0,
      rowsChanged: 0,
      rowsCounted: false,
    });
  });

  // Regression (issue 20): past 200,000 rows only counts were compared, so 14 changed rows of
  // a large table were committed as "rows reordered".
  it('counts 14 changed rows among 300,000', () => {
    const lines = Array.from({ length: 300_000 }, (_, index) => row(String(index), 'v'));
    const before = summarizeText(script, tableFile(lines));
    for (let index = 0; index < 14; index += 1)
      lines[index * 20_000] = row(String(index * 20_000), 'w');
    expect(compareSummaries(before, summarizeText(script, tableFile(lines)))).toEqual({
      structureChanged: false,
      rowsAdded: 0,
      rowsRemoved: 0,
      rowsChanged: 14,
    });
  });

  // Rows of a table without a unique key may repeat: going from two identical rows to one
  // removes one.
  it('counts the removal of one of two identical rows', () => {
    const log = (): string => 'INSERT INTO `log` (`n`) VALUES (1);';
    const before = summarizeText(
      script,
      tableFile([log(), log()], ['CREATE TABLE `log` (', '  `n` int(11)', ');']),
    );
    const after = summarizeText(
      script,
      tableFile([log()], ['CREATE TABLE `log` (', '  `n` int(11)', ');']),
    );
    expect(compareSummaries(before, after)).toEqual({
      structureChanged: false,
      rowsAdded: 0,
      rowsRemoved: 1,
      rowsChanged: 0,
    });
  });

  it('counts the transaction around the rows as neither structure nor rows', () => {
    const empty = summarizeText(script, tableFile([]));
    const framed = summarizeText(
      script,
      tableFile(['START TRANSACTION;', row('a', '1'), row('b', '2'), 'COMMIT;']),
    );
    expect(framed.structure).toBe(HEADER.join('\n'));
    expect(framed.rowCount).toBe(2);
    // A table that gets its first rows: rows added, the structure the same.
    expect(compareSummaries(empty, framed)).toEqual({
      structureChanged: false,
      rowsAdded: 2,
      rowsRemoved: 0,
      rowsChanged: 0,
    });
    // The same rows without the transaction (format 1): no change counted.
    const unframed = summarizeText(script, tableFile([row('a', '1'), row('b', '2')]));
    expect(compareSummaries(unframed, framed)).toEqual({
      structureChanged: false,
      rowsAdded: 0,
      rowsRemoved: 0,
      rowsChanged: 0,
    });
  });
});

// Issue 16: a PostgreSQL table file adds its primary key after the rows (as pg_dump does), so
// the key is not known by the first row; an UPDATE counted as one row removed and one added.
describe('a table file whose key follows its rows (PostgreSQL)', () => {
  const pgFile = (value: string): string =>
    [
      '-- schema_backup: table "public"."settings", category global',
      'CREATE TABLE "public"."settings" (',
      '  "k" text NOT NULL,',
      '  "v" text',
      ');',
      '',
      'BEGIN;',
      `INSERT INTO "public"."settings" ("k", "v") OVERRIDING SYSTEM VALUE VALUES ('a', '${value}');`,
      `INSERT INTO "public"."settings" ("k", "v") OVERRIDING SYSTEM VALUE VALUES ('b', 'two');`,
      'COMMIT;',
      '',
      'ALTER TABLE ONLY "public"."settings" ADD CONSTRAINT "settings_pkey" PRIMARY KEY (k);',
      '',
    ].join('\n');

  it('matches rows by that key, in memory and on disk alike', async () => {
    const before = summarizeText(pgScript, pgFile('one'));
    const after = summarizeText(pgScript, pgFile('uno'));
    expect(after.rows.keyName).toBe('k');
    expect(compareSummaries(before, after)).toEqual({
      structureChanged: false,
      rowsAdded: 0,
      rowsRemoved: 0,
      rowsChanged: 1,
    });
    const file = join(await createTempDir('pgsummary'), 'public.settings.sql');
    await writeFile(file, pgFile('uno'));
    expect(await summarizeFile(pgScript, file)).toEqual(after);
  });
});
