/**
 * Dump fidelity: every column type, object and odd name of the restore fixture survives
 * dump -> load, in every form (file, directory; none, gzip, zstd; age-encrypted), read in
 * parallel key ranges: CHECKSUM TABLE and every byte of every row are equal. The plain file
 * also loads with the stock `mariadb` client.
 */
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readIdentityFile } from '../../../src/crypto/recipients.js';
import { dumpDatabase } from '../../../src/dump/dump-database.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { fillRestoreSource, rowsAsHex, TYPES_COLUMNS } from '../../fixtures/restore-source.js';
import { ageDecrypt, ageKeygen } from '../../helpers/age.js';
import {
  createTestDatabase,
  loadWithStockClient,
  type TestDatabase,
} from '../../helpers/database.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import { otherObjects } from '../../helpers/restore.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function expectSameDatabase(source: TestDatabase, target: TestDatabase): Promise<void> {
  expect(await target.checksums()).toEqual(await source.checksums());
  expect(await rowsAsHex(target, 'types', TYPES_COLUMNS)).toEqual(
    await rowsAsHex(source, 'types', TYPES_COLUMNS),
  );
  expect(await otherObjects(target.name)).toEqual(await otherObjects(source.name));
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
});
