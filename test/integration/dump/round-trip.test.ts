/**
 * Dump fidelity: every column type, object and odd name of the restore fixture survives
 * dump -> load, in every form (file, directory; none, gzip, zstd; age-encrypted), read in
 * parallel key ranges: CHECKSUM TABLE and every byte of every row are equal. The plain file
 * also loads with the stock `mariadb` client.
 */
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readIdentityFile } from '../../../src/crypto/recipients.js';
import { dumpDatabase } from '../../../src/dump/dump-database.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { fillRestoreSource, rowsAsHex, TYPES_COLUMNS } from '../../fixtures/restore-source.js';
import { sequenceStates } from '../../fixtures/schema-objects.js';
import { ageDecrypt, ageKeygen } from '../../helpers/age.js';
import {
  createTestDatabase,
  loadWithStockClient,
  type TestDatabase,
} from '../../helpers/database.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import { objectMetadata } from '../../helpers/object-metadata.js';
import { otherObjects } from '../../helpers/restore.js';
import { createTempDir } from '../../helpers/temp-dir.js';

/** Every base table's SHOW CREATE TABLE, without the AUTO_INCREMENT counter. */
async function tableDefinitions(database: TestDatabase): Promise<Map<string, string>> {
  const tables = await database.query<{ name: string }>(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
  );
  const definitions = new Map<string, string>();
  for (const { name } of tables) {
    const [row] = await database.query<{ 'Create Table': string }>(
      `SHOW CREATE TABLE \`${name.replace(/`/g, '``')}\``,
    );
    definitions.set(name, (row?.['Create Table'] ?? '').replace(/ AUTO_INCREMENT=\d+/, ''));
  }
  return definitions;
}

async function expectSameDatabase(source: TestDatabase, target: TestDatabase): Promise<void> {
  expect(await tableDefinitions(target)).toEqual(await tableDefinitions(source));
  expect(await target.checksums()).toEqual(await source.checksums());
  expect(await rowsAsHex(target, 'types', TYPES_COLUMNS)).toEqual(
    await rowsAsHex(source, 'types', TYPES_COLUMNS),
  );
  expect(await otherObjects(target.name)).toEqual(await otherObjects(source.name));
  // Each sequence where the source's stood: none hands out a value the source handed out.
  expect(await sequenceStates(target)).toEqual(await sequenceStates(source));
  expect(Object.keys(await sequenceStates(source))).toEqual(['cyc', 'seq']);
  // Client character sets, collations and the database's defaults (issue 15).
  expect(await objectMetadata(target.name)).toEqual(await objectMetadata(source.name));
}

