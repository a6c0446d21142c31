/** The script splitter restore runs snapshot files and mysqldump files through. */
import { describe, expect, it } from 'vitest';
import {
  insertTable,
  readStatements,
  splitInsert,
  type SqlStatement,
} from '../../src/restore/sql-statements.js';

async function statementsOf(
  ...chunks: readonly (Buffer | Uint8Array | string)[]
): Promise<SqlStatement[]> {
  const result: SqlStatement[] = [];
  async function* source(): AsyncIterable<Buffer | Uint8Array | string> {
    for (const chunk of chunks) {
      await Promise.resolve();
      yield chunk;
    }
  }
  for await (const statement of readStatements(source())) result.push(statement);
  return result;
}

describe('readStatements', () => {
  it('splits on `;` at line ends and numbers each statement by the line it starts on', async () => {
    const script = [
      'SET NAMES utf8mb4;', // 1
      '', // 2
      'CREATE TABLE `t` (', // 3
      '  `a` int NOT NULL,', // 4
      "  `b` varchar(10) DEFAULT ';',", // 5
      '  PRIMARY KEY (`a`)', // 6
      ') ENGINE=InnoDB;', // 7
      "INSERT INTO `t` (`a`,`b`) VALUES (1,'x');", // 8
      '', // 9
    ].join('\n');
    expect(await statementsOf(script)).toEqual([
      { sql: 'SET NAMES utf8mb4', line: 1 },
      {
        sql: "CREATE TABLE `t` (\n  `a` int NOT NULL,\n  `b` varchar(10) DEFAULT ';',\n  PRIMARY KEY (`a`)\n) ENGINE=InnoDB",
        line: 3,
      },
      { sql: "INSERT INTO `t` (`a`,`b`) VALUES (1,'x')", line: 8 },
    ]);
  });

  it('skips `--` and `#` comment lines and blank lines between statements, counting them', async () => {
    const script = [
      '-- MySQL dump 10.19', // 1
      '--', // 2
      '-- Host: localhost    Database: csv2', // 3
      '# a shell-style comment', // 4
      '   ', // 5
      'SELECT 1;', // 6
      '--', // 7
      '-- Dumping data for table `x`', // 8
      '--', // 9
      'SELECT 2;', // 10
    ].join('\n');
    expect(await statementsOf(script)).toEqual([
      { sql: 'SELECT 1', line: 6 },
      { sql: 'SELECT 2', line: 10 },
    ]);
  });

  it('keeps `/*!NNNNN … */` conditional comments, which the server evaluates', async () => {
    const script = [
      '/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;',
      '/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;',
      '/*!40000 ALTER TABLE `x` DISABLE KEYS */;',
      '/*!50001 CREATE ALGORITHM=UNDEFINED */',
      '/*!50013 DEFINER=`csv2`@`localhost` SQL SECURITY DEFINER */',
      '/*!50001 VIEW `v` AS select 1 AS `1` */;',
    ].join('\n');
    expect(await statementsOf(script)).toEqual([
      { sql: '/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */', line: 1 },
      {
        sql: '/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */',
        line: 2,
      },
      { sql: '/*!40000 ALTER TABLE `x` DISABLE KEYS */', line: 3 },
      {
        sql: '/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`csv2`@`localhost` SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 AS `1` */',
        line: 4,
      },
    ]);
  });

  it('honours DELIMITER blocks: inner `;` lines stay in the statement, and DELIMITER is never sent', async () => {
    const script = [
      "SET sql_mode = 'STRICT_TRANS_TABLES';", // 1
      'DELIMITER ;;', // 2
      'CREATE TRIGGER `t_bi` BEFORE INSERT ON `t` FOR EACH ROW BEGIN', // 3
      '  SET NEW.a = 1;', // 4
      '  SET NEW.b = 2;', // 5
      'END;;', // 6
      '/*!50003 CREATE*/ /*!50017 DEFINER=`u`@`h`*/ /*!50003 TRIGGER x AFTER DELETE ON t FOR EACH ROW SET @n = 1 */;;', // 7
      'DELIMITER ;', // 8
      'delimiter $$', // 9
      'CREATE PROCEDURE p() BEGIN SELECT 1; END$$', // 10
      'DELIMITER ;', // 11
      "SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';", // 12
    ].join('\n');
    const statements = await statementsOf(script);
    expect(statements).toEqual([
      { sql: "SET sql_mode = 'STRICT_TRANS_TABLES'", line: 1 },
      {
        sql: 'CREATE TRIGGER `t_bi` BEFORE INSERT ON `t` FOR EACH ROW BEGIN\n  SET NEW.a = 1;\n  SET NEW.b = 2;\nEND',
        line: 3,
      },
      {
        sql: '/*!50003 CREATE*/ /*!50017 DEFINER=`u`@`h`*/ /*!50003 TRIGGER x AFTER DELETE ON t FOR EACH ROW SET @n = 1 */',
        line: 7,
      },
      { sql: 'CREATE PROCEDURE p() BEGIN SELECT 1; END', line: 10 },
      { sql: "SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO'", line: 12 },
    ]);
    expect(statements.some((statement) => /delimiter/i.test(statement.sql))).toBe(false);
  });

  it('reads CRLF line ends: no carriage return in any statement, same line numbers', async () => {
    const script =
      '-- header\r\nSET NAMES utf8mb4;\r\n\r\nCREATE TABLE `t` (\r\n  `a` int\r\n);\r\nDELIMITER ;;\r\nCREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1;;\r\nDELIMITER ;\r\n';
    const statements = await statementsOf(script);
    expect(statements).toEqual([
      { sql: 'SET NAMES utf8mb4', line: 2 },
      { sql: 'CREATE TABLE `t` (\n  `a` int\n)', line: 4 },
      { sql: 'CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1', line: 8 },
    ]);
    for (const statement of statements) expect(statement.sql).not.toContain('\r');
  });

  it('yields a last statement that has no delimiter (and no final newline)', async () => {
    expect(await statementsOf('SELECT 1;\nSELECT 2;\n\nSELECT\n  3')).toEqual([
      { sql: 'SELECT 1', line: 1 },
      { sql: 'SELECT 2', line: 2 },
      { sql: 'SELECT\n  3', line: 4 },
    ]);
    expect(await statementsOf('SELECT 1;')).toEqual([{ sql: 'SELECT 1', line: 1 }]);
  });

  it('yields nothing for an empty file, a file of comments, or stray delimiters', async () => {
    expect(await statementsOf('')).toEqual([]);
    expect(await statementsOf('-- only\n-- comments\n\n')).toEqual([]);
    expect(await statementsOf(';\n  ;  \n')).toEqual([]);
  });

  it('reads chunks cut anywhere, even inside a line and inside a multi-byte character', async () => {
    const script = Buffer.from(
      "INSERT INTO `t` (`a`) VALUES ('😀 中文 ñ');\nINSERT INTO `t` (`a`) VALUES ('second');\n",
      'utf8',
    );
    const whole = await statementsOf(script);
    expect(whole).toEqual([
      { sql: "INSERT INTO `t` (`a`) VALUES ('😀 中文 ñ')", line: 1 },
      { sql: "INSERT INTO `t` (`a`) VALUES ('second')", line: 2 },
    ]);
    // Every possible single cut, and one byte at a time.
    for (let cut = 1; cut < script.length; cut += 1) {
      expect(
        await statementsOf(script.subarray(0, cut), script.subarray(cut)),
        String(cut),
      ).toEqual(whole);
    }
    const bytes = Array.from(script, (byte) => Uint8Array.of(byte));
    expect(await statementsOf(...bytes)).toEqual(whole);
  });

  it('keeps a long script streaming: line numbers stay right over many statements', async () => {
    const lines = Array.from(
      { length: 5000 },
      (_, index) => `INSERT INTO \`t\` (\`a\`) VALUES (${String(index)});`,
    );
    const statements = await statementsOf(`-- head\n${lines.join('\n')}\n`);
    expect(statements).toHaveLength(5000);
    expect(statements[4999]).toEqual({ sql: 'INSERT INTO `t` (`a`) VALUES (4999)', line: 5001 });
  });
});

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
