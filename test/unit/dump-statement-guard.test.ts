/**
 * The MariaDB checker of a dump file (`load`): it lets through what the dump writer writes
 * (test/fixtures/dumps/mariadb-two-databases.sql, a dump of databases `app` and `crm` with a
 * table of every kind of object, and keys added after the rows) and refuses anything else,
 * naming the statement, never a value.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { newDumpLedger, type DumpLedger, type FileExpectation } from '../../src/engine/engine.js';
import { mariadbScriptFormat } from '../../src/engine/mariadb/script-format.js';
import { UnexpectedStatementError } from '../../src/errors.js';

const DUMP = readFileSync('test/fixtures/dumps/mariadb-two-databases.sql', 'utf8');

async function statementsOf(text: string): Promise<string[]> {
  const statements: string[] = [];
  for await (const statement of mariadbScriptFormat.readStatements(
    Readable.from([Buffer.from(text)]) as AsyncIterable<Buffer>,
  ))
    statements.push(statement.sql);
  return statements;
}

/** Checks `text` as a dump file loaded into `databases`; the refusal's message, or undefined. */
async function refusal(
  text: string,
  databases: readonly string[] = ['app', 'crm'],
  ledger: DumpLedger = newDumpLedger(),
): Promise<string | undefined> {
  const expected: FileExpectation = { kind: 'dump', databases, ledger };
  const checker = mariadbScriptFormat.checker(expected);
  try {
    for (const sql of await statementsOf(text)) checker.check(sql);
    checker.finish();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UnexpectedStatementError);
    return (error as Error).message;
  }
}

