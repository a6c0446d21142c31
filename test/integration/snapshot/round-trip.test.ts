/**
 * Fidelity: database -> snapshot -> the stock `mariadb` client -> fresh database gives the
 * same CHECKSUM TABLE, the same bytes in every column, the same structure, and a second
 * snapshot byte-identical to the first.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import {
  COLUMN_TYPES,
  createColumnTypesTable,
  insertColumnTypesRows,
  ROW_COUNT,
} from '../../fixtures/column-types.js';
import { OTHER_CLIENT_OBJECTS_SQL } from '../../fixtures/restore-source.js';
import { OBJECTS_SQL, sequenceStates } from '../../fixtures/schema-objects.js';
import {
  createTestDatabase,
  loadWithStockClient,
  type TestDatabase,
} from '../../helpers/database.js';
import { objectMetadata } from '../../helpers/object-metadata.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

async function createSource(): Promise<TestDatabase> {
  const source = await createTestDatabase('src');
  // Zero dates and a 0 in an AUTO_INCREMENT column need a permissive session.
  await source.exec("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
  await source.exec(createColumnTypesTable('types'));
  for (const statement of insertColumnTypesRows('types')) await source.exec(statement);
  await source.exec("INSERT INTO types (id, vc) VALUES (0, 'id zero')");
  await source.exec('ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_german1_ci');
  for (const statement of OBJECTS_SQL) await source.exec(statement);
  for (const statement of OTHER_CLIENT_OBJECTS_SQL) await source.exec(statement);
  return source;
}

/**
 * Loads a snapshot directory with the stock client in the README's order: the database
 * defaults, tables, then objects that use them.
 */
async function loadSnapshot(target: TestDatabase, hostDir: string): Promise<void> {
  const files = (await readdir(hostDir)).sort().filter((file) => file !== 'database.defaults.sql');
  await loadWithStockClient(target.name, join(hostDir, 'database.defaults.sql'));
  const order = ['', '.sequence', '.view', '.function', '.procedure', '.trigger', '.event'];
  for (const kind of order) {
    for (const file of files.filter(
      (name) =>
        name.endsWith(`${kind}.sql`) &&
        (kind !== '' || !/\.(view|sequence|procedure|function|trigger|event)\.sql$/.test(name)),
    )) {
      await loadWithStockClient(target.name, join(hostDir, file));
    }
  }
}

/** Every column of every row as hex of its bytes, invisible ones included. */
async function rowsAsHex(
  database: TestDatabase,
  table: string,
  columns: readonly string[],
): Promise<unknown[]> {
  const select = columns.map((column) => `HEX(\`${column}\`) AS \`${column}\``).join(', ');
  return database.query(`SELECT ${select} FROM \`${table}\` ORDER BY id`);
}

async function snapshotFiles(hostDir: string): Promise<Map<string, Buffer>> {
  const result = new Map<string, Buffer>();
  for (const file of (await readdir(hostDir)).sort())
    result.set(file, await readFile(join(hostDir, file)));
  return result;
}

