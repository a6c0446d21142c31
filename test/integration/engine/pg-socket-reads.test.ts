/**
 * A plain PostgreSQL connection reads its socket into one reused 256 KiB buffer
 * (socket-reads.ts): messages longer than the buffer, and split between two reads, must
 * reach the driver's parser and the COPY TO reader intact, one read after another, in
 * released and reused chunk buffers alike.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openPostgresqlSession } from '../../../src/engine/postgresql/open-session.js';
import { createPgTestDatabase, pgConnectionTo } from '../../helpers/postgres.js';

/** Rows of values longer than the read buffer, each different, between short rows. */
const SETUP = `
  CREATE TABLE public.wide (id integer PRIMARY KEY, body text);
  INSERT INTO public.wide
    SELECT g, CASE WHEN g % 3 = 0
      THEN (SELECT string_agg(md5(g::text || x::text), '') FROM generate_series(1, 20000 + g) x)
      ELSE 'short ' || g END
    FROM generate_series(1, 30) g;`;

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

describe('PostgreSQL socket reads into one buffer', () => {
  it('gives rows longer than the buffer whole, to the driver and to COPY TO', async () => {
    const database = await createPgTestDatabase('sbpgsplit_socket');
    await database.exec(SETUP);
    const expected = await database.query<{ id: string; hash: string }>(
      'SELECT id::text AS id, md5(body) AS hash FROM public.wide ORDER BY wide.id',
    );
    const { options, environment } = await pgConnectionTo(database.name);
    const session = await openPostgresqlSession(options, environment);
    try {
      await session.startConsistentSnapshot();
      const table = (await session.describeTables(database.name)).get('public.wide');
      if (table === undefined) throw new Error('no table');
      // The driver's path: a cursor's DataRows of 640 KB and more.
      const read: { id: string; hash: string }[] = [];
      for await (const batch of session.readRowBatches(database.name, table))
        for (const [id, body] of batch)
          // A literal of text without quotes or backslashes: the text in single quotes.
          read.push({ id: id ?? '', hash: md5((body ?? '').slice(1, -1)) });
      expect(read).toEqual(expected);
      // The COPY TO reader's path, twice (the second reuses the first's released buffers).
      for (let pass = 0; pass < 2; pass += 1) {
        const lines: string[] = [];
        for await (const chunk of session.readInsertChunks(database.name, table, {
          statementBytes: 100_000,
        })) {
          lines.push(...chunk.sql.toString('utf8').split('\n').slice(1, -2));
          chunk.release?.();
        }
        expect(
          lines
            .map((line) => {
              const [id, body] = line.split('\t');
              return { id: id ?? '', hash: md5(body ?? '') };
            })
            .sort((a, b) => Number(a.id) - Number(b.id)),
        ).toEqual(expected);
      }
    } finally {
      await session.close();
    }
  });
});
