/** How restore joins one-row INSERTs of a table, and how load routes an INSERT to its table. */
import { describe, expect, it } from 'vitest';
import { insertTable, splitInsert } from '../../src/engine/mariadb/admin-statements.js';

describe('splitInsert and insertTable', () => {
  it('splits our one-row INSERT into the part shared by a table and its row', () => {
    expect(splitInsert("INSERT INTO `settings` (`k`,`v`) VALUES ('a','one')")).toEqual({
      prefix: 'INSERT INTO `settings` (`k`,`v`) VALUES ',
      values: "('a','one')",
    });
    expect(insertTable("INSERT INTO `settings` (`k`,`v`) VALUES ('a','one')")).toBe('settings');
  });

  it('splits mysqldump’s extended INSERT without a column list', () => {
    expect(splitInsert("INSERT INTO `auth_user` VALUES (1,'a'),(2,'b')")).toEqual({
      prefix: 'INSERT INTO `auth_user` VALUES ',
      values: "(1,'a'),(2,'b')",
    });
  });

  it('reads odd identifiers: doubled backticks, dots, spaces, a `) VALUES (` inside a name', () => {
    const sql =
      "INSERT INTO `a``b.c d` (`x``y`,`sp ace`,`dot.ted`,`) VALUES (`) VALUES (1,'v',NULL,0x00)";
    expect(splitInsert(sql)).toEqual({
      prefix: 'INSERT INTO `a``b.c d` (`x``y`,`sp ace`,`dot.ted`,`) VALUES (`) VALUES ',
      values: "(1,'v',NULL,0x00)",
    });
    expect(insertTable(sql)).toBe('a`b.c d');
    expect(insertTable('INSERT INTO `odd.name` (`a b`) VALUES (1)')).toBe('odd.name');
    expect(insertTable('INSERT INTO ```` (`a`) VALUES (1)')).toBe('`');
    expect(insertTable('INSERT INTO `😀 表` (`a`) VALUES (1)')).toBe('😀 表');
  });

  it('two rows of one table share a prefix, rows of tables whose names differ only in quoting do not', () => {
    const a = splitInsert('INSERT INTO `a``b` (`c`) VALUES (1)');
    const b = splitInsert('INSERT INTO `a``b` (`c`) VALUES (2)');
    const c = splitInsert('INSERT INTO `a` (`c`) VALUES (1)');
    expect(a?.prefix).toBe(b?.prefix);
    expect(a?.prefix).not.toBe(c?.prefix);
    // Joined, they make one valid multi-row statement.
    expect(`${a?.prefix ?? ''}${[a?.values, b?.values].join(',')}`).toBe(
      'INSERT INTO `a``b` (`c`) VALUES (1),(2)',
    );
  });

  it('leaves every other statement alone', () => {
    for (const sql of [
      'CREATE TABLE `t` (`a` int)',
      'INSERT INTO t VALUES (1)',
      'INSERT IGNORE INTO `t` VALUES (1)',
      'REPLACE INTO `t` VALUES (1)',
      'insert into `t` values (1)',
      'INSERT INTO `t` SELECT * FROM `u`',
      'SET NAMES utf8mb4',
      '/*!40000 ALTER TABLE `t` DISABLE KEYS */',
    ]) {
      expect(splitInsert(sql), sql).toBeUndefined();
    }
    expect(insertTable('CREATE TABLE `t` (`a` int)')).toBeUndefined();
    expect(insertTable('INSERT INTO t VALUES (1)')).toBeUndefined();
  });
});