describe('snapshot round trip', () => {
  it('restores every column type exactly with the stock client, and re-snapshots byte for byte', async () => {
    const source = await createSource();
    const backupDir = await createTempDir('rt');
    const global = ['types', 'nopk', 'parent', 'child', 'uniq', 'audit'];
    const first = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({ database: source.name, backupDir, categories: { global } }),
    );
    expect(first.git).toBe('committed');
    expect(first.tables.find((table) => table.name === 'types')?.rows).toBe(ROW_COUNT + 1);
    expect(first.objects.map((object) => `${object.kind}:${object.name}`).sort()).toEqual([
      'event:hourly',
      'event:nightly',
      'function:client_charset',
      'function:greet',
      'procedure:count_parents',
      'procedure:utf8mb3_note',
      'sequence:cyc',
      'sequence:seq',
      'trigger:parent_ai',
      'trigger:parent_bu',
      'view:latin1_literal',
      'view:parent_names',
    ]);

    const target = await createTestDatabase('dst');
    await loadSnapshot(target, first.hostDir);

    const sourceChecksums = await source.checksums();
    expect([...(await target.checksums()).entries()]).toEqual([...sourceChecksums.entries()]);
    expect(sourceChecksums.size).toBe(6);

    const columns = ['id', ...COLUMN_TYPES.map((type) => type.column), 'gen_v', 'gen_s'];
    expect(await rowsAsHex(target, 'types', columns)).toEqual(
      await rowsAsHex(source, 'types', columns),
    );
    // FLOAT keeps every bit: stock mariadb-dump writes 3.40282e38 here.
    const [floats] = await target.query<{ f: string }>(
      'SELECT CAST(f AS DOUBLE) AS f FROM types WHERE id = 1',
    );
    expect(Number(floats?.f)).toBe(3.4028234663852886e38);
    // The trigger came after the rows: loading fired nothing.
    expect(await target.query('SELECT * FROM audit')).toEqual([]);
    const [greeting] = await target.query<{ g: string }>("SELECT greet('you') AS g");
    expect(greeting?.g).toBe('hello; you');
    // Each sequence's state came back: no value the source handed out is handed out again.
    expect(await sequenceStates(target)).toEqual(await sequenceStates(source));
    expect(await target.query('SELECT * FROM seq')).toMatchObject([
      { next_not_cached_value: 5100 },
    ]);
    // Objects keep their client character set and collations, the database its defaults.
    expect(await objectMetadata(target.name)).toEqual(await objectMetadata(source.name));
    const [charset] = await target.query<{ f: string }>('SELECT client_charset() AS f');
    expect(charset?.f).toBe('latin1 latin1_swedish_ci');

    // The restored database snapshots to the very same bytes.
    const secondDir = await createTempDir('rt2');
    const second = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: target.name,
        backupDir: secondDir,
        categories: { global },
      }),
    );
    expect(await snapshotFiles(second.hostDir)).toEqual(await snapshotFiles(first.hostDir));
  }, 180_000); // 20-40 s alone, over 60 s on a loaded machine

  it('loads a table file in one transaction with the stock client: a failing row leaves the table empty', async () => {
    const source = await createTestDatabase('txsrc');
    await source.exec('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))');
    await source.exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    const backupDir = await createTempDir('tx');
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({ database: source.name, backupDir, categories: { global: ['t'] } }),
    );
    const file = join(result.hostDir, 't.sql');
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(
      /\n\nSTART TRANSACTION;\nINSERT INTO `t` [^\n]*\(1,'a'\);\n(?:INSERT[^\n]*\n){2}COMMIT;\n$/,
    );
    // The last row now repeats the first one's key: the load stops there, and nothing of the
    // file's rows was committed.
    const broken = join(backupDir, 'broken.sql');
    await writeFile(broken, text.replace("VALUES (3,'c')", "VALUES (1,'c')"));
    const target = await createTestDatabase('txdst');
    await expect(loadWithStockClient(target.name, broken)).rejects.toThrow(/Duplicate entry/);
    expect(await target.query('SELECT * FROM t')).toEqual([]);
  });

  it('writes one row per line in key order, and orders tables without a key by every column', async () => {
    const source = await createSource();
    const backupDir = await createTempDir('order');
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: source.name,
        backupDir,
        categories: { global: ['nopk', 'uniq', 'parent'] },
      }),
    );
    const rowsOf = async (file: string): Promise<string[]> =>
      (await readFile(join(result.hostDir, file), 'utf8'))
        .split('\n')
        .filter((line) => line.startsWith('INSERT'));
    expect(await rowsOf('uniq.sql')).toEqual([
      "INSERT INTO `uniq` (`code`,`n`) VALUES ('a',1);",
      "INSERT INTO `uniq` (`code`,`n`) VALUES ('b',2);",
      "INSERT INTO `uniq` (`code`,`n`) VALUES ('C',3);",
    ]);
    expect(await rowsOf('nopk.sql')).toEqual([
      'INSERT INTO `nopk` (`a`,`b`,`c`) VALUES (NULL,NULL,NULL);',
      "INSERT INTO `nopk` (`a`,`b`,`c`) VALUES ('A',1,0x78);",
      "INSERT INTO `nopk` (`a`,`b`,`c`) VALUES ('a',1,0x78);",
      "INSERT INTO `nopk` (`a`,`b`,`c`) VALUES ('a',1,0x78);",
      "INSERT INTO `nopk` (`a`,`b`,`c`) VALUES ('b',-1,0x00);",
    ]);
    const parent = await readFile(join(result.hostDir, 'parent.sql'), 'utf8');
    expect(parent).toContain("VALUES (0,'zero');");
    expect(parent).not.toContain('TRIGGER');
    const trigger = await readFile(join(result.hostDir, 'parent_ai.trigger.sql'), 'utf8');
    expect(trigger).toMatch(/-- trigger `parent_ai`, definer `root`@`[^`]+`\n/);
    expect(trigger).toContain('DELIMITER ;;\nCREATE TRIGGER parent_ai AFTER INSERT ON parent');
    expect(trigger).not.toMatch(/CREATE DEFINER/);
  });
});
