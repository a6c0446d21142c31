/**
 * Which databases and tables a dump holds: several databases in one dump (named `a+b`),
 * loaded back under their own names; --only/--exclude shell patterns.
 */
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumpDatabase } from '../../../src/dump/dump-database.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { UsageError } from '../../../src/errors.js';
import { createTestDatabase } from '../../helpers/database.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import { createTempDir } from '../../helpers/temp-dir.js';

describe('dump selection', () => {
  for (const form of ['file', 'directory'] as const) {
    it(`dumps several databases with --exclude, and loads them under their names (${form})`, async () => {
      const first = await createTestDatabase('dsela');
      const second = await createTestDatabase('dselb');
      for (const database of [first, second]) {
        await database.exec('CREATE TABLE keep_a (id INT PRIMARY KEY, v VARCHAR(64))');
        await database.exec(
          `INSERT INTO keep_a SELECT seq, '${database.name}' FROM seq_1_to_${String(first === database ? 100 : 200)}`,
        );
        await database.exec('CREATE TABLE skip_b (id INT)');
        await database.exec('INSERT INTO skip_b VALUES (1)');
      }
      const sums = [await first.checksums(), await second.checksums()];
      const result = await dumpDatabase(
        mariadbEngine,
        dumpOptionsForTest({
          databases: [first.name, second.name],
          dumpDir: await createTempDir('dump'),
          exclude: ['skip_*'],
          form,
          compression: 'gzip',
        }),
      );
      expect(basename(result.path ?? '')).toContain(`_${first.name}+${second.name}_`);
      expect(result.tables).toBe(2);
      expect(result.rows).toBe(300);
      // Loading over the sources is refused while they have tables; once emptied, it loads.
      await expect(
        loadDump(mariadbEngine, loadOptionsForTest({ path: result.path ?? '' })),
      ).rejects.toThrow(UsageError);
      await expect(
        loadDump(mariadbEngine, loadOptionsForTest({ path: result.path ?? '', into: 'x' })),
      ).rejects.toThrow(/--into works with a single-database dump only/);
      for (const database of [first, second]) await database.exec('DROP TABLE keep_a, skip_b');
      const loaded = await loadDump(mariadbEngine, loadOptionsForTest({ path: result.path ?? '' }));
      expect(loaded.rows).toBe(300);
      expect(await first.checksums()).toEqual(new Map([['keep_a', sums[0]?.get('keep_a') ?? '']]));
      expect(await second.checksums()).toEqual(new Map([['keep_a', sums[1]?.get('keep_a') ?? '']]));
    });
  }

  it('keeps only the tables --only names', async () => {
    const source = await createTestDatabase('dselo');
    await source.exec('CREATE TABLE def_one (id INT PRIMARY KEY)');
    await source.exec('CREATE TABLE def_two (id INT PRIMARY KEY)');
    await source.exec('CREATE TABLE other (id INT PRIMARY KEY)');
    const result = await dumpDatabase(
      mariadbEngine,
      dumpOptionsForTest({
        databases: [source.name],
        dumpDir: await createTempDir('dump'),
        only: ['def_*'],
      }),
    );
    expect(result.tables).toBe(2);
    const target = await createTestDatabase('dselot');
    await loadDump(
      mariadbEngine,
      loadOptionsForTest({ path: result.path ?? '', into: target.name }),
    );
    expect([...(await target.checksums()).keys()]).toEqual(['def_one', 'def_two']);
  });
});
