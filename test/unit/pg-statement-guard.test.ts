/**
 * The PostgreSQL statement checker lets through only what a snapshot writes for a file's
 * object, read as the server reads it (and as psql splits it).
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { postgresqlScriptFormat } from '../../src/engine/postgresql/script-format.js';
import type { PgFileExpectation } from '../../src/engine/postgresql/statement-guard.js';
import { UnexpectedStatementError } from '../../src/errors.js';

const TABLE: PgFileExpectation = { kind: 'table', name: 'app.t' };
const CREATE_TABLE = 'CREATE TABLE "app"."t" (\n  "id" integer NOT NULL,\n  "v" text\n)';

function refusal(
  statements: readonly string[],
  expected: PgFileExpectation = TABLE,
): string | undefined {
  const guard = postgresqlScriptFormat.checker(expected);
  try {
    for (const sql of statements) guard.check(sql);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UnexpectedStatementError);
    return (error as Error).message;
  }
}

/** The statements of a script as psql splits them, each checked; the refusal if any. */
async function scriptRefusal(
  text: string,
  expected: PgFileExpectation = TABLE,
): Promise<string | undefined> {
  const statements: string[] = [];
  for await (const statement of postgresqlScriptFormat.readStatements(
    Readable.from([Buffer.from(text)]),
  ))
    statements.push(statement.sql);
  return refusal(statements, expected);
}

