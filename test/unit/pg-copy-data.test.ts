/**
 * The COPY data of a dump is let through only as a dump writes it: a COPY of the dump's form
 * into a table the dump created (the dump's checker, dump-guard.ts), each line one row of
 * exactly its columns, with only COPY's own escapes, ended by `\.` (copy-data.ts).
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { newDumpLedger, type CheckedData } from '../../src/engine/engine.js';
import {
  checkedCopyData,
  copyStatement,
  parseCopyStatement,
} from '../../src/engine/postgresql/copy-data.js';
import { postgresqlScriptFormat } from '../../src/engine/postgresql/script-format.js';

const CREATE = 'CREATE TABLE "public"."t" (\n  "id" integer NOT NULL,\n  "note" text\n)';
const CHILD = 'CREATE TABLE "app"."t.2024" PARTITION OF "public"."t"\nFOR VALUES IN (1)';

/** The checker of a dump's file once the dump created public.t and its partition app."t.2024". */
function checker(): {
  check: (sql: string) => unknown;
  checkData: (sql: string, data: AsyncIterable<Buffer>) => CheckedData;
} {
  const made = postgresqlScriptFormat.checker({
    kind: 'dump',
    databases: ['db'],
    ledger: newDumpLedger(),
  });
  made.check('DROP TABLE IF EXISTS "public"."t" CASCADE');
  made.check(CREATE);
  made.check('DROP TABLE IF EXISTS "app"."t.2024" CASCADE');
  made.check(CHILD);
  return {
    check: (sql) => made.check(sql),
    checkData: (sql, data) => {
      if (made.checkData === undefined) throw new Error('the dump checker checks no data');
      return made.checkData(sql, data);
    },
  };
}

function lines(...chunks: string[]): AsyncIterable<Buffer> {
  return Readable.from(chunks.map((chunk) => Buffer.from(chunk)));
}

async function collect(data: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of data) text += chunk.toString();
  return text;
}

async function load(sql: string, ...chunks: string[]): Promise<string> {
  return collect(checker().checkData(sql, lines(...chunks)).data);
}

const COPY = copyStatement('public.t', ['id', 'note']);

