/**
 * Inside a consistent snapshot a MariaDB session reads information_schema.TABLES once for
 * listObjects, describeTables and estimateTableSizes (#17: each read opens every table).
 * What they return is what they return outside one, table, view and sequence alike; and
 * once the snapshot ends, a table created since is seen again.
 */
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { connectionTo, createTestDatabase } from '../../helpers/database.js';

describe('MariaDB metadata in a consistent snapshot', () => {
  it('is what it is outside one, and is read afresh after the snapshot ends', async () => {
    const database = await createTestDatabase('snapmeta');
    await database.exec(
      [
        'CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(10) NOT NULL, UNIQUE KEY (v))',
        "INSERT INTO t1 VALUES (1, 'a'), (2, 'b')",
        'CREATE TABLE t2 (k INT) ENGINE=MyISAM',
        'CREATE TABLE t3 (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING',
        'CREATE VIEW v1 AS SELECT id FROM t1',
        'CREATE SEQUENCE s1',
      ].join(';\n'),
    );
    const plain = await mariadbEngine.openSession(connectionTo(database.name));
    const reader = await mariadbEngine.openSession(connectionTo(database.name));
    try {
      const expected = {
        objects: await plain.listObjects(database.name),
        tables: await plain.describeTables(database.name),
        sizes: await plain.estimateTableSizes(database.name),
      };
      expect([...expected.tables.keys()].sort()).toEqual(['t1', 't2', 't3']);
      expect([...expected.sizes.keys()].sort()).toEqual(['t1', 't2', 't3']);

      await reader.startConsistentSnapshot();
      expect(await reader.listObjects(database.name)).toEqual(expected.objects);
      expect(await reader.estimateTableSizes(database.name)).toEqual(expected.sizes);
      expect(await reader.describeTables(database.name)).toEqual(expected.tables);
      await reader.endConsistentSnapshot();

      await database.exec('CREATE TABLE t4 (id INT PRIMARY KEY)');
      await reader.startConsistentSnapshot();
      const names = (await reader.listObjects(database.name)).objects
        .filter((object) => object.kind === 'table')
        .map((object) => object.name);
      expect(names).toEqual(['t1', 't2', 't3', 't4']);
      expect([...(await reader.describeTables(database.name)).keys()].sort()).toEqual([
        't1',
        't2',
        't3',
        't4',
      ]);
      await reader.endConsistentSnapshot();
      expect((await reader.estimateTableSizes(database.name)).has('t4')).toBe(true);
    } finally {
      await plain.close();
      await reader.close();
    }
  });
});
