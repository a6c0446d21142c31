/**
 * The PostgreSQL checker of a dump file (`load`): it lets through what the dump writer
 * writes (test/fixtures/dumps/postgresql.sql, a dump with an object of every kind) and
 * refuses anything else, naming the statement, never a value.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { newDumpLedger, type DumpLedger } from '../../src/engine/engine.js';
import { postgresqlScriptFormat } from '../../src/engine/postgresql/script-format.js';
import { UnexpectedStatementError } from '../../src/errors.js';

const DUMP = readFileSync('test/fixtures/dumps/postgresql.sql', 'utf8');

/** The statements of `text`, each with its data read through (a COPY's), as the reader gives them. */
async function readAll(text: string): Promise<{ sql: string; data?: string }[]> {
  const statements: { sql: string; data?: string }[] = [];
  for await (const statement of postgresqlScriptFormat.readStatements(
    Readable.from([Buffer.from(text)]) as AsyncIterable<Buffer>,
  )) {
    if (statement.data === undefined) {
      statements.push({ sql: statement.sql });
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of statement.data) chunks.push(chunk);
    statements.push({ sql: statement.sql, data: Buffer.concat(chunks).toString('utf8') });
  }
  return statements;
}

async function statementsOf(text: string): Promise<string[]> {
  return (await readAll(text)).map((statement) => statement.sql);
}

/** Checks `text` as a dump file, a COPY's data too; the refusal's message, or undefined. */
async function refusal(
  text: string,
  ledger: DumpLedger = newDumpLedger(),
): Promise<string | undefined> {
  const checker = postgresqlScriptFormat.checker({ kind: 'dump', databases: ['target'], ledger });
  try {
    for (const statement of await readAll(text)) {
      if (statement.data === undefined) {
        checker.check(statement.sql);
        continue;
      }
      const checked = checker.checkData?.(
        statement.sql,
        Readable.from([Buffer.from(statement.data)]) as AsyncIterable<Buffer>,
      );
      if (checked === undefined) throw new Error('the dump checker checks no data');
      for await (const chunk of checked.data) expect(chunk.length).toBeGreaterThan(0);
    }
    checker.finish();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UnexpectedStatementError);
    return (error as Error).message;
  }
}

