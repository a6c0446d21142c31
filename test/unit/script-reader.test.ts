/**
 * The script reader splits as the stock `mariadb` client does: a delimiter inside quotes,
 * backquoted names or comments never ends a statement, DELIMITER changes it, comments before a
 * statement are dropped; and it is bounded by the longest statement.
 */
import { describe, expect, it } from 'vitest';
import { readScript, type ScriptStatement } from '../../src/engine/mariadb/script-reader.js';

async function split(text: string, chunkSize = text.length || 1): Promise<ScriptStatement[]> {
  const bytes = Buffer.from(text);
  async function* chunks() {
    await Promise.resolve();
    for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
  }
  const statements: ScriptStatement[] = [];
  for await (const statement of readScript(chunks())) statements.push(statement);
  return statements;
}

describe('readScript', () => {
  it('keeps a name with newlines and a delimiter inside its backquotes in one statement', async () => {
    const text =
      '-- schema_backup: table `x\\x0ADROP`\nCREATE TABLE `x\nDROP DATABASE canary;\n-- x` (id INT);\nINSERT INTO `x\nDROP DATABASE canary;\n-- x` VALUES (1);\n';
    const statements = await split(text);
    expect(statements.map((statement) => statement.sql)).toEqual([
      'CREATE TABLE `x\nDROP DATABASE canary;\n-- x` (id INT)',
      'INSERT INTO `x\nDROP DATABASE canary;\n-- x` VALUES (1)',
    ]);
    expect(statements.map((statement) => statement.line)).toEqual([2, 5]);
  });

  it('ends no statement at a delimiter inside strings, escaped quotes or comments', async () => {
    const text = [
      "INSERT INTO t VALUES ('a;b', 'it\\'s; fine', \"x;\", 'x'';y');",
      'SELECT 1 /* ; */ + 2 # ;',
      ';',
      'SET a = 1; SET b = 2;',
    ].join('\n');
    expect((await split(text)).map((statement) => statement.sql)).toEqual([
      "INSERT INTO t VALUES ('a;b', 'it\\'s; fine', \"x;\", 'x'';y')",
      'SELECT 1 /* ; */ + 2 # ;',
      'SET a = 1',
      'SET b = 2',
    ]);
  });

  it('honours DELIMITER, and a `;;` inside a string of a routine body stays in it', async () => {
    const text = [
      'DELIMITER ;;',
      "CREATE PROCEDURE p() BEGIN SELECT 'a;;\nb'; SELECT 2; END;;",
      'DELIMITER ;',
      'SET c = 3;',
    ].join('\n');
    expect((await split(text)).map((statement) => statement.sql)).toEqual([
      "CREATE PROCEDURE p() BEGIN SELECT 'a;;\nb'; SELECT 2; END",
      'SET c = 3',
    ]);
  });

  it('gives the same statements and offsets whatever the chunk size', async () => {
    const text =
      "-- head\nSET NAMES utf8mb4;\r\nINSERT INTO `t` VALUES ('😀\\n', 0x00FF);\n/*!40101 SET x = 1 */;\nINSERT INTO `t` VALUES ('last')";
    const whole = await split(text);
    for (const size of [1, 2, 3, 7, 64]) expect(await split(text, size)).toEqual(whole);
    expect(whole.map((statement) => statement.sql)).toEqual([
      'SET NAMES utf8mb4',
      "INSERT INTO `t` VALUES ('😀\\n', 0x00FF)",
      '/*!40101 SET x = 1 */',
      "INSERT INTO `t` VALUES ('last')",
    ]);
    // `end` is the byte just past the delimiter (the last statement has none).
    expect(Buffer.from(text).subarray(0, whole[0]?.end).toString()).toBe(
      '-- head\nSET NAMES utf8mb4;',
    );
    expect(whole[3]?.end).toBe(Buffer.byteLength(text));
  });
});
