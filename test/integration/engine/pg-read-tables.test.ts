/**
 * PostgresqlSession.readTables (#16 speed): the definitions of many tables read with one query
 * per catalog, and their rows, give exactly what showCreate and readRowBatches give table by
 * table: on the varied fixture (partitions, inheritance, identity, serial, comments, RLS,
 * odd names, a table without columns) and on more tables than one group of definitions, with
 * tables whose rows are not asked for or left unread. The session stays usable afterwards.
 */
import { describe, expect, it } from 'vitest';
import {
  namesOfKind,
  type RowLiterals,
  type TableReadRequest,
} from '../../../src/engine/engine.js';
import { openPostgresqlSession } from '../../../src/engine/postgresql/open-session.js';
import {
  TABLES_PER_DEFINITION_QUERY,
  type PostgresqlSession,
} from '../../../src/engine/postgresql/postgresql-session.js';
import { EngineError } from '../../../src/errors.js';
import { PG_SCHEMA_OBJECTS } from '../../fixtures/pg-schema-objects.js';
import { createPgTestDatabase, pgConnectionTo } from '../../helpers/postgres.js';

async function openSession(database: string): Promise<PostgresqlSession> {
  const { options, environment } = await pgConnectionTo(database);
  return openPostgresqlSession(options, environment);
}

async function collect(rows: AsyncIterable<readonly RowLiterals[]>): Promise<RowLiterals[]> {
  const all: RowLiterals[] = [];
  for await (const batch of rows) all.push(...batch);
  return all;
}

/** readTables over every table of `database` against showCreate + readRowBatches of another session. */
async function compareEveryTable(
  database: string,
  {
    skipRows = (index: number) => index % 5 === 4,
    leaveUnread = (index: number) => index % 11 === 10,
  } = {},
): Promise<number> {
  const plain = await openSession(database);
  const reader = await openSession(database);
  try {
    await reader.startConsistentSnapshot();
    const descriptions = await plain.describeTables(database);
    const names = namesOfKind(await plain.listObjects(database), 'table');
    const requests: TableReadRequest[] = names.map((name, index) => ({
      name,
      ...(skipRows(index) ? {} : { rows: descriptions.get(name) }),
    }));
    let index = 0;
    for await (const read of reader.readTables(database, requests)) {
      const request = requests[index] as TableReadRequest;
      expect(read.name).toBe(request.name);
      expect(read.definition).toEqual(await plain.showCreate(database, 'table', request.name));
      if (!leaveUnread(index)) {
        const rows = await collect(read.rows);
        const expected =
          request.rows === undefined
            ? []
            : await collect(plain.readRowBatches(database, request.rows));
        expect(rows).toEqual(expected);
      }
      index += 1;
    }
    expect(index).toBe(requests.length);
    // The session still reads, with its own settings (the definitions' were set back).
    const first = names[0] as string;
    expect(await reader.showCreate(database, 'table', first)).toEqual(
      await plain.showCreate(database, 'table', first),
    );
    await reader.endConsistentSnapshot();
    return names.length;
  } finally {
    await plain.close();
    await reader.close();
  }
}

describe('PostgresqlSession.readTables', () => {
  it('gives what showCreate and readRowBatches give on the varied fixture', async () => {
    const database = await createPgTestDatabase('sbpgspeed_rt_fixture');
    await database.exec(PG_SCHEMA_OBJECTS);
    await database.exec(
      `CREATE TABLE public.no_columns ();
       INSERT INTO public.no_columns DEFAULT VALUES;
       CREATE TABLE public.gen (id int PRIMARY KEY, twice int GENERATED ALWAYS AS (id * 2) STORED);
       INSERT INTO public.gen (id) SELECT g FROM generate_series(1, 300) g;`,
    );
    const tables = await compareEveryTable(database.name, {
      skipRows: () => false,
      leaveUnread: () => false,
    });
    expect(tables).toBeGreaterThan(10);
  });

  it('gives the same across groups of definitions, rows asked or not, read or not', async () => {
    const database = await createPgTestDatabase('sbpgspeed_rt_many');
    const count = TABLES_PER_DEFINITION_QUERY + 30;
    await database.exec(`DO $$
      BEGIN
        FOR i IN 0..${String(count - 1)} LOOP
          EXECUTE format('CREATE TABLE public.%I (id integer PRIMARY KEY, v varchar(20), b bytea, n numeric(8,2) DEFAULT 1.5)', 't' || lpad(i::text, 3, '0'));
          EXECUTE format('COMMENT ON COLUMN public.%I.v IS %L', 't' || lpad(i::text, 3, '0'), 'v of ' || i);
          IF i % 3 = 0 THEN
            EXECUTE format('CREATE INDEX %I ON public.%I (v)', 'i' || i, 't' || lpad(i::text, 3, '0'));
          END IF;
          EXECUTE format($q$INSERT INTO public.%I SELECT g, 'it''s ' || g, CASE WHEN g %% 2 = 0 THEN NULL ELSE '\\x00ff'::bytea END, g / 3.0 FROM generate_series(1, %s) g$q$,
            't' || lpad(i::text, 3, '0'), (i * 37) % 301);
        END LOOP;
      END $$;`);
    expect(await compareEveryTable(database.name)).toBe(count);
  });

  it('says which table is missing', async () => {
    const database = await createPgTestDatabase('sbpgspeed_rt_missing');
    await database.exec('CREATE TABLE public.here (id int)');
    const session = await openSession(database.name);
    try {
      const read = async (): Promise<void> => {
        for await (const table of session.readTables(database.name, [
          { name: 'public.here' },
          { name: 'public.gone' },
        ]))
          await collect(table.rows);
      };
      await expect(read()).rejects.toThrow(EngineError);
      await expect(read()).rejects.toThrow(/no table public\.gone/);
    } finally {
      await session.close();
    }
  });
});