describe('PgStatementGuard', () => {
  it('accepts a table file: settings, CREATE, rows in a transaction, keys, comments', () => {
    const guard = postgresqlScriptFormat.checker(TABLE);
    const statements = [
      "SET client_encoding = 'UTF8'",
      'SET standard_conforming_strings = on',
      "SELECT pg_catalog.set_config('search_path', '', false)",
      'SET check_function_bodies = false',
      "SET TIME ZONE 'UTC'",
      "SET timezone TO 'UTC'",
      'SET DateStyle = ISO, MDY',
      "SET lc_monetary = 'C'",
      CREATE_TABLE,
      'BEGIN',
      `INSERT INTO "app"."t" ("id","v") VALUES (1,'a''b'),(-2,E'\\\\x\\''),(3,NULL)`,
      `INSERT INTO "app"."t" ("id","v") VALUES (4,$$dollar ' quoted$$::text),(5,'{1,2}'::integer[]::text)`,
      `INSERT INTO app.t (id, v) VALUES (6, ARRAY[[1,2],[3,-4]]::numeric(10,2)[]::text), (7, ROW(1,'x')::text), ((8), '2024-01-01'::timestamp(3) with time zone::text)`,
      'COMMIT',
      'ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "t_pkey" PRIMARY KEY (id)',
      'ALTER TABLE ONLY "app"."t" ALTER COLUMN "v" SET DEFAULT \'x\'::text',
      'CREATE UNIQUE INDEX "t v" ON app.t USING btree (lower(v)) WHERE (v IS NOT NULL)',
      'ALTER SEQUENCE "app"."t_id_seq" OWNED BY "app"."t"."id"',
      'ALTER TABLE "app"."t" ENABLE ROW LEVEL SECURITY',
      'ALTER TABLE "app"."t" FORCE ROW LEVEL SECURITY',
      'COMMENT ON TABLE "app"."t" IS \'t; with a semicolon\'',
      'COMMENT ON COLUMN "app"."t"."v" IS NULL',
      'COMMENT ON CONSTRAINT "t_pkey" ON "app"."t" IS \'k\'',
      'COMMENT ON INDEX "app"."t v" IS \'i\'',
    ];
    const kinds = statements.map((sql) => guard.check(sql).kind);
    expect(kinds).toEqual([
      ...Array<string>(8).fill('set'),
      'create',
      'transaction',
      'insert',
      'insert',
      'insert',
      'transaction',
      ...Array<string>(10).fill('keys'),
    ]);
    expect(guard.check(statements[10] ?? '')).toMatchObject({ rows: 3 });
    guard.finish();
  });

  it('says where the values of an INSERT start, and checks the next rows from there', () => {
    const guard = postgresqlScriptFormat.checker(TABLE);
    guard.check(CREATE_TABLE);
    const insert = `INSERT INTO "app"."t" ("id","v") OVERRIDING SYSTEM VALUE VALUES (1,'x')`;
    expect(guard.check(insert)).toEqual({
      kind: 'insert',
      rows: 1,
      valuesAt: insert.indexOf(' (1,'),
    });
    expect(() => guard.check(`${insert.slice(0, insert.indexOf(' (1,'))} (1,now())`)).toThrow(
      /expression/,
    );
  });

  it('accepts a typed table, its columns with their options only', () => {
    expect(
      refusal([
        'CREATE TABLE "app"."t" OF app.person (\n  "id" WITH OPTIONS NOT NULL,\n  "v" WITH OPTIONS DEFAULT \'x\'::text\n)',
        'ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "t_pkey" PRIMARY KEY (id)',
      ]),
    ).toBeUndefined();
    expect(refusal(['CREATE TABLE "app"."t" OF "app"."person"'])).toBeUndefined();
    expect(refusal(['CREATE TABLE "app"."t" OF person'])).toMatch(/schema-qualified/);
  });

  it('accepts the identity sequence state of its table, and a sequence file', () => {
    expect(
      refusal([
        'CREATE TABLE "app"."t" (\n  "id" bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME "app"."t_id_seq" START WITH 1) NOT NULL\n)',
        `SELECT pg_catalog.setval('"app"."t_id_seq"', 16, true)`,
      ]),
    ).toBeUndefined();
    expect(
      refusal([CREATE_TABLE, `SELECT pg_catalog.setval('"app"."other_seq"', 16, true)`]),
    ).toMatch(/setval of a sequence/);
    const sequence: PgFileExpectation = { kind: 'sequence', name: 'app.s' };
    expect(
      refusal(
        [
          'CREATE SEQUENCE "app"."s"\n  AS bigint\n  START WITH 1',
          "SELECT pg_catalog.setval('app.s', -5, false)",
        ],
        sequence,
      ),
    ).toBeUndefined();
    expect(
      refusal(
        [
          'CREATE SEQUENCE "app"."s"',
          "SELECT pg_catalog.setval('app.s', 5, true)",
          "SELECT setval('app.s', 6, true)",
        ],
        sequence,
      ),
    ).toMatch(/second setval/);
    expect(
      refusal(
        ['CREATE SEQUENCE "app"."s"', "SELECT setval('app.s', nextval('app.s'), true)"],
        sequence,
      ),
    ).toMatch(/setval/);
  });

  it.each([
    ['DROP TABLE "app"."t"', /`DROP TABLE`/],
    ['DO $$ BEGIN PERFORM 1; END $$', /`DO`/],
    ["COPY app.t FROM PROGRAM 'rm -rf /'", /`COPY APP`/],
    ["COPY app.t FROM '/etc/passwd'", /`COPY APP`/],
    ['SET ROLE postgres', /SET of role/],
    ['SET SESSION AUTHORIZATION postgres', /SET of authorization/],
    ["SET search_path = 'evil'", /value a file may not choose/],
    ['SET standard_conforming_strings = off', /value a file may not choose/],
    ["SET client_encoding = 'SJIS'", /value a file may not choose/],
    // money is read and written under the C locale's currency only.
    ["SET lc_monetary = 'ja_JP.UTF-8'", /value a file may not choose/],
    ['SET session_replication_role = replica', /SET of session_replication_role/],
    ["SELECT pg_catalog.set_config('role', 'postgres', false)", /set_config of role/],
    ["SELECT pg_read_file('/etc/passwd')", /a SELECT/],
    ['CREATE TABLE "app"."other" (a int)', /another name/],
    ['CREATE TABLE "app"."t" AS SELECT 1', /without its columns/],
    ['CREATE TABLE t (a int)', /schema-qualified/],
    ['CREATE TABLE "app"."t" (a int); DROP TABLE x', /more than one statement/],
    ['CREATE FUNCTION "app"."f"() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', /CREATE FUNCTION/],
    ['GRANT ALL ON "app"."t" TO PUBLIC', /`GRANT ALL`/],
    ['\\! rm -rf /', /psql meta-command/],
    ['ALTER TABLE "app"."t" OWNER TO evil', /ALTER TABLE … OWNER/],
    [
      'ALTER TABLE "app"."t" ADD CONSTRAINT "f" FOREIGN KEY (a) REFERENCES app.u(id)',
      /foreign key in a table file/,
    ],
    ['ALTER TABLE "app"."u" ADD CONSTRAINT "c" CHECK (true)', /another table/],
    ['CREATE INDEX i ON "app"."u" (a)', /another table/],
    ['COMMENT ON TABLE "app"."u" IS \'x\'', /another object/],
    ['CALL "app"."p"()', /`CALL`/],
    ['VACUUM', /`VACUUM`/],
    ['CHECKPOINT', /`CHECKPOINT`/],
    ["LOAD '/tmp/x.so'", /`LOAD`/],
  ])('refuses %s in a table file', (sql, reason) => {
    expect(refusal(sql.startsWith('CREATE TABLE') ? [sql] : [CREATE_TABLE, sql])).toMatch(reason);
  });

  it.each([
    ['(1,now())', /expression/],
    ["(1,pg_read_file('/etc/passwd'))", /expression/],
    ["(1,(SELECT 'x'))", /expression/],
    ["(1,'x' || 'y')", /expression/],
    ["(1,'x'::text(SELECT 1))", /cast/],
    ["(1,'x') ON CONFLICT DO NOTHING", /more than rows/],
    ["(1,'x') RETURNING *", /more than rows/],
    ["(1,'x'), (2, 'y' -- c\n)", /comment/],
    ["(1,:'var')", /psql variable/],
    ['(1,:var)', /psql variable/],
    ['(1,$1)', /expression/],
    ['(1,DEFAULT)', /expression/],
    ["(1,'x'::regclass::text AT TIME ZONE 'UTC')", /expression/],
  ])('refuses an INSERT with VALUES %s', (values, reason) => {
    expect(refusal([CREATE_TABLE, `INSERT INTO "app"."t" ("id","v") VALUES ${values}`])).toMatch(
      reason,
    );
  });

  it('refuses an INSERT into another table or from a query, and rows before the CREATE', () => {
    expect(refusal([CREATE_TABLE, `INSERT INTO "app"."u" ("id") VALUES (1)`])).toMatch(
      /another table/,
    );
    expect(refusal([CREATE_TABLE, `INSERT INTO "app"."t" SELECT * FROM app.u`])).toMatch(
      /INSERT … VALUES/,
    );
    expect(refusal([`INSERT INTO "app"."t" ("id") VALUES (1)`])).toMatch(/before the CREATE/);
    expect(
      refusal([`INSERT INTO "app"."t" ("id") VALUES (1)`], { kind: 'rows', table: 'app.t' }),
    ).toBeUndefined();
    expect(refusal([CREATE_TABLE], { kind: 'rows', table: 'app.t' })).toMatch(/CREATE TABLE/);
  });

  it('accepts DEFAULT VALUES, the row of a table without a column to insert (#16)', () => {
    const guard = postgresqlScriptFormat.checker({ kind: 'rows', table: 'app.t' });
    expect(guard.check('INSERT INTO "app"."t" DEFAULT VALUES')).toEqual({
      kind: 'insert',
      rows: 1,
      valuesAt: undefined,
    });
    expect(refusal([CREATE_TABLE, 'INSERT INTO "app"."t" DEFAULT VALUES'])).toBeUndefined();
    expect(
      refusal(['INSERT INTO "app"."t" DEFAULT VALUES RETURNING pg_sleep(1)'], {
        kind: 'rows',
        table: 'app.t',
      }),
    ).toMatch(/past its end/);
    expect(
      refusal(['INSERT INTO "app"."t" DEFAULT VALUES /* x */'], { kind: 'rows', table: 'app.t' }),
    ).toMatch(/comment/);
    expect(
      refusal(['INSERT INTO "app"."u" DEFAULT VALUES'], { kind: 'rows', table: 'app.t' }),
    ).toMatch(/another table/);
  });

  it('tells a name with a dot from a schema with one', () => {
    const dotted: PgFileExpectation = { kind: 'table', name: 'app.a.b' };
    expect(
      refusal(
        ['CREATE TABLE "app"."a.b" (x int)', 'COMMENT ON COLUMN app."a.b".x IS NULL'],
        dotted,
      ),
    ).toBeUndefined();
    expect(refusal(['CREATE TABLE "app.a"."b" (x int)'], dotted)).toMatch(
      /schema whose name has a dot/,
    );
  });

  it('accepts a row-level security file: ENABLE and FORCE of its table only', () => {
    const ROW_SECURITY: PgFileExpectation = { kind: 'row-security', name: 'app.t' };
    const guard = postgresqlScriptFormat.checker(ROW_SECURITY);
    guard.check("SET client_encoding = 'UTF8'");
    expect(() => guard.finish()).toThrow(
      /no ENABLE or FORCE ROW LEVEL SECURITY of row security "app.t"/,
    );
    expect(guard.check('ALTER TABLE "app"."t" ENABLE ROW LEVEL SECURITY').kind).toBe('keys');
    expect(guard.check('ALTER TABLE app.t FORCE ROW LEVEL SECURITY').kind).toBe('keys');
    guard.finish();
    expect(refusal(['ALTER TABLE "app"."u" ENABLE ROW LEVEL SECURITY'], ROW_SECURITY)).toMatch(
      /ALTER TABLE of another table/,
    );
    expect(
      refusal(
        ['ALTER TABLE "app"."t" ENABLE ROW LEVEL SECURITY, DISABLE TRIGGER ALL'],
        ROW_SECURITY,
      ),
    ).toMatch(/goes on past its end/);
    expect(
      refusal(
        [
          'ALTER TABLE "app"."t" ENABLE ROW LEVEL SECURITY',
          'COMMENT ON COLUMN "app"."t"."v" IS \'x\'',
        ],
        ROW_SECURITY,
      ),
    ).toMatch(/a COMMENT/);
    for (const other of [
      'ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "f" FOREIGN KEY (a) REFERENCES app.u(id)',
      CREATE_TABLE,
      'CREATE POLICY "p" ON "app"."t" USING (true)',
      `INSERT INTO "app"."t" ("id","v") VALUES (1,'a')`,
    ])
      expect(refusal([other], ROW_SECURITY), other).toMatch(/not a statement a snapshot writes/);
    // Nor is it in a foreign keys file.
    expect(
      refusal(['ALTER TABLE "app"."t" ENABLE ROW LEVEL SECURITY'], {
        kind: 'foreign-keys',
        name: 'app.t',
      }),
    ).toMatch(/ENABLE/);
  });

  it('lets a foreign keys file add a check on its table (one that waits for a routine of a row type), no other key', () => {
    const FOREIGN_KEYS: PgFileExpectation = { kind: 'foreign-keys', name: 'app.t' };
    expect(
      refusal(['ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "c" CHECK (app.ok(t.*))'], FOREIGN_KEYS),
    ).toBeUndefined();
    expect(
      refusal(['ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "k" PRIMARY KEY (id)'], FOREIGN_KEYS),
    ).toMatch(/a constraint other than a foreign key or a check/);
    expect(
      refusal(['ALTER TABLE ONLY "app"."u" ADD CONSTRAINT "c" CHECK (true)'], FOREIGN_KEYS),
    ).toMatch(/another table/);
    expect(() => postgresqlScriptFormat.checker(FOREIGN_KEYS).finish()).toThrow(
      /no foreign key or check/,
    );
  });

  it('says which settings the session already holds (after the session reset), as restore may skip them', () => {
    const guard = postgresqlScriptFormat.checker(TABLE);
    const redundant = (sql: string): boolean => guard.check(sql).redundant === true;
    // As the session reset left them.
    expect(redundant("SET client_encoding = 'UTF8'")).toBe(true);
    expect(redundant("SET search_path = ''")).toBe(true);
    expect(redundant("SET timezone = 'UTC'")).toBe(true);
    expect(redundant('SET row_security = off')).toBe(true);
    expect(redundant("SELECT pg_catalog.set_config('check_function_bodies', 'false', false)")).toBe(
      true,
    );
    // Another value, or one the reset does not set: sent; the same again: not.
    expect(redundant("SET datestyle = 'ISO, YMD'")).toBe(false);
    expect(redundant("SET datestyle = 'ISO, YMD'")).toBe(true);
    expect(redundant('SET DateStyle = ISO, MDY')).toBe(false);
    expect(redundant('SET statement_timeout = 0')).toBe(false);
    expect(redundant("SET search_path = 'pg_catalog'")).toBe(false);
    expect(redundant("SET search_path = ''")).toBe(false);
    // SET LOCAL ends with its transaction: the setting is unknown from then on.
    expect(redundant('SET LOCAL row_security = off')).toBe(false);
    expect(redundant('SET row_security = off')).toBe(false);
    expect(redundant('SET row_security = off')).toBe(true);
    // A new file starts from the reset again.
    expect(
      postgresqlScriptFormat.checker(TABLE).check("SET datestyle = 'ISO, YMD'").redundant,
    ).toBe(undefined);
  });

  it('needs the CREATE and a committed transaction', () => {
    const guard = postgresqlScriptFormat.checker(TABLE);
    guard.check("SET client_encoding = 'UTF8'");
    expect(() => guard.finish()).toThrow(/no CREATE/);
    guard.check(CREATE_TABLE);
    guard.check('BEGIN');
    expect(() => guard.finish()).toThrow(/does not commit/);
    expect(refusal([CREATE_TABLE, 'BEGIN', 'BEGIN'])).toMatch(/BEGIN other than/);
    expect(refusal([CREATE_TABLE, 'COMMIT'])).toMatch(/COMMIT without/);
  });

  it('accepts routines, with BEGIN ATOMIC bodies, and refuses what hides a second statement', async () => {
    const add: PgFileExpectation = { kind: 'function', name: 'app.add(a integer, b integer)' };
    const body =
      'CREATE OR REPLACE FUNCTION app.add(a integer, b integer DEFAULT 1)\n RETURNS integer\n LANGUAGE sql\n IMMUTABLE\nBEGIN ATOMIC\n SELECT CASE WHEN a > 0 THEN (a + b) ELSE 0 END;\n SELECT 1 AS "end";\nEND;\n';
    expect(await scriptRefusal(body, add)).toBeUndefined();
    expect(
      await scriptRefusal(
        'CREATE FUNCTION app.add(a integer) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS begin; END; DROP TABLE app.t; SELECT 1 AS end;',
        add,
      ),
    ).toMatch(/goes on past its end/);
    expect(
      await scriptRefusal(
        "CREATE FUNCTION app.add(a integer) RETURNS int LANGUAGE c AS '/tmp/evil.so', 'f';",
        add,
      ),
    ).toMatch(/in C/);
    expect(
      await scriptRefusal(
        'CREATE FUNCTION app.other() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;',
        add,
      ),
    ).toMatch(/another name/);
    expect(
      await scriptRefusal(
        "CREATE FUNCTION app.add(a integer) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\nCOMMENT ON FUNCTION app.add(a integer) IS 'x';",
        add,
      ),
    ).toBeUndefined();
  });

  it('accepts the other objects only as a snapshot writes them', () => {
    expect(
      refusal(
        [
          'CREATE MATERIALIZED VIEW "app"."m" AS\nSELECT 1 AS x\nWITH NO DATA',
          'CREATE UNIQUE INDEX m_x ON app.m USING btree (x)',
        ],
        {
          kind: 'materialized-view',
          name: 'app.m',
        },
      ),
    ).toBeUndefined();
    expect(
      refusal(['CREATE MATERIALIZED VIEW "app"."m" AS SELECT pg_sleep(10)'], {
        kind: 'materialized-view',
        name: 'app.m',
      }),
    ).toMatch(/WITH NO DATA/);
    expect(
      refusal(
        [
          'CREATE TRIGGER t_touch BEFORE UPDATE ON app.t FOR EACH ROW EXECUTE FUNCTION app.touch()',
          'ALTER TABLE "app"."t" DISABLE TRIGGER "t_touch"',
        ],
        { kind: 'trigger', name: 'app.t_touch', table: 'app.t' },
      ),
    ).toBeUndefined();
    expect(
      refusal(
        ['CREATE TRIGGER t_touch BEFORE UPDATE ON app.u FOR EACH ROW EXECUTE FUNCTION app.touch()'],
        {
          kind: 'trigger',
          name: 'app.t_touch',
          table: 'app.t',
        },
      ),
    ).toMatch(/another table/);
    expect(
      refusal(
        [
          'CREATE POLICY "p" ON "app"."t"\n  AS PERMISSIVE\n  FOR SELECT\n  TO PUBLIC\n  USING (true)',
        ],
        {
          kind: 'policy',
          name: 'app.p',
          table: 'app.t',
        },
      ),
    ).toBeUndefined();
    expect(
      refusal(['CREATE SCHEMA IF NOT EXISTS "app"', "COMMENT ON SCHEMA app IS 'x'"], {
        kind: 'schema',
        name: 'app',
      }),
    ).toBeUndefined();
    expect(
      refusal(['CREATE SCHEMA app CREATE TABLE x (a int)'], { kind: 'schema', name: 'app' }),
    ).toMatch(/with more/);
    expect(
      refusal(['CREATE EXTENSION IF NOT EXISTS "citext" WITH SCHEMA "public"'], {
        kind: 'extension',
        name: 'citext',
      }),
    ).toBeUndefined();
    expect(
      refusal(["CREATE TYPE app.e AS ENUM ('a', 'b')"], { kind: 'type', name: 'app.e' }),
    ).toBeUndefined();
    expect(
      refusal(['CREATE TYPE app.e (INPUT = evil_in, OUTPUT = evil_out)'], {
        kind: 'type',
        name: 'app.e',
      }),
    ).toMatch(/enum, composite or range/);
    expect(
      refusal(
        [
          'CREATE DOMAIN "app"."d" AS integer NOT NULL\n  CONSTRAINT "c" CHECK ((VALUE > 0))',
          'COMMENT ON CONSTRAINT "c" ON DOMAIN "app"."d" IS \'x\'',
        ],
        {
          kind: 'domain',
          name: 'app.d',
        },
      ),
    ).toBeUndefined();
    expect(
      refusal(
        ['ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "f" FOREIGN KEY (a) REFERENCES app.u(id)'],
        {
          kind: 'foreign-keys',
          name: 'app.t',
        },
      ),
    ).toBeUndefined();
    expect(
      refusal(['CREATE VIEW "app"."v" AS\nSELECT 1'], { kind: 'view', name: 'app.v' }),
    ).toBeUndefined();
    expect(
      refusal(['CREATE OR REPLACE VIEW "app"."v" AS SELECT 1'], { kind: 'view', name: 'app.v' }),
    ).toMatch(/OR REPLACE/);
  });
});