describe('dump and load round trip', () => {
  const cases = [
    { form: 'file', compression: 'none', encrypt: false },
    { form: 'file', compression: 'gzip', encrypt: false },
    { form: 'file', compression: 'zstd', encrypt: true },
    { form: 'directory', compression: 'zstd', encrypt: false },
    { form: 'directory', compression: 'gzip', encrypt: true },
  ] as const;
  for (const { form, compression, encrypt } of cases) {
    it(`keeps every value and object (${form}, ${compression}${encrypt ? ', age' : ''})`, async () => {
      const source = await createTestDatabase('dsrc');
      await fillRestoreSource(source);
      await source.exec('ANALYZE TABLE types');
      const dumpDir = await createTempDir('dump');
      const key = ageKeygen(await createTempDir('dump-key'));
      const result = await dumpDatabase(
        mariadbEngine,
        dumpOptionsForTest({
          databases: [source.name],
          dumpDir,
          form,
          compression,
          recipients: encrypt ? [key.recipient] : [],
          // Key ranges of two rows: the types table is read in several pieces, in parallel.
          chunkRows: 2,
        }),
      );
      expect(result.parallel).toBe(2);
      expect(result.consistent).toBe(true);
      expect(result.path).toBeDefined();
      const names = await readdir(dumpDir);
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(
        new RegExp(
          `^test\\.example\\.org_${source.name}_\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ${form === 'directory' ? '' : `\\.sql${compression === 'none' ? '' : compression === 'gzip' ? '\\.gz' : '\\.zst'}${encrypt ? '\\.age' : ''}`}$`,
        ),
      );
      const target = await createTestDatabase('ddst');
      const loaded = await loadDump(
        mariadbEngine,
        loadOptionsForTest({
          path: result.path ?? '',
          into: target.name,
          identities: encrypt ? await readIdentityFile(key.identityFile) : [],
        }),
      );
      expect(loaded.rows).toBe(result.rows);
      await expectSameDatabase(source, target);
    });
  }

  it('writes a plain file the stock mariadb client loads, and an encrypted one age decrypts', async () => {
    const source = await createTestDatabase('dsrc');
    await fillRestoreSource(source);
    const dumpDir = await createTempDir('dump');
    const plain = await dumpDatabase(
      mariadbEngine,
      dumpOptionsForTest({ databases: [source.name], dumpDir, compression: 'none' }),
    );
    const target = await createTestDatabase('dstock');
    await loadWithStockClient(target.name, plain.path ?? '');
    await expectSameDatabase(source, target);

    const keyDir = await createTempDir('dump-key');
    const key = ageKeygen(keyDir);
    const encrypted = await dumpDatabase(
      mariadbEngine,
      dumpOptionsForTest({
        databases: [source.name],
        dumpDir: await createTempDir('dump2'),
        compression: 'none',
        recipients: [key.recipient],
      }),
    );
    const text = ageDecrypt(key.identityFile, encrypted.path ?? '').toString('utf8');
    expect(text).toMatch(/^-- schema_backup dump \{/);
    expect(text).toMatch(/-- schema_backup dump complete \{.*\}\n$/);
  });

  it('adds the secondary keys of big tables after their rows, giving the same tables', async () => {
    const source = await createTestDatabase('dkeys');
    await source.exec(
      `CREATE TABLE wide (id INT NOT NULL PRIMARY KEY, a VARCHAR(20), b INT, n INT NOT NULL AUTO_INCREMENT,
        c TEXT, KEY by_b (b), UNIQUE KEY by_a (a(10), b), KEY by_n (n), FULLTEXT KEY ft (c),
        UNIQUE KEY long_c (c) USING HASH, KEY later (b, a) COMMENT 'second') ENGINE=InnoDB`,
    );
    await source.exec('ALTER TABLE wide ADD UNIQUE KEY added_unique (b, id)');
    await source.exec(
      'CREATE TABLE parent (id INT PRIMARY KEY, code INT, KEY code (code)) ENGINE=InnoDB',
    );
    await source.exec(
      'CREATE TABLE child (id INT PRIMARY KEY, p INT, KEY p (p), CONSTRAINT fk FOREIGN KEY (p) REFERENCES parent (id)) ENGINE=InnoDB',
    );
    await source.exec('CREATE TABLE small (id INT PRIMARY KEY, v INT, KEY v (v)) ENGINE=InnoDB');
    await source.exec(
      "INSERT INTO wide (id, a, b, c) SELECT seq, CONCAT('a', seq), seq % 7, CONCAT('text ', seq) FROM seq_1_to_300",
    );
    await source.exec('INSERT INTO parent SELECT seq, seq % 5 FROM seq_1_to_300');
    await source.exec('INSERT INTO child SELECT seq, seq FROM seq_1_to_300');
    await source.exec('INSERT INTO small VALUES (1, 1)');
    await source.exec('ANALYZE TABLE wide, parent, child, small');
    for (const form of ['file', 'directory'] as const) {
      const dumpDir = await createTempDir('dump');
      const result = await dumpDatabase(
        mariadbEngine,
        dumpOptionsForTest({ databases: [source.name], dumpDir, form, chunkRows: 100 }),
      );
      const path = result.path ?? '';
      const text =
        form === 'file'
          ? await readFile(path, 'utf8')
          : (
              await Promise.all(
                (await readdir(path)).map(async (name) => readFile(`${path}/${name}`, 'utf8')),
              )
            ).join('\n');
      // wide: the plain keys move; the AUTO_INCREMENT column's, FULLTEXT and USING HASH stay,
      // and so does by_b, created before by_n, which stays.
      // parent is referenced by a foreign key, child has one, small is read whole.
      expect(text.match(/^ALTER TABLE.*$/gm)).toEqual([
        "ALTER TABLE `wide` ADD UNIQUE KEY `added_unique` (`b`,`id`), ADD UNIQUE KEY `by_a` (`a`(10),`b`), ADD KEY `later` (`b`,`a`) COMMENT 'second';",
      ]);
      const target = await createTestDatabase('dkeysdst');
      await loadDump(mariadbEngine, loadOptionsForTest({ path, into: target.name }));
      expect(await tableDefinitions(target)).toEqual(await tableDefinitions(source));
      expect(await target.checksums()).toEqual(await source.checksums());
      if (form === 'file') {
        const stock = await createTestDatabase('dkeysstock');
        await loadWithStockClient(stock.name, path);
        expect(await tableDefinitions(stock)).toEqual(await tableDefinitions(source));
      }
    }
  });
});
