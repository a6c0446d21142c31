/**
 * The psql script reader splits statements where psql does: not inside quotes of any kind,
 * comments (nested ones too), parentheses, or a BEGIN ATOMIC function body.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ScriptStatement } from '../../src/engine/engine.js';
import { readPsqlScript } from '../../src/engine/postgresql/script-reader.js';

async function split(text: string, chunkSize = text.length || 1): Promise<ScriptStatement[]> {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize)
    pieces.push(bytes.subarray(at, at + chunkSize));
  const statements: ScriptStatement[] = [];
  for await (const statement of readPsqlScript(Readable.from(pieces))) statements.push(statement);
  return statements;
}

async function sqlOf(text: string): Promise<string[]> {
  return (await split(text)).map((statement) => statement.sql);
}

const MIXED = [
  "-- header; comment\nSET client_encoding = 'UTF8';",
  "INSERT INTO t VALUES ('a;''b', E'c\\';d', E'\\\\', 'back\\slash;');",
  "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x;'; END $$;",
  'CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT $$;$$ $body$;',
  'SELECT "a;""b" FROM x /* one /* two; */ still; */ WHERE a$b$ = $1;',
  'CREATE RULE r AS ON INSERT TO t DO (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2));',
  'CREATE OR REPLACE FUNCTION h(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n SELECT a;\nEND;',
  'SELECT 1',
].join('\n');

describe('readPsqlScript', () => {
  it('ends statements only where psql does', async () => {
    expect(await sqlOf(MIXED)).toEqual([
      "SET client_encoding = 'UTF8'",
      "INSERT INTO t VALUES ('a;''b', E'c\\';d', E'\\\\', 'back\\slash;')",
      "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x;'; END $$",
      'CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT $$;$$ $body$',
      'SELECT "a;""b" FROM x /* one /* two; */ still; */ WHERE a$b$ = $1',
      'CREATE RULE r AS ON INSERT TO t DO (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2))',
      'CREATE OR REPLACE FUNCTION h(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n SELECT a;\nEND',
      'SELECT 1',
    ]);
  });

  it('gives the same statements, lines and offsets whatever the chunk size', async () => {
    const whole = await split(MIXED);
    expect(whole.map((statement) => statement.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 13]);
    for (const size of [1, 2, 3, 7, 64]) expect(await split(MIXED, size)).toEqual(whole);
    const last = whole.at(-2);
    expect(Buffer.from(MIXED).subarray(0, last?.end).toString().endsWith('END;')).toBe(true);
  });

  it('keeps a BEGIN of a transaction an ordinary statement', async () => {
    expect(await sqlOf('BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;')).toEqual([
      'BEGIN',
      'INSERT INTO t VALUES (1)',
      'COMMIT',
    ]);
  });

  it('keeps a meta-command in the text, alone on its line or inside a statement', async () => {
    expect(await sqlOf('\\! rm -rf / ; echo\nSELECT 1;\nSELECT 2 \\g x\n;')).toEqual(
      ['\\! rm -rf / ; echo', 'SELECT 1', 'SELECT 2 \\g x\n'].map((sql) => sql.trimEnd()),
    );
  });

  it('reads a string on many lines and an unfinished last statement', async () => {
    const statements = await split("SELECT 'a\nb\nc';\nSELECT $x$\n$x$ -- no end");
    expect(statements.map((statement) => [statement.sql, statement.line])).toEqual([
      ["SELECT 'a\nb\nc'", 1],
      ['SELECT $x$\n$x$ -- no end', 4],
    ]);
  });

  describe('COPY ... FROM stdin', () => {
    const SCRIPT = [
      'CREATE TABLE "public"."t" ("a" integer, "b" text);',
      'COPY "public"."t" ("a", "b") FROM stdin;',
      '1\tx; DROP TABLE t;',
      "2\t\\\\.'",
      '\\.',
      'SELECT 1;',
      'copy "public"."t" ("a", "b") from STDIN;',
      '3\ty',
      '\\.',
      'SELECT 2;',
      '',
    ].join('\n');

    async function withData(
      text: string,
      chunkSize?: number,
    ): Promise<{ sql: string; line: number; end: number; data?: string }[]> {
      const bytes = Buffer.from(text);
      const size = chunkSize ?? bytes.length;
      const pieces: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
      const found: { sql: string; line: number; end: number; data?: string }[] = [];
      for await (const statement of readPsqlScript(Readable.from(pieces))) {
        let data: string | undefined;
        if (statement.data !== undefined) {
          data = '';
          for await (const lines of statement.data) data += lines.toString();
        }
        found.push({ sql: statement.sql, line: statement.line, end: statement.end, data });
      }
      return found;
    }

    it('reads the lines after it as its data, never as statements, whatever the chunk size', async () => {
      const whole = await withData(SCRIPT);
      expect(whole.map((statement) => [statement.sql, statement.line, statement.data])).toEqual([
        ['CREATE TABLE "public"."t" ("a" integer, "b" text)', 1, undefined],
        ['COPY "public"."t" ("a", "b") FROM stdin', 2, "1\tx; DROP TABLE t;\n2\t\\\\.'\n\\.\n"],
        ['SELECT 1', 6, undefined],
        ['copy "public"."t" ("a", "b") from STDIN', 7, '3\ty\n\\.\n'],
        ['SELECT 2', 10, undefined],
      ]);
      for (const size of [1, 2, 5, 13, 64]) expect(await withData(SCRIPT, size)).toEqual(whole);
    });

    it('skips the data a consumer did not take', async () => {
      const sql: string[] = [];
      for await (const statement of readPsqlScript(Readable.from([SCRIPT])))
        sql.push(statement.sql);
      expect(sql).toEqual([
        'CREATE TABLE "public"."t" ("a" integer, "b" text)',
        'COPY "public"."t" ("a", "b") FROM stdin',
        'SELECT 1',
        'copy "public"."t" ("a", "b") from STDIN',
        'SELECT 2',
      ]);
    });

    it('gives data without an end line to the end of the script', async () => {
      const found = await withData('COPY "public"."t" ("a") FROM stdin;\n1\n2\nSELECT 3;\n');
      expect(found).toEqual([
        { sql: 'COPY "public"."t" ("a") FROM stdin', line: 1, end: 35, data: '1\n2\nSELECT 3;\n' },
      ]);
    });

    it('refuses text after the COPY on its line', async () => {
      await expect(withData('COPY "public"."t" FROM stdin; SELECT 1;\n1\n\\.\n')).rejects.toThrow(
        /text after a COPY/,
      );
    });
  });
});
