/**
 * The PostgreSQL session beyond values: what it lists, one snapshot for every read and
 * shared between sessions, sequence states, errors and an interrupted read.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { namesOfKind, objectsOfKind, type ObjectKind } from '../../../src/engine/engine.js';
import { postgresqlEngine } from '../../../src/engine/postgresql/postgresql-engine.js';
import { openPostgresqlSession } from '../../../src/engine/postgresql/open-session.js';
import { postgresqlDialect } from '../../../src/engine/postgresql/postgresql-dialect.js';
import type { PostgresqlSession } from '../../../src/engine/postgresql/postgresql-session.js';
import { EngineError } from '../../../src/errors.js';
import { createPgTestDatabase, pgConnectionTo } from '../../helpers/postgres.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function openSession(database: string): Promise<PostgresqlSession> {
  const { options, environment } = await pgConnectionTo(database);
  return openPostgresqlSession(options, environment);
}

const OBJECTS = `
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA app;
CREATE SCHEMA other;
CREATE TYPE app.mood AS ENUM ('a', 'b');
CREATE TYPE app.pair AS (a int, b text);
CREATE TYPE app.span AS RANGE (subtype = float8);
CREATE DOMAIN app.posint AS int CHECK (VALUE > 0);
CREATE TABLE app.settings (k text PRIMARY KEY, v text);
CREATE TABLE app.orders (id serial PRIMARY KEY, total numeric, updated timestamptz);
CREATE TABLE app.items (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
CREATE TABLE public.log (at timestamptz, line text) PARTITION BY RANGE (at);
CREATE TABLE public.log_2024 PARTITION OF public.log FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER stamp BEFORE INSERT ON public.log FOR EACH ROW EXECUTE FUNCTION public.stamp();
CREATE TABLE other.t (x int);
CREATE VIEW app.recent AS SELECT * FROM app.orders;
CREATE MATERIALIZED VIEW app.totals AS SELECT pg_catalog.sum(total) AS total FROM app.orders;
CREATE SEQUENCE app.counter START 10 INCREMENT 5;
CREATE FUNCTION app.add(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b';
CREATE FUNCTION app.add(a text, b text) RETURNS text LANGUAGE sql AS 'SELECT a || b';
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated := now(); RETURN NEW; END$$;
CREATE PROCEDURE app.reset() LANGUAGE sql AS 'DELETE FROM app.settings';
CREATE TRIGGER touch BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TRIGGER audit BEFORE INSERT ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TRIGGER touch BEFORE UPDATE ON app.settings FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.settings ADD CONSTRAINT fk CHECK (k <> '');
`;

describe('PostgreSQL session', () => {
  it('lists every object of the user schemas, schema-qualified, routines with their arguments, triggers by table', async () => {
    const database = await createPgTestDatabase('pgsession_objects');
    await database.exec(OBJECTS);
    const session = await openSession(database.name);
    try {
      expect(session.server.flavor).toBe('postgresql');
      expect(session.server.version).toMatch(/^\d+/);
      const inventory = await session.listObjects(database.name);
      const names = (kind: ObjectKind): string[] => namesOfKind(inventory, kind);
      // Parents before their partitions; within a kind by name.
      expect(names('table')).toEqual([
        'app.items',
        'app.orders',
        'app.settings',
        'other.t',
        'public.log',
        'public.log_2024',
      ]);
      expect(names('view')).toEqual(['app.recent']);
      expect(names('materialized-view')).toEqual(['app.totals']);
      // The identity column's sequence belongs to its table; serial's is a sequence.
      expect(names('sequence')).toEqual(['app.counter', 'app.orders_id_seq']);
      expect(names('function')).toEqual([
        'app.add(a integer, b integer)',
        'app.add(a text, b text)',
        'app.touch()',
        'public.stamp()',
      ]);
      expect(names('procedure')).toEqual(['app.reset()']);
      expect(names('event')).toEqual([]);
      expect(objectsOfKind(inventory, 'trigger')).toEqual([
        { kind: 'trigger', name: 'app.orders.audit', table: 'app.orders' },
        { kind: 'trigger', name: 'app.orders.touch', table: 'app.orders' },
        { kind: 'trigger', name: 'app.settings.touch', table: 'app.settings' },
        // Not public.log_2024's clone of it.
        { kind: 'trigger', name: 'public.log.stamp', table: 'public.log' },
      ]);
      expect(names('schema')).toEqual(['app', 'other', 'public']);
      expect(names('extension')).toEqual(['pgcrypto', 'plpgsql']);
      expect(names('type')).toEqual(['app.mood', 'app.span', 'app.pair']);
      expect(names('domain')).toEqual(['app.posint']);
      // Kinds in the engine's order.
      const kinds = [...new Set(inventory.objects.map((object) => object.kind))];
      expect(kinds).toEqual(postgresqlEngine.objectKinds.filter((kind) => kinds.includes(kind)));
      expect(await session.tableMemberTarget('trigger', 'app.orders.touch')).toEqual({
        name: 'app.touch',
        table: 'app.orders',
      });
      await expect(session.tableMemberTarget('trigger', 'app.orders.nope')).rejects.toThrow(
        /no trigger/,
      );
      const [arrays] = (await session.definitionsClient().query('SELECT ARRAY[1, 2] AS a, 3 AS n'))
        .rows as { a: unknown; n: unknown }[];
      expect(arrays).toEqual({ a: [1, 2], n: 3 });
      const onlyApp = await session.listObjects(database.name, { schemas: ['app'] });
      expect(namesOfKind(onlyApp, 'table')).toEqual(['app.items', 'app.orders', 'app.settings']);
      expect(namesOfKind(onlyApp, 'schema')).toEqual(['app']);
      expect(namesOfKind(onlyApp, 'extension')).toEqual([]);
      const described = await session.describeTables(database.name, { schemas: ['public'] });
      expect([...described.keys()]).toEqual(['public.log', 'public.log_2024']);
      const sizes = await session.estimateTableSizes(database.name);
      expect(sizes.get('app.settings')).toMatchObject({
        rows: 0,
        engine: 'heap',
        transactional: true,
      });
      expect(await session.listDatabases()).toContain(database.name);
      expect(await session.readDatabaseDefaults(database.name)).toMatchObject({
        characterSet: 'UTF8',
      });
      await expect(session.listObjects('postgres')).rejects.toThrow(
        /reads the database it connected to/,
      );
    } finally {
      await session.close();
    }
  });

  it('reads every statement of a snapshot at its start instant, and shares it with another session', async () => {
    const database = await createPgTestDatabase('pgsession_snapshot');
    await database.exec(
      'CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1)',
    );
    const first = await openSession(database.name);
    const second = await openSession(database.name);
    const third = await openSession(database.name);
    try {
      const table = (await first.describeTables(database.name)).get('public.t');
      if (table === undefined) throw new Error('no table');
      const ids = async (session: PostgresqlSession): Promise<string[]> => {
        const result: string[] = [];
        for await (const batch of session.readRowBatches(database.name, table))
          result.push(...batch.map((row) => row[0] ?? ''));
        return result;
      };
      await first.startConsistentSnapshot();
      // Written after the snapshot started, before its first read of the table.
      await database.exec('INSERT INTO public.t VALUES (2)');
      expect(await ids(first)).toEqual(['1']);
      const id = await first.exportSnapshot();
      await database.exec('INSERT INTO public.t VALUES (3)');
      await second.importSnapshot(id);
      expect(await ids(second)).toEqual(['1']);
      // A snapshot is read only.
      await expect(second.execute('INSERT INTO public.t VALUES (4)')).rejects.toMatchObject({
        sqlState: '25006',
      });
      await first.endConsistentSnapshot();
      await second.endConsistentSnapshot();
      expect(await ids(first)).toEqual(['1', '2', '3']);

      // One call: the coordinator exports its snapshot, the readers import it, and the
      // coordinator's transaction ends (the readers keep theirs).
      expect(await first.startSharedSnapshot([second, third])).toMatchObject({ shared: true });
      await database.exec('INSERT INTO public.t VALUES (5)');
      expect(await ids(first)).toEqual(['1', '2', '3', '5']);
      expect(await ids(second)).toEqual(['1', '2', '3']);
      expect(await ids(third)).toEqual(['1', '2', '3']);
      await second.endConsistentSnapshot();
      await third.endConsistentSnapshot();
      await expect(second.importSnapshot("x'; DROP TABLE t; --")).rejects.toThrow(
        /not a snapshot id/,
      );
    } finally {
      await first.close();
      await second.close();
      await third.close();
    }
  });

  it('reads sequence states that a restore sets back exactly, and the WAL position', async () => {
    const database = await createPgTestDatabase('pgsession_sequences');
    await database.exec(`
      CREATE SEQUENCE public.fresh START 10 INCREMENT 5;
      CREATE SEQUENCE public.used START 10 INCREMENT 5 CACHE 20;
      SELECT nextval('public.used'); SELECT nextval('public.used');
      CREATE SEQUENCE public.down INCREMENT -1 MINVALUE -3 MAXVALUE -1;
      SELECT nextval('public.down');
      CREATE SEQUENCE public.full MAXVALUE 2; SELECT nextval('public.full'); SELECT nextval('public.full');
      CREATE SEQUENCE public.round MAXVALUE 2 CYCLE; SELECT nextval('public.round'); SELECT nextval('public.round');
      CREATE SEQUENCE "public"."odd.name";
    `);
    const session = await openSession(database.name);
    try {
      const state = (name: string) => session.readSequenceState(database.name, name);
      expect(await state('public.fresh')).toEqual({ next: '10', round: '0' });
      // CACHE 20: the values a session cached count as handed out.
      expect(await state('public.used')).toEqual({ next: '110', round: '0' });
      expect(await state('public.down')).toEqual({ next: '-2', round: '0' });
      expect(await state('public.full')).toEqual({ next: '2', round: '0', exhausted: true });
      expect(await state('public.round')).toEqual({ next: '1', round: '0' });
      expect(await state('public.odd.name')).toEqual({ next: '1', round: '0' });

      // Set back on fresh copies, each hands out what the source would have.
      for (const [name, expected, start] of [
        ['public.used', '110', '10'],
        ['public.down', '-2', '-1'],
        ['public.round', '1', '1'],
      ] as const) {
        const current = await state(name);
        if (current === undefined) throw new Error('no state');
        await database.exec(`SELECT setval('${name}', ${start}, false)`);
        await session.execute(postgresqlDialect.sequenceStateStatement(name, current));
        const [row] = await database.query<{ value: string }>(`SELECT nextval('${name}') AS value`);
        expect(row?.value).toBe(expected);
      }
      const exhausted = await state('public.full');
      if (exhausted === undefined) throw new Error('no state');
      await database.exec("SELECT setval('public.full', 1, false)");
      await session.execute(postgresqlDialect.sequenceStateStatement('public.full', exhausted));
      await expect(database.query("SELECT nextval('public.full')")).rejects.toThrow(
        /reached maximum value/,
      );
      expect((await session.readSnapshotPosition())?.walLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    } finally {
      await session.close();
    }
  });

  it('stops a read early and stays usable; an aborted session fails what runs and what follows', async () => {
    const database = await createPgTestDatabase('pgsession_abort');
    await database.exec(
      'CREATE TABLE public.big (id int PRIMARY KEY, pad text); INSERT INTO public.big SELECT g, repeat($$x$$, 100) FROM generate_series(1, 5000) g',
    );
    const session = await openSession(database.name);
    try {
      await session.startConsistentSnapshot();
      const table = (await session.describeTables(database.name)).get('public.big');
      if (table === undefined) throw new Error('no table');
      for await (const batch of session.readRowBatches(database.name, table)) {
        expect(batch).toHaveLength(256);
        break;
      }
      expect(await session.readKeyBounds(database.name, 'public.big', 'id')).toEqual({
        min: '1',
        max: '5000',
      });
      const reading = (async () => {
        let rows = 0;
        for await (const batch of session.readRowBatches(database.name, table)) {
          rows += batch.length;
          if (rows >= 512) session.abort();
        }
      })();
      await expect(reading).rejects.toThrow(
        /stopped while reading rows .*the connection was dropped/,
      );
      await expect(session.listDatabases()).rejects.toBeInstanceOf(EngineError);
    } finally {
      await session.close();
    }
  });

  it('connects as psql would: through a service of the service file, and by the default socket', async () => {
    const { options, environment } = await pgConnectionTo('postgres');
    const directory = await createTempDir('pgsession');
    const services = join(directory, 'pg_service.conf');
    await writeFile(
      services,
      `[backup]\nhost=${options.host ?? ''}\nport=${String(options.port)}\nuser=${options.user ?? ''}\ndbname=postgres\nsslmode=disable\n`,
    );
    const env: Record<string, string> = {
      PGSERVICEFILE: services,
      PGSERVICE: 'backup',
      PGPORT: '1',
    };
    if (options.password !== undefined) env.PGPASSWORD = options.password;
    const viaService = await openPostgresqlSession({}, { ...environment, env });
    try {
      expect(viaService.database).toBe('postgres');
    } finally {
      await viaService.close();
    }
    // libpq's default: the socket in /var/run/postgresql, where the local server listens.
    if (existsSync('/var/run/postgresql/.s.PGSQL.5432') && options.host === '127.0.0.1') {
      const viaSocket = await openPostgresqlSession(
        { user: options.user, database: 'postgres' },
        environment,
      );
      await viaSocket.close();
    }
  });

  it('says what is wrong, with no password, when the server cannot be reached or the database is missing', async () => {
    const { options, environment } = await pgConnectionTo('pgsession_no_such_database');
    await expect(openPostgresqlSession(options, environment)).rejects.toMatchObject({
      message: expect.stringMatching(/database does not exist/) as unknown,
      sqlState: '3D000',
    });
    const unreachable = openPostgresqlSession(
      { ...options, host: '127.0.0.1', port: 1, password: 'sekrit' },
      environment,
    );
    await expect(unreachable).rejects.toMatchObject({
      message: expect.stringMatching(
        /cannot reach the PostgreSQL server postgres@127\.0\.0\.1:1\/pgsession_no_such_database \(ECONNREFUSED\)/,
      ) as unknown,
      hint: expect.stringContaining('pg_isready') as unknown,
    });
    await expect(unreachable).rejects.not.toThrow(/sekrit/);
    // sslmode prefer connects in the clear to a server without TLS; require says why it cannot.
    const { options: plain } = await pgConnectionTo('postgres');
    const probe = await openPostgresqlSession({ ...plain, sslMode: 'disable' }, environment);
    const [setting] = (
      await probe.definitionsClient().query("SELECT current_setting('ssl') AS ssl")
    ).rows as { ssl: string }[];
    await probe.close();
    const preferred = await openPostgresqlSession({ ...plain, sslMode: 'prefer' }, environment);
    await preferred.close();
    if (setting?.ssl === 'off') {
      await expect(
        openPostgresqlSession({ ...plain, sslMode: 'require' }, environment),
      ).rejects.toMatchObject({
        message: expect.stringMatching(/does not support TLS/) as unknown,
        hint: expect.stringContaining('sslmode') as unknown,
      });
    }
    const session = await openSession('postgres');
    try {
      await expect(session.execute('SELECT * FROM no_such_table')).rejects.toMatchObject({
        code: 'undefined_table',
        sqlState: '42P01',
      });
      await expect(session.showCreate('postgres', 'table', 'public.t')).rejects.toThrow(
        EngineError,
      );
    } finally {
      await session.close();
    }
  });
});
