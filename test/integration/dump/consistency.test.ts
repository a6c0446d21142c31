/**
 * Consistency: while a writer moves amounts between two tables in transactions, a parallel
 * dump (several connections sharing one snapshot) restores to totals that still add up.
 */
import { describe, expect, it } from 'vitest';
import { dumpDatabase } from '../../../src/dump/dump-database.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { createTestDatabase } from '../../helpers/database.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const TOTAL = 1_000_000;

describe('dump consistency', () => {
  it('sees one instant across connections while transfers commit', async () => {
    const source = await createTestDatabase('dcons');
    await source.exec(
      'CREATE TABLE a (id INT PRIMARY KEY, amount BIGINT NOT NULL, pad VARCHAR(200))',
    );
    await source.exec(
      'CREATE TABLE b (id INT PRIMARY KEY, amount BIGINT NOT NULL, pad VARCHAR(200))',
    );
    await source.exec(
      `INSERT INTO a SELECT seq, IF(seq = 1, ${String(TOTAL)}, 0), REPEAT('p', 200) FROM seq_1_to_50000`,
    );
    await source.exec("INSERT INTO b SELECT seq, 0, REPEAT('p', 200) FROM seq_1_to_50000");
    const writer = await createTestDatabase('dwriter');
    const control = { running: true };
    let transfers = 0;
    const writing = (async () => {
      let step = 0;
      while (control.running) {
        step += 1;
        const row = 1 + (step % 50000);
        // Each transfer takes from a and gives to b in one transaction.
        await writer.exec(
          `START TRANSACTION; UPDATE \`${source.name}\`.a SET amount = amount - 7 WHERE id = 1; UPDATE \`${source.name}\`.b SET amount = amount + 7 WHERE id = ${String(row)}; COMMIT`,
        );
        transfers += 1;
      }
    })();
    try {
      // Let transfers run before and during the dump.
      while (transfers < 20) await new Promise((resolve) => setTimeout(resolve, 10));
      const dumps: string[] = [];
      for (const form of ['file', 'directory'] as const) {
        const result = await dumpDatabase(
          mariadbEngine,
          dumpOptionsForTest({
            databases: [source.name],
            dumpDir: await createTempDir('dump'),
            form,
            chunkRows: 5000,
            threads: 3,
          }),
        );
        expect(result.consistent).toBe(true);
        expect(result.parallel).toBe(3);
        dumps.push(result.path ?? '');
      }
      const before = transfers;
      expect(before).toBeGreaterThan(20);
      for (const path of dumps) {
        const target = await createTestDatabase('dconsdst');
        await loadDump(mariadbEngine, loadOptionsForTest({ path, into: target.name }));
        const [row] = await target.query<{ total: string }>(
          'SELECT (SELECT SUM(amount) FROM a) + (SELECT SUM(amount) FROM b) AS total',
        );
        expect(Number(row?.total)).toBe(TOTAL);
      }
    } finally {
      control.running = false;
      await writing;
    }
    expect(transfers).toBeGreaterThan(20);
  });
});