describe('the MariaDB checker of a dump', () => {
  it('accepts what the dump writer writes', async () => {
    expect(await refusal(DUMP)).toBeUndefined();
    const statements = await statementsOf(DUMP);
    // Every kind of statement of the fixture is there: the test checks them all.
    const starts = new Set(statements.map((sql) => sql.split(/[\s(]/, 2).join(' ')));
    expect([...starts].sort()).toEqual(
      expect.arrayContaining([
        'ALTER DATABASE',
        'ALTER TABLE',
        'CREATE ALGORITHM=UNDEFINED',
        'CREATE DATABASE',
        'CREATE EVENT',
        'CREATE FUNCTION',
        'CREATE PROCEDURE',
        'CREATE SEQUENCE',
        'CREATE TABLE',
        'CREATE TRIGGER',
        'DO SETVAL',
        'DROP TABLE',
        'INSERT INTO',
        'SET NAMES',
        'USE `app`',
      ]),
    );
  });

  it('accepts a dump of one database, which names none, and its files one by one sharing the ledger', async () => {
    const single = DUMP.slice(0, DUMP.indexOf('CREATE DATABASE IF NOT EXISTS `crm`')).replace(
      'CREATE DATABASE IF NOT EXISTS `app`;\nUSE `app`;\n',
      '',
    );
    expect(await refusal(single, ['target'])).toBeUndefined();
    // The directory form: a table created in one file, filled in another.
    const ledger = newDumpLedger();
    const preamble = DUMP.slice(0, DUMP.indexOf('\n\n') + 1);
    expect(
      await refusal(
        `${preamble}USE \`app\`;\nDROP TABLE IF EXISTS \`t\`;\nCREATE TABLE \`t\` (id int);\n`,
        ['app', 'crm'],
        ledger,
      ),
    ).toBeUndefined();
    expect(
      await refusal(
        `${preamble}USE \`app\`;\nINSERT INTO \`t\` VALUES (1);\n`,
        ['app', 'crm'],
        ledger,
      ),
    ).toBeUndefined();
    // Not into a table of that name in another database, nor without a USE.
    expect(
      await refusal(
        `${preamble}USE \`crm\`;\nINSERT INTO \`t\` VALUES (1);\n`,
        ['app', 'crm'],
        ledger,
      ),
    ).toMatch(/an INSERT into a table the dump did not create: not a statement a dump writes/);
    expect(
      await refusal(`${preamble}INSERT INTO \`t\` VALUES (1);\n`, ['app', 'crm'], ledger),
    ).toMatch(/before the USE of a database/);
  });

  const refused: readonly (readonly [string, RegExp])[] = [
    ["GRANT ALL ON *.* TO 'sbchk_evil'@'%'", /`GRANT ALL`/],
    ["CREATE USER 'sbchk_evil'@'%' IDENTIFIED BY 'secret'", /CREATE USER/],
    ['SET GLOBAL general_log = 1', /a SET of GLOBAL/],
    ["SET @@global.sql_mode = ''", /a SET of @@global.sql_mode/],
    ["SELECT * FROM `z` INTO OUTFILE '/tmp/sbchk_out'", /`SELECT`/],
    ["LOAD DATA INFILE '/etc/passwd' INTO TABLE `z`", /`LOAD DATA`/],
    ['DROP DATABASE `victim`', /a DROP DATABASE/],
    ['DROP DATABASE IF EXISTS `app`', /a DROP DATABASE/],
    ["INSERT INTO `mysql`.`user` VALUES ('secret')", /is in another database/],
    ["INSERT INTO `victim`.`t` (`id`) VALUES ('secret')", /is in another database/],
    ["INSERT INTO `victim` (`id`) VALUES ('secret')", /a table the dump did not create/],
    ["INSERT INTO `t` (`id`) VALUES ('secret')", /a table the dump did not create/],
    ['INSERT INTO `z` (`id`) SELECT 1', /INSERT other than INSERT … VALUES/],
    ['INSERT INTO `z` (`id`) VALUES ((SELECT 1))', /an expression for a value/],
    ['CALL p()', /`CALL P`/],
    ['USE `mysql`', /a USE of a database this load does not fill/],
    [
      'CREATE DATABASE IF NOT EXISTS `victim`',
      /a CREATE DATABASE of a database this load does not fill/,
    ],
    ['DROP TABLE IF EXISTS `z`', /a DROP TABLE not followed by its CREATE/],
    [
      'DROP TABLE IF EXISTS `z`;\nINSERT INTO `z` VALUES (1)',
      /a DROP TABLE not followed by its CREATE/,
    ],
    ['DROP TABLE IF EXISTS `victim`.`z`', /is in another database/],
    ['CREATE TABLE `x` (a int)', /without its DROP … IF EXISTS/],
    ['DROP TABLE IF EXISTS `x`;\nCREATE TABLE `y` (a int)', /of another name/],
    ['DROP TABLE IF EXISTS `x`;\nCREATE TABLE `x` SELECT * FROM mysql.user', /without its columns/],
    [
      'DROP TABLE IF EXISTS `x`;\nCREATE TABLE `x` (a int) SELECT * FROM mysql.user',
      /CREATE TABLE … SELECT/,
    ],
    [
      'DROP TRIGGER IF EXISTS `tr2`;\nCREATE TRIGGER `tr2` BEFORE INSERT ON `mysql`.`user` FOR EACH ROW SET @a = 1',
      /is in another database/,
    ],
    [
      'DROP TRIGGER IF EXISTS `tr2`;\nCREATE TRIGGER `tr2` BEFORE INSERT ON `victim` FOR EACH ROW SET @a = 1',
      /a trigger on a table the dump did not create/,
    ],
    [
      'DROP EVENT IF EXISTS `e2`;\nCREATE EVENT `victim`.`e2` ON SCHEDULE EVERY 1 DAY DO DELETE FROM `victim`.`t`',
      /is in another database/,
    ],
    [
      'DROP PROCEDURE IF EXISTS `p2`;\nCREATE DEFINER=`root`@`localhost` PROCEDURE `p2`() BEGIN END',
      /a CREATE with a DEFINER/,
    ],
    [
      "DROP FUNCTION IF EXISTS `f2`;\nCREATE FUNCTION `f2` RETURNS STRING SONAME 'evil.so'",
      /loads a library/,
    ],
    ['ALTER TABLE `z` DROP COLUMN `id`', /an ALTER TABLE other than ADD KEY/],
    ['ALTER TABLE `z` ADD KEY `k` (`id`), ENGINE=CONNECT', /an ALTER TABLE other than ADD KEY/],
    ['ALTER TABLE `z` ADD KEY `k` (`id`) ENGINE=CONNECT', /an ALTER TABLE other than ADD KEY/],
    ['ALTER TABLE `victim` ADD KEY `k` (`id`)', /a table the dump did not create/],
    ['ALTER DATABASE `victim` CHARACTER SET latin1', /without CHARACTER/],
    ['ALTER USER root IDENTIFIED BY "x"', /`ALTER USER`/],
    ['START TRANSACTION', /`START TRANSACTION`/],
    ['LOCK TABLES `z` WRITE', /LOCK/],
    ['DO SLEEP(10)', /a DO other than SETVAL/],
    ['DO SETVAL(`s`, 5, 0)', /a SETVAL other than the one after a CREATE SEQUENCE of the dump/],
    ['SET sql_log_bin = 0', /a SET of sql_log_bin/],
    ['SET NAMES gbk', /may hide quotes/],
    ['FLUSH PRIVILEGES', /`FLUSH PRIVILEGES`/],
    ['SHUTDOWN', /`SHUTDOWN`/],
    ['RENAME TABLE `z` TO `victim`.`z`', /`RENAME TABLE`/],
  ];

  for (const [statement, reason] of refused) {
    it(`refuses ${statement.split('\n').at(-1) ?? ''}`, async () => {
      const message = await refusal(`${DUMP}${statement};\n`);
      expect(message).toMatch(reason);
      expect(message).toMatch(/not a statement a dump writes/);
      expect(message).not.toContain('secret');
    });
  }

  it('refuses a dangerous statement inserted before the first USE, or in the middle', async () => {
    const at = DUMP.indexOf('CREATE DATABASE IF NOT EXISTS `app`');
    expect(
      await refusal(`${DUMP.slice(0, at)}DROP TABLE IF EXISTS \`z\`;\n${DUMP.slice(at)}`),
    ).toMatch(/before the USE of a database/);
    const middle = DUMP.indexOf('DROP VIEW IF EXISTS');
    expect(
      await refusal(`${DUMP.slice(0, middle)}CREATE USER 'sbchk_evil'@'%';\n${DUMP.slice(middle)}`),
    ).toMatch(/CREATE USER/);
    // A statement hidden in a string the checker would read another way (sql_mode, charset).
    expect(
      await refusal(
        `${DUMP}SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nINSERT INTO \`z\` (\`id\`) VALUES ('\\\\'), ((SELECT 1)) -- ');\n`,
      ),
    ).toMatch(/an expression for a value/);
  });

  it('refuses what only a snapshot file may hold', async () => {
    const text = `${DUMP}DROP TABLE IF EXISTS \`x\`;\nCREATE TABLE \`x\` (id int);\nSTART TRANSACTION;\nINSERT INTO \`x\` VALUES (1);\nCOMMIT;\n`;
    expect(await refusal(text)).toMatch(/`START TRANSACTION`/);
  });
});