describe('the PostgreSQL checker of a dump', () => {
  it('accepts what the dump writer writes', async () => {
    expect(await refusal(DUMP)).toBeUndefined();
    const starts = new Set((await statementsOf(DUMP)).map((sql) => sql.split(/\s+/, 2).join(' ')));
    expect([...starts]).toEqual(
      expect.arrayContaining([
        'SET client_encoding',
        'CREATE EXTENSION',
        'CREATE SCHEMA',
        'COMMENT ON',
        'DROP TYPE',
        'CREATE TYPE',
        'DROP DOMAIN',
        'CREATE DOMAIN',
        'DROP FUNCTION',
        'CREATE OR',
        'DROP PROCEDURE',
        'DROP SEQUENCE',
        'CREATE SEQUENCE',
        'SELECT pg_catalog.setval(\'"app"."s"\',',
        'DROP TABLE',
        'CREATE TABLE',
        'ALTER TABLE',
        'COPY "app"."t"',
        'CREATE INDEX',
        'DROP VIEW',
        'CREATE VIEW',
        'DROP MATERIALIZED',
        'CREATE MATERIALIZED',
        'REFRESH MATERIALIZED',
        'CREATE TRIGGER',
        'CREATE POLICY',
      ]),
    );
  });

  it('shares what a file created with the next files of the dump (the directory form)', async () => {
    const ledger = newDumpLedger();
    expect(
      await refusal(
        'DROP TABLE IF EXISTS "app"."x" CASCADE;\nCREATE TABLE "app"."x" ("id" integer);\n',
        ledger,
      ),
    ).toBeUndefined();
    expect(await refusal('INSERT INTO "app"."x" ("id") VALUES (\'1\');\n', ledger)).toBeUndefined();
    expect(await refusal('INSERT INTO "app"."y" ("id") VALUES (\'1\');\n', ledger)).toMatch(
      /an INSERT into a table the dump did not create/,
    );
  });

  const refused: readonly (readonly [string, RegExp])[] = [
    ['GRANT ALL ON ALL TABLES IN SCHEMA app TO PUBLIC', /`GRANT ALL`/],
    ["CREATE ROLE sbchk_evil SUPERUSER LOGIN PASSWORD 'secret'", /a CREATE ROLE:/],
    ["CREATE USER sbchk_evil PASSWORD 'secret'", /a CREATE USER:/],
    ["ALTER ROLE postgres PASSWORD 'secret'", /`ALTER ROLE`/],
    ["ALTER SYSTEM SET archive_command = 'secret'", /`ALTER SYSTEM`/],
    ['SET ROLE postgres', /a SET of role/],
    ['SET SESSION AUTHORIZATION postgres', /a SET of authorization/],
    ["SELECT pg_catalog.set_config('search_path', 'app', false)", /SET search_path to a value/],
    ["SELECT pg_catalog.pg_read_file('/etc/passwd')", /a SELECT/],
    ["COPY app.t TO '/tmp/sbchk_out'", /a COPY/],
    ["COPY (SELECT 1) TO PROGRAM 'touch /tmp/sbchk_evil'", /a COPY/],
    // Of the dump's form into a table it created, but no data line ends it.
    [
      'COPY "app"."t" ("id") FROM stdin',
      /COPY data of "app"."t", row 1: no \\. line ends the data/,
    ],
    [
      'COPY "victim"."t" ("id") FROM stdin',
      /COPY into "victim"."t", a table the dump did not create/,
    ],
    ['COPY "app"."t" ("id") FROM stdin WITH (FORMAT csv)', /a COPY of another form than/],
    ["LOAD 'evil.so'", /`LOAD`/],
    ['DROP DATABASE victim', /`DROP DATABASE`/],
    ['DROP SCHEMA victim CASCADE', /`DROP SCHEMA`/],
    ['DROP TABLE IF EXISTS "victim"."t" CASCADE', /a DROP TABLE not followed by its CREATE/],
    ['DROP TABLE "app"."t"', /without IF where a dump's has it/],
    ['TRUNCATE "victim"."t"', /`TRUNCATE`/],
    ['DELETE FROM "victim"."t"', /`DELETE FROM`/],
    ['INSERT INTO "victim"."t" ("id") VALUES (\'secret\')', /a table the dump did not create/],
    [
      'INSERT INTO "app"."t" ("v") SELECT "v" FROM "victim"."t"',
      /INSERT other than INSERT … VALUES/,
    ],
    [
      'INSERT INTO "app"."t" ("v") VALUES (pg_catalog.pg_read_file(\'secret\'))',
      /an expression for a value/,
    ],
    [
      'CREATE TRIGGER tg2 BEFORE INSERT ON victim.t FOR EACH ROW EXECUTE FUNCTION app.trf()',
      /a trigger on a table the dump did not create/,
    ],
    ['CREATE POLICY p2 ON victim.t USING (true)', /a policy on a table the dump did not create/],
    ['CREATE INDEX i2 ON victim.t (id)', /an index on a relation the dump did not create/],
    [
      'ALTER TABLE ONLY "victim"."t" ADD CONSTRAINT "c" CHECK (true)',
      /an ALTER TABLE of a table the dump did not create/,
    ],
    ['ALTER TABLE "app"."t" OWNER TO sbchk_evil', /an ALTER TABLE … OWNER/],
    ['ALTER TABLE "app"."t" DISABLE ROW LEVEL SECURITY', /an ALTER TABLE … DISABLE/],
    ['COMMENT ON TABLE "victim"."t" IS \'secret\'', /a COMMENT ON a table the dump did not create/],
    [
      'REFRESH MATERIALIZED VIEW "victim"."mv"',
      /a REFRESH of a materialized view the dump did not create/,
    ],
    ['CALL app.pr(1)', /`CALL APP`/],
    ["DO $$BEGIN EXECUTE 'secret'; END$$", /`DO`/],
    ['BEGIN', /`BEGIN`/],
    ['COMMIT', /`COMMIT`/],
    [
      'CREATE FUNCTION app.g() RETURNS int LANGUAGE sql AS $$SELECT 1$$',
      /without its DROP … IF EXISTS/,
    ],
    [
      'DROP TABLE IF EXISTS app.x CASCADE;\nCREATE TABLE app.x AS SELECT * FROM victim.t',
      /without its columns/,
    ],
    [
      'DROP TABLE IF EXISTS app.x CASCADE;\nCREATE TABLE app.y (id int)',
      /of another name than its DROP/,
    ],
    [
      'DROP TABLE IF EXISTS app.x CASCADE;\nCREATE VIEW app.x AS SELECT 1',
      /a DROP TABLE not followed by its CREATE/,
    ],
    [
      'SELECT pg_catalog.setval(\'"victim"."s"\', 1, false)',
      /a setval of a sequence the dump did not create/,
    ],
    ['SELECT pg_catalog.setval(\'"app"."s"\', 1, false)', /a second setval/],
    ['CREATE EXTENSION dblink', /without IF where a dump's has it/],
    ['VACUUM', /`VACUUM`/],
    ['CHECKPOINT', /`CHECKPOINT`/],
  ];

  for (const [statement, reason] of refused) {
    it(`refuses ${statement.split('\n').at(-1) ?? ''}`, async () => {
      const message = await refusal(`${DUMP}${statement};\n`);
      expect(message).toMatch(reason);
      expect(message).toMatch(/not a statement a dump writes|not a dump's data/);
      expect(message).not.toContain('secret');
    });
  }

  it('refuses what reaches outside the database: a function in C, an extension such as dblink', async () => {
    for (const [statement, reason] of [
      [
        "DROP FUNCTION IF EXISTS app.g() CASCADE;\nCREATE FUNCTION app.g() RETURNS int LANGUAGE c AS 'evil.so', 'g'",
        /a function in C, which loads a library: it reaches outside the database/,
      ],
      [
        "DROP FUNCTION IF EXISTS app.g() CASCADE;\nCREATE FUNCTION app.g() RETURNS int LANGUAGE plpython3u AS $$import os; os.system('secret')$$",
        /language plpython3u not known here to be trusted/,
      ],
      [
        'CREATE EXTENSION IF NOT EXISTS "dblink" WITH SCHEMA "app"',
        /extension "dblink" reaches outside/,
      ],
    ] as const) {
      const message = await refusal(`${DUMP}${statement};\n`);
      expect(message).toMatch(reason);
      expect(message).not.toContain('secret');
    }
  });

  it('refuses a statement inserted before the rows', async () => {
    const at = DUMP.indexOf('INSERT INTO');
    expect(
      await refusal(`${DUMP.slice(0, at)}CREATE ROLE sbchk_evil SUPERUSER;\n${DUMP.slice(at)}`),
    ).toMatch(/not a statement a dump writes/);
  });
});