describe('COPY data of a dump', () => {
  it('writes and reads back the COPY statement of a table, names quoted', () => {
    expect(COPY).toBe('COPY "public"."t" ("id", "note") FROM stdin');
    expect(parseCopyStatement(copyStatement('a.b".c', ['x"y', 'z']))).toEqual({
      table: 'a.b".c',
      columns: ['x"y', 'z'],
    });
  });

  it('passes the rows of a table the dump created, without the \\. line', async () => {
    const rows = '1\ta\\\\b\\tc\\nd\n2\t\\N\n3\t\n';
    expect(await load(COPY, rows, '\\.\n')).toBe(rows);
    expect(await load(COPY, `${rows}\\.\n`)).toBe(rows);
    // A partition's columns are its parent's.
    const child = checker().checkData(
      copyStatement('app.t.2024', ['id', 'note']),
      lines('1\tx\n\\.\n'),
    );
    expect(child.table).toBe('app.t.2024');
    expect(await collect(child.data)).toBe('1\tx\n');
  });

  it('refuses a line of more or fewer fields than columns', async () => {
    await expect(load(COPY, '1\ta\n2\tb\tc\n\\.\n')).rejects.toThrow(
      /row 2: 3 fields where the COPY names 2 columns/,
    );
    await expect(load(COPY, '1\n\\.\n')).rejects.toThrow(/row 1: 1 fields/);
  });

  it('refuses an escape COPY does not write, and \\N inside a value', async () => {
    await expect(load(COPY, '1\ta\\x41\n\\.\n')).rejects.toThrow(/backslash escape/);
    await expect(load(COPY, '1\t\\101\n\\.\n')).rejects.toThrow(/backslash escape/);
    await expect(load(COPY, '1\ta\\\n\\.\n')).rejects.toThrow(/backslash escape/);
    await expect(load(COPY, '1\ta\\N\n\\.\n')).rejects.toThrow(/\\N inside a value/);
    await expect(load(COPY, '1\ta\rb\n\\.\n')).rejects.toThrow(/carriage return/);
  });

  it('finds a tab, newline, carriage return or backslash at any offset and alignment of a long value', async () => {
    // Long plain runs are skipped four bytes at a time: a special byte must be seen at every
    // position within a word, whatever the alignment of the chunk's memory.
    const checked = async (text: string, shift: number): Promise<string> => {
      const bytes = Buffer.from(`${'-'.repeat(shift)}${text}`).subarray(shift);
      return collect(checkedCopyData(Readable.from([bytes]), 2, 'public.t'));
    };
    for (let shift = 0; shift < 4; shift += 1) {
      for (let at = 0; at < 24; at += 1) {
        const value = (special: string): string =>
          `${'é'.repeat(at % 3)}${'v'.repeat(at)}${special}${'w'.repeat(29 - at)}`;
        const good = `1\tplain\n2\t${value('\\t')}\n3\t${value('\x01')}\n\\.\n`;
        expect(await checked(good, shift)).toBe(good.slice(0, -3));
        await expect(checked(`1\t${value('\r')}\n\\.\n`, shift)).rejects.toThrow(
          /row 1: a raw carriage return/,
        );
        await expect(checked(`1\tx\n2\t${value('\\q')}\n\\.\n`, shift)).rejects.toThrow(
          /row 2: a backslash escape/,
        );
        await expect(checked(`1\tx\n2\t${value('\t')}\n\\.\n`, shift)).rejects.toThrow(
          /row 2: 3 fields/,
        );
        await expect(checked(`1\t${value('\n')}\n\\.\n`, shift)).rejects.toThrow(/row 2: 1 fields/);
      }
    }
  });

  it('refuses data that no \\. line ends, or a line cut short', async () => {
    await expect(load(COPY, '1\ta\n')).rejects.toThrow(/no \\\. line ends the data/);
    await expect(load(COPY, '1\ta\n2\tb')).rejects.toThrow(/without its end/);
    await expect(load(COPY, '1\ta\n\\.')).rejects.toThrow(/backslash escape/);
  });

  it('refuses a COPY into a table the dump did not create, or naming other columns', () => {
    const data = lines('\\.\n');
    expect(() => checker().checkData(copyStatement('public.other', ['id']), data)).toThrow(
      /COPY into "public"."other", a table the dump did not create/,
    );
    expect(() => checker().checkData(copyStatement('public.t', ['id', 'secret']), data)).toThrow(
      /naming column "secret" that the dump did not create/,
    );
    expect(() => checker().checkData(copyStatement('public.t', ['id', 'id']), data)).toThrow(
      /naming column "id" twice/,
    );
  });

  it('refuses a COPY of any other form: PROGRAM, a file, options, TO', () => {
    for (const sql of [
      `COPY "public"."t" ("id", "note") FROM PROGRAM 'rm -rf /'`,
      `COPY "public"."t" ("id", "note") FROM '/etc/passwd'`,
      `COPY "public"."t" ("id", "note") FROM stdin WITH (FORMAT csv)`,
      'COPY "public"."t" FROM stdin',
      'COPY public.t (id, note) FROM stdin',
      'COPY "public"."t" ("id", "note") TO stdout',
      `COPY "public"."t" ("id", "note") FROM stdin; SELECT 1`,
    ])
      expect(() => checker().checkData(sql, lines('\\.\n')), sql).toThrow(
        /a COPY of another form than `COPY "schema"."table"/,
      );
  });

  it('refuses a COPY that reads no data from the script, wherever it stands', () => {
    for (const sql of [
      `COPY "public"."t" ("id", "note") FROM PROGRAM 'rm -rf /'`,
      `copy public.t from '/etc/passwd'`,
      'COPY (SELECT 1) TO stdout',
    ])
      expect(() => checker().check(sql), sql).toThrow(/a COPY that is not followed by its data/);
  });

  it('refuses a COPY right after a DROP, before the CREATE it announces', () => {
    const made = checker();
    made.check('DROP TABLE IF EXISTS "public"."u" CASCADE');
    expect(() => made.checkData(COPY, lines('\\.\n'))).toThrow(/not followed by its CREATE/);
  });

  it('checks data alone, at any line', async () => {
    await expect(
      collect(checkedCopyData(lines('a\tb\n', 'c\td\te\n', '\\.\n'), 2, 'x')),
    ).rejects.toThrow(/row 2/);
  });
});
