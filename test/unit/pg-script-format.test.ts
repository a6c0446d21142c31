/** The PostgreSQL script format reads back the lines and statements its files hold. */
import { describe, expect, it } from 'vitest';
import { postgresqlDialect } from '../../src/engine/postgresql/postgresql-dialect.js';
import { postgresqlScriptFormat as format } from '../../src/engine/postgresql/script-format.js';

const ROW = `INSERT INTO "app"."t" ("id","a,b","v") VALUES (1,ROW(1,'x)')::app.pair,E'it\\'s, (ok)');`;

describe('postgresqlScriptFormat', () => {
  it('reads a row line: its head, columns and values', () => {
    const head = format.parseRowHead(ROW);
    expect(head).toEqual({
      text: `INSERT INTO "app"."t" ("id","a,b","v") VALUES (`,
      columns: ['id', 'a,b', 'v'],
    });
    const bounds = new Int32Array(8);
    expect(format.findRowValues(ROW, head?.text.length ?? 0, bounds, 4)).toBe(3);
    const values = [0, 1, 2].map((i) => ROW.slice(bounds[i * 2], bounds[i * 2 + 1]));
    expect(values).toEqual(['1', "ROW(1,'x)')::app.pair", "E'it\\'s, (ok)'"]);
    expect(format.findRowValues(ROW.slice(0, -1), head?.text.length ?? 0, bounds, 4)).toBe(-1);
    expect(format.findRowValues(ROW, head?.text.length ?? 0, bounds, 2)).toBe(-1);
    expect(format.parseRowHead('COMMIT;')).toBeUndefined();
    // As the dialect writes it: columns separated by `, ` (#16: diff read no such line).
    const written = postgresqlDialect.rowLineWriter('app.t', ['id', 'a, b', 'v'])([
      '1',
      "'x, y'",
      'NULL',
    ]);
    const writtenHead = format.parseRowHead(written);
    expect(writtenHead?.columns).toEqual(['id', 'a, b', 'v']);
    expect(format.findRowValues(written, writtenHead?.text.length ?? 0, bounds, 4)).toBe(3);
    expect(format.isFramingLine('BEGIN;')).toBe(true);
    expect(format.isFramingLine(ROW)).toBe(false);
  });

  it('splits and joins INSERTs, and names their table', () => {
    const one = `INSERT INTO "app"."t" ("id") OVERRIDING SYSTEM VALUE VALUES (1)`;
    const split = format.splitInsert(one);
    expect(split).toEqual({
      prefix: `INSERT INTO "app"."t" ("id") OVERRIDING SYSTEM VALUE VALUES `,
      values: '(1)',
    });
    expect(format.joinInsert(split?.prefix ?? '', ['(1)', '(2)'])).toBe(
      `${split?.prefix ?? ''}(1),(2)`,
    );
    expect(format.insertTable(one)).toBe('app.t');
    expect(format.insertTable('INSERT INTO "Odd.Schema"."T" VALUES (1)')).toBe('Odd.Schema.T');
    expect(format.splitInsert('CREATE TABLE x (a int)')).toBeUndefined();
    // A row of a table without a column to insert: nothing to join.
    const empty = postgresqlDialect.rowLineWriter('app.zero', [])([]);
    expect(empty).toBe('INSERT INTO "app"."zero" DEFAULT VALUES;\n');
    expect(format.splitInsert(empty.slice(0, -2))).toBeUndefined();
    expect(format.insertTable(empty.slice(0, -2))).toBe('app.zero');
  });

  it('reads file titles and comments', () => {
    expect(format.fileTitle('-- schema_backup: trigger "app.t_touch" on table "app.t"')).toEqual({
      name: 'app.t_touch',
      table: 'app.t',
    });
    expect(format.fileTitle('-- schema_backup: materialized-view "app.""m"""')).toEqual({
      name: 'app."m"',
      table: undefined,
    });
    // As snapshot files write them: each part of a name quoted on its own.
    expect(
      format.fileTitle(
        '-- schema_backup: trigger "app"."settings.touch" on table "app"."settings"',
      ),
    ).toEqual({ name: 'app.settings.touch', table: 'app.settings' });
    expect(format.fileTitle('-- schema_backup: table "app"."t", category global')).toEqual({
      name: 'app.t',
      table: undefined,
    });
    expect(format.fileTitle('-- schema_backup: extension "plpgsql"')).toEqual({
      name: 'plpgsql',
      table: undefined,
    });
    expect(format.commentText('SELECT 1;')).toBeUndefined();
  });

  it('names the tables a CREATE TABLE needs first', () => {
    expect(
      format.tableDependencies?.(
        'CREATE TABLE "app"."e_2024" PARTITION OF app.events\nFOR VALUES FROM (1) TO (2)',
      ),
    ).toEqual(['app.events']);
    expect(
      format.tableDependencies?.(
        'CREATE TABLE "app"."child" (\n  "b" text CHECK (b IN (\'x\'))\n)\nINHERITS (app.parent, "Odd"."P")',
      ),
    ).toEqual(['app.parent', 'Odd.P']);
    expect(format.tableDependencies?.('CREATE TABLE "app"."t" (\n  "a" integer\n)')).toEqual([]);
    expect(format.tableDependencies?.("SET client_encoding = 'UTF8'")).toBeUndefined();
  });

  it('names every object a CREATE TABLE names, not the fields of a value', () => {
    expect(
      format.tableNeeds?.(
        'CREATE TABLE "app"."t" (\n  "p" app.a_pair,\n  "i" "Odd"."Items"[] DEFAULT app.make((ROW(1)::app.z).a)\n)',
      ),
    ).toEqual(['app.a_pair', 'Odd.Items', 'app.make', 'app.z']);
    expect(
      format.tableNeeds?.('CREATE TABLE "app"."t" OF app.person (\n  "id" WITH OPTIONS\n)'),
    ).toEqual(['app.person']);
    expect(format.tableNeeds?.('CREATE TABLE "app"."t" (\n  "a" integer\n)')).toEqual([]);
    expect(format.tableNeeds?.("SET client_encoding = 'UTF8'")).toBeUndefined();
  });

  it('parses a typed table: its type heads its options, its columns have no type', () => {
    const table = format.parseCreateTable(
      [
        'CREATE TABLE "app"."people" OF app.person (',
        '  "id" WITH OPTIONS NOT NULL,',
        '  "name" WITH OPTIONS DEFAULT \'anon\'::text NOT NULL,',
        '  "nick" WITH OPTIONS',
        ')',
        'PARTITION BY RANGE (id);',
      ].join('\n'),
    );
    expect(
      table?.columns.map((column) => [column.name, column.type, column.nullable, column.default]),
    ).toEqual([
      ['id', '', false, undefined],
      ['name', '', false, "'anon'::text"],
      ['nick', '', true, undefined],
    ]);
    expect(table?.options).toBe('OF app.person PARTITION BY RANGE (id)');
    expect(format.parseCreateTable('CREATE TABLE "app"."p" OF "app"."my type";')?.options).toBe(
      'OF "app"."my type"',
    );
  });

  it('parses a table file as definitions.ts writes it', () => {
    const file = [
      'CREATE TABLE "app"."t" (',
      '  "id" bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME "app"."t_id_seq" START WITH 1) NOT NULL,',
      '  "name" character varying(20) COLLATE pg_catalog."C" DEFAULT \'x\'::character varying NOT NULL,',
      '  "note" text',
      ')',
      "WITH (fillfactor='70');",
      'ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "t_name_key" UNIQUE (name);',
      'ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "t_pkey" PRIMARY KEY (id);',
      'ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "t_check" CHECK ((id > 0));',
      'CREATE INDEX t_note ON app.t USING btree (note);',
      '',
    ].join('\n');
    const table = format.parseCreateTable(file);
    expect(table?.name).toBe('app.t');
    expect(
      table?.columns.map((column) => [column.name, column.type, column.nullable, column.default]),
    ).toEqual([
      ['id', 'bigint', false, undefined],
      ['name', 'character varying(20)', false, "'x'::character varying"],
      ['note', 'text', true, undefined],
    ]);
    expect(table?.options).toBe("WITH (fillfactor='70')");
    expect([...(table?.indexes.keys() ?? [])]).toEqual(['t_name_key', 'PRIMARY', 't_note']);
    expect([...(table?.checks.keys() ?? [])]).toEqual(['t_check']);
    expect(table?.rowKey).toEqual(['id']);
    expect(
      format.isKeyLine('ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "t_pkey" PRIMARY KEY (id);'),
    ).toBe(true);
    expect(format.isKeyLine('CREATE INDEX t_note ON app.t USING btree (note);')).toBe(false);
  });

  it('writes a dump: CHECK constraints with the CREATE, the rest of a table after its rows', () => {
    const table = {
      kind: 'table' as const,
      name: 'app.parent',
      sql: 'CREATE TABLE "app"."parent" (\n  "a" integer\n)',
      after: [
        'ALTER TABLE ONLY "app"."parent" ADD CONSTRAINT "parent_a_check" CHECK ((a > 0))',
        'ALTER TABLE ONLY "app"."parent" ADD CONSTRAINT "late" CHECK ((a < 9)) NOT VALID',
        'ALTER TABLE ONLY "app"."parent" ADD CONSTRAINT "parent_pkey" PRIMARY KEY (a)',
      ],
    };
    expect(format.dump.replaceStructure(table)).toBe(
      [
        'DROP TABLE IF EXISTS "app"."parent" CASCADE;',
        'CREATE TABLE "app"."parent" (\n  "a" integer\n);',
        'ALTER TABLE ONLY "app"."parent" ADD CONSTRAINT "parent_a_check" CHECK ((a > 0));',
        '',
      ].join('\n'),
    );
    expect(format.dump.afterRows(table)).toEqual(table.after.slice(1));
    expect(format.dump.useDatabase).toBeUndefined();
    const view = {
      kind: 'materialized-view' as const,
      name: 'app.counts',
      sql: 'CREATE MATERIALIZED VIEW "app"."counts" AS\nSELECT 1\nWITH NO DATA',
      after: ['CREATE UNIQUE INDEX counts_one ON app.counts USING btree ("?column?")'],
    };
    expect(format.dump.replayableObject(view, undefined)).toBe(
      [
        'DROP MATERIALIZED VIEW IF EXISTS "app"."counts" CASCADE;',
        `${view.sql};`,
        `${view.after[0] ?? ''};`,
        'REFRESH MATERIALIZED VIEW "app"."counts";',
        '',
      ].join('\n'),
    );
    const schema = {
      kind: 'schema' as const,
      name: 'app',
      sql: 'CREATE SCHEMA IF NOT EXISTS "app"',
    };
    expect(format.dump.replayableObject(schema, undefined)).toBe(`${schema.sql};\n`);
  });

  it('tells which relations a view names, as pg_get_viewdef writes them', () => {
    const sql = 'CREATE VIEW "app"."v" AS\nSELECT c.mood\n   FROM app.counts c, "Odd Schema"."T x"';
    expect(format.dump.mentions(sql, 'app.counts')).toBe(true);
    expect(format.dump.mentions(sql, 'app.count')).toBe(false);
    expect(format.dump.mentions(sql, 'Odd Schema.T x')).toBe(true);
    expect(format.dump.mentions(sql, 'app.v2')).toBe(false);
  });

  it('drops every kind of object, and checks the database a session is connected to', () => {
    const { admin } = format;
    expect(admin.dropObject('db', 'function', 'app.add(a integer, b integer)', true)).toBe(
      'DROP FUNCTION IF EXISTS "app"."add"(a integer, b integer)',
    );
    expect(admin.dropObject('db', 'trigger', 'app.orders.touch', false)).toBe(
      'DROP TRIGGER "touch" ON "app"."orders"',
    );
    // What depends on a table goes with it (restore --force re-creates it).
    expect(admin.dropObject('db', 'table', '_marker', true)).toBe(
      'DROP TABLE IF EXISTS "public"."_marker" CASCADE',
    );
    // An extension (or schema) stays while anything else uses it.
    expect(admin.dropObject('db', 'extension', 'citext', true)).toBe(
      'DO $do$BEGIN DROP EXTENSION IF EXISTS "citext"; EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END$do$',
    );
    expect(admin.dropObject('db', 'foreign-keys', 'app.orders', true)).toMatch(
      /^DO \$do\$DECLARE .*to_regclass\('"app"\."orders"'\).*DROP CONSTRAINT/s,
    );
    expect(admin.dropObject('db', 'row-security', 'app.orders', true)).toBe(
      'ALTER TABLE IF EXISTS "app"."orders" NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY',
    );
    expect(admin.useDatabase("it's $do$")).toMatch(
      /^DO \$do1\$BEGIN IF pg_catalog\.current_database\(\) <> 'it''s \$do\$' THEN RAISE EXCEPTION/,
    );
  });

  it('names the one table of an index build, which a load may run beside others', () => {
    const table = (sql: string): string | undefined => format.admin.indexBuild?.(sql)?.table;
    expect(table('CREATE INDEX events_account ON public.events USING btree (account)')).toBe(
      'public.events',
    );
    expect(table('CREATE UNIQUE INDEX "x y" ON ONLY "app"."t.1" USING btree (a)')).toBe('app.t.1');
    expect(
      table('ALTER TABLE ONLY "public"."events" ADD CONSTRAINT "events_pkey" PRIMARY KEY (id)'),
    ).toBe('public.events');
    expect(table('ALTER TABLE "public"."p" ADD CONSTRAINT u UNIQUE (a)')).toBe('public.p');
    for (const other of [
      'ALTER TABLE ONLY "public"."b" ADD CONSTRAINT "f" FOREIGN KEY (r) REFERENCES "public"."a"(id)',
      'ALTER TABLE ONLY "public"."b" ADD CONSTRAINT "c" CHECK (r > 0)',
      'ALTER INDEX "public"."p_pkey" ATTACH PARTITION "public"."c_pkey"',
      'CREATE INDEX i ON public.t USING btree (a); DROP TABLE public.u',
      "COMMENT ON TABLE public.t IS 'x'",
    ])
      expect(table(other), other).toBeUndefined();
    // CREATE INDEX shares its table with other index builds; an added constraint does not.
    const shares = (sql: string): boolean | undefined =>
      format.admin.indexBuild?.(sql)?.sharesTable;
    expect(shares('CREATE INDEX events_account ON public.events USING btree (account)')).toBe(true);
    expect(shares('ALTER TABLE ONLY "public"."events" ADD CONSTRAINT "k" PRIMARY KEY (id)')).toBe(
      false,
    );
    expect(shares('ALTER TABLE "public"."p" ADD CONSTRAINT u UNIQUE (a)')).toBe(false);
  });

  it('splits a plain key of a table that is not partitioned into a shared build and its attach', () => {
    const split = (sql: string): { build: string; attach: string } | undefined =>
      format.admin.indexBuild?.(sql)?.split;
    expect(
      split('ALTER TABLE ONLY "public"."events" ADD CONSTRAINT "events_pkey" PRIMARY KEY ("id")'),
    ).toEqual({
      build: 'CREATE UNIQUE INDEX "events_pkey" ON "public"."events" USING btree ("id")',
      attach:
        'ALTER TABLE ONLY "public"."events" ADD CONSTRAINT "events_pkey" PRIMARY KEY USING INDEX "events_pkey"',
    });
    expect(
      split('ALTER TABLE ONLY "app"."t.1" ADD CONSTRAINT "u ""q""" UNIQUE ("a b", c, "D")'),
    ).toEqual({
      build: 'CREATE UNIQUE INDEX "u ""q""" ON "app"."t.1" USING btree ("a b", c, "D")',
      attach: 'ALTER TABLE ONLY "app"."t.1" ADD CONSTRAINT "u ""q""" UNIQUE USING INDEX "u ""q"""',
    });
    expect(
      format.admin.indexBuild?.('ALTER TABLE ONLY t ADD CONSTRAINT k PRIMARY KEY (a)'),
    ).toEqual(expect.objectContaining({ table: 'public.t', sharesTable: false }));
    // Anything but a plain column list, and a partitioned table's key (no ONLY): as it is.
    for (const other of [
      'ALTER TABLE "public"."p" ADD CONSTRAINT "p_pkey" PRIMARY KEY ("id")',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "k" PRIMARY KEY ("id") INCLUDE ("v")',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "k" PRIMARY KEY ("id") WITH (fillfactor=70)',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "k" PRIMARY KEY ("id") USING INDEX TABLESPACE x',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "u" UNIQUE ("a") DEFERRABLE INITIALLY DEFERRED',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "u" UNIQUE NULLS NOT DISTINCT ("a")',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "u" UNIQUE ("a") NOT VALID',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "u" UNIQUE (("a"))',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "u" UNIQUE ()',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "u" UNIQUE ("a",)',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "u" UNIQUE USING INDEX "i"',
      'ALTER TABLE ONLY "public"."t" /* x */ ADD CONSTRAINT "u" UNIQUE ("a")',
      'ALTER TABLE ONLY "public"."t" -- x\nADD CONSTRAINT "u" UNIQUE ("a")',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "s"."u" UNIQUE ("a")',
      'ALTER TABLE ONLY "public"."t" ADD CONSTRAINT "x" EXCLUDE USING gist ("a" WITH &&)',
    ])
      expect(split(other), other).toBeUndefined();
    // One statement only, as before.
    expect(
      format.admin.indexBuild?.(
        'ALTER TABLE ONLY t ADD CONSTRAINT k PRIMARY KEY (a); DROP TABLE u',
      ),
    ).toBeUndefined();
    expect(
      format.admin.indexBuild?.('ALTER TABLE t ADD CONSTRAINT k UNIQUE (a) INCLUDE (b)')
        ?.sharesTable,
    ).toBe(false);
  });
});
