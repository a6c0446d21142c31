/**
 * openSessions: the readers of dump, load and restore connect at once, all or none.
 */
import { describe, expect, it } from 'vitest';
import { openSessions, type Engine, type Session } from '../../../src/engine/engine.js';
import { postgresqlEngine } from '../../../src/engine/postgresql/postgresql-engine.js';
import { createPgTestDatabase, pgConnectionTo } from '../../helpers/postgres.js';

describe('openSessions', () => {
  it('opens every session, each on a connection of its own', async () => {
    const database = await createPgTestDatabase('sbopen');
    const { options } = await pgConnectionTo(database.name);
    const sessions = await openSessions(postgresqlEngine, options, 3);
    const others = async (): Promise<string | undefined> =>
      (
        await database.query<{ count: string }>(
          'SELECT count(*) AS count FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        )
      )[0]?.count;
    try {
      expect(sessions).toHaveLength(3);
      expect(await others()).toBe('3');
    } finally {
      for (const session of sessions) await session.close();
    }
  });

  it('closes the sessions it opened when another fails, and throws that failure', async () => {
    // Which connection fails is up to the server (here: the third to ask); what is opened
    // meanwhile must not be left open. The sessions are stand-ins: this is about the promises.
    const closed: number[] = [];
    let calls = 0;
    const engine: Pick<Engine, 'openSession'> = {
      openSession: async () => {
        calls += 1;
        const number = calls;
        await new Promise((resolve) => setTimeout(resolve, number * 5));
        if (number === 3) throw new Error('too many connections for role "app"');
        return {
          close: () => {
            closed.push(number);
            return Promise.resolve();
          },
        } as unknown as Session;
      },
    };
    await expect(openSessions(engine, {}, 4)).rejects.toThrow('too many connections');
    expect(calls).toBe(4);
    expect(closed.sort()).toEqual([1, 2, 4]);
  });
});
