/**
 * A snapshot whose connection is killed while it reads a table big enough to spill to a
 * staging file: it fails, and closes that file. (It used to be left to the garbage collector:
 * "Closing file descriptor N on garbage collection" in later test runs.)
 */
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { SPILL_BYTES } from '../../../src/snapshot/staged-content.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { createTestDatabase } from '../../helpers/database.js';
import { serverQuery } from '../../helpers/restore.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function openDescriptors(): Promise<string[]> {
  return (await readdir('/proc/self/fd')).sort();
}

describe('a snapshot that fails mid-read', () => {
  it('closes the staging file of the table it was reading', async () => {
    const database = await createTestDatabase('spill');
    await database.exec('CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(300))');
    // About 20 times SPILL_BYTES of SQL: the table spills, and reading it takes a while.
    const rows = Math.ceil((SPILL_BYTES * 20) / 300);
    await database.exec(
      `INSERT INTO big SELECT seq, REPEAT(CHAR(65 + seq % 26), 280) FROM seq_1_to_${String(rows)}`,
    );
    const backupDir = await createTempDir('spill-backup');
    const before = await openDescriptors();
    const snapshot = takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: database.name,
        backupDir,
        categories: { global: ['big'] },
      }),
    );
    snapshot.catch(() => undefined);
    // Kill the reading connection once its SELECT has run for a while (past the spill).
    let killed = false;
    for (let attempt = 0; attempt < 400 && !killed; attempt += 1) {
      const running = await serverQuery<{ id: number }>(
        "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'SELECT%FROM%big%' AND TIME_MS > 150",
        [database.name],
      );
      const first = running[0];
      if (first !== undefined) {
        await serverQuery(`KILL ${String(first.id)}`);
        killed = true;
      } else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(killed).toBe(true);
    await expect(snapshot).rejects.toThrow();
    // Polled: a socket or file may still be closing when the rejection arrives.
    await expect.poll(openDescriptors, { timeout: 5000, interval: 50 }).toEqual(before);
  });
});
