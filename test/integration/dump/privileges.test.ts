/**
 * An account without the RELOAD privilege cannot block commits for a shared snapshot: the
 * dump falls back to one connection (still one consistent snapshot) and says so.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { dumpDatabase } from '../../../src/dump/dump-database.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { createMemoryLogger } from '../../../src/support/logger.js';
import { connectionTo, createTestDatabase } from '../../helpers/database.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import { serverQuery } from '../../helpers/restore.js';
import { createTempDir } from '../../helpers/temp-dir.js';

describe('dump without the RELOAD privilege', () => {
  it('reads with one connection and warns', async () => {
    const source = await createTestDatabase('dpriv');
    await source.exec('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)');
    await source.exec("INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_1000");
    const user = `sbtest_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await serverQuery(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    onTestFinished(async () => {
      await serverQuery(`DROP USER IF EXISTS '${user}'@'%'`);
    });
    await serverQuery(
      `GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON \`${source.name}\`.* TO '${user}'@'%'`,
    );
    const logger = createMemoryLogger();
    const result = await dumpDatabase(
      mariadbEngine,
      dumpOptionsForTest({
        connection: { ...connectionTo(), user, password },
        databases: [source.name],
        dumpDir: await createTempDir('dump'),
        threads: 2,
        logger,
      }),
    );
    expect(result.parallel).toBe(1);
    expect(result.rows).toBe(1000);
    expect(logger.lines.map((line) => line.message).join('\n')).toMatch(
      /lacks the RELOAD privilege.*one connection/,
    );
    const target = await createTestDatabase('dprivdst');
    await loadDump(
      mariadbEngine,
      loadOptionsForTest({ path: result.path ?? '', into: target.name }),
    );
    expect(await target.checksums()).toEqual(await source.checksums());
  });
});
