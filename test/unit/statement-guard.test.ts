/**
 * The statement checker lets through only what a snapshot writes for a file's object, read
 * as the server reads it (sql_mode, client character set, executable comments).
 */
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FileExpectation } from '../../src/engine/engine.js';
import { mariadbDialect } from '../../src/engine/mariadb/mariadb-dialect.js';
import { mariadbScriptFormat } from '../../src/engine/mariadb/script-format.js';
import { UnexpectedStatementError } from '../../src/errors.js';
import { DATABASE_DEFAULTS_FILE, objectForFileName } from '../../src/snapshot/layout.js';
import { renderDatabaseFile, renderObjectFile } from '../../src/snapshot/render-files.js';

function chunksOf(text: string): AsyncIterable<Buffer> {
  return Readable.from([Buffer.from(text)]) as AsyncIterable<Buffer>;
}

function checker(expected: FileExpectation = { kind: 'table', name: 't' }) {
  return mariadbScriptFormat.checker(expected);
}

function refusal(statements: readonly string[], expected?: FileExpectation): string | undefined {
  const guard = checker(expected);
  try {
    for (const sql of statements) guard.check(sql);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UnexpectedStatementError);
    return (error as Error).message;
  }
}

describe('StatementGuard', () => {
  it('accepts every file of the golden snapshot tree', async () => {
    const dir = 'test/golden/basic';
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.sql'))) {
      const object =
        file === DATABASE_DEFAULTS_FILE ? { kind: 'database', name: '' } : objectForFileName(file);
      if (object === undefined) throw new Error(file);
      const expected: FileExpectation =
        object.kind === 'database'
          ? { kind: 'database' }
          : object.kind === 'trigger'
            ? { kind: 'trigger', name: object.name, table: 'users' }
            : { kind: object.kind as 'view', name: object.name };
      const guard = checker(expected);
      for await (const statement of mariadbScriptFormat.readStatements(
        createReadStream(join(dir, file)),
      ))
        guard.check(statement.sql);
      guard.finish();
    }
  });

  it("accepts every statement of the original tool's mysqldump files, definers dropped", async () => {
    const dir = '../shared/fixtures/csv2/schema_backup/stable-2.11.0.rc1';
    let count = 0;
    for (const file of readdirSync(dir)) {
      const guard = checker({ kind: 'legacy-table', name: file });
      for await (const statement of mariadbScriptFormat.readStatements(
        createReadStream(join(dir, file)),
      )) {
        guard.check(mariadbDialect.withoutDefiner(statement.sql));
        count += 1;
      }
    }
    expect(count).toBeGreaterThan(1000);
  });

  it('counts the rows of INSERTs and says where their values start', () => {
    const guard = checker();
    const insert = "INSERT INTO `t` (`a`,`b`) VALUES (1,'x'),(-2.5e3,NULL),(0x00FF,b'101')";
    expect(guard.check(insert)).toEqual({
      kind: 'insert',
      rows: 3,
      valuesAt: insert.indexOf(' (1,'),
    });
    expect(
      guard.check("INSERT INTO t VALUES (_binary 'a\\0', _utf8mb4 0x41, TRUE, X'00', N'n')").rows,
    ).toBe(1);
  });

  it('checks the values of every INSERT that shares the prefix of one already accepted', () => {
    const guard = checker();
    const prefix = 'INSERT INTO `t` (`a`) VALUES ';
    expect(guard.check(`${prefix}(1)`).rows).toBe(1);
    expect(guard.check(`${prefix}(2),(3)`).rows).toBe(2);
    for (const values of [
      '((SELECT 1))',
      '(1) ON DUPLICATE KEY UPDATE a = 2',
      '(1) -- c',
      '(1); DROP',
    ])
      expect(() => guard.check(`${prefix}${values}`)).toThrow(UnexpectedStatementError);
    // A SET may change how strings read: the next INSERT is read again from its start.
    guard.check("SET sql_mode = 'NO_BACKSLASH_ESCAPES'");
    expect(() => guard.check(`${prefix}('a\\',SLEEP(5),\\'')`)).toThrow(
      /an expression for a value/,
    );
  });

  it.each([
    ['DROP DATABASE canary', '`DROP DATABASE`'],
    ['INSERT INTO `other` VALUES (1)', 'an INSERT into another table'],
    ['INSERT INTO db.`t` VALUES (1)', 'is in another database'],
    ['INSERT INTO `t` VALUES ((SELECT 1))', 'an expression for a value'],
    ["INSERT INTO `t` VALUES (LOAD_FILE('/etc/shadow'))", 'an expression for a value'],
    ['INSERT INTO `t` VALUES (1) ON DUPLICATE KEY UPDATE a = 2', 'more than rows'],
    ['INSERT INTO `t` SELECT * FROM mysql.user', 'other than INSERT … VALUES'],
    ['INSERT INTO `t` VALUES (1) -- x', 'an INSERT with a comment'],
    ['CREATE TABLE `t` (a INT) SELECT 1', 'CREATE TABLE … SELECT'],
    ['CREATE TABLE `t` LIKE mysql.user', 'without its columns'],
    ['CREATE TABLE `u` (a INT)', 'of another name'],
    ['CREATE VIEW `t` AS SELECT 1', 'a CREATE VIEW'],
    ['SET GLOBAL general_log = 1', 'a SET of GLOBAL'],
    ["SET @@global.sql_mode = ''", 'a SET of @@global.sql_mode'],
    ['SET sql_log_bin = 0', 'a SET of sql_log_bin'],
    ['SET NAMES gbk', 'may hide quotes'],
    ['SET character_set_client = sjis', 'may hide quotes'],
    ["SET sql_mode = 'NO_SUCH_FLAG'", 'a value not known here'],
    ['SET time_zone = (SELECT 1)', 'other than a value'],
    ['/*!99999999 DROP DATABASE x */', 'cannot be read safely'],
    ['/*!50000 DROP DATABASE x */', '`DROP DATABASE`'],
    ['GRANT ALL ON *.* TO x', '`GRANT ALL`'],
  ])('refuses %s in a table file', (sql, reason) => {
    expect(refusal(['CREATE TABLE `t` (a INT)', sql])).toContain(reason);
  });

  it('reads strings as the server will under the sql_mode the file sets', () => {
    // With backslash escapes, one string; without, a string, a function call and more.
    const insert = "INSERT INTO `t` VALUES ('a\\',SLEEP(5),\\'')";
    expect(refusal([insert])).toBeUndefined();
    expect(refusal(["SET sql_mode = 'NO_BACKSLASH_ESCAPES'", insert])).toContain(
      'an expression for a value',
    );
    // A mode saved in a user variable and set back, as mysqldump does, is followed too.
    expect(
      refusal([
        "SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_BACKSLASH_ESCAPES'",
        'SET SQL_MODE=@OLD_SQL_MODE',
        insert,
      ]),
    ).toBeUndefined();
    // Under ANSI_QUOTES "…" is a name, not a value.
    expect(refusal(["SET sql_mode = 'ANSI'", 'INSERT INTO `t` VALUES ("x")'])).toContain(
      'an expression for a value',
    );
  });

  it('refuses text outside quotes that a non-UTF-8 client character set would read differently', () => {
    expect(refusal(['SET NAMES latin1', "INSERT INTO `t` VALUES ('é')"])).toBeUndefined();
    expect(refusal(['SET NAMES latin1', 'CREATE TABLE `t` (é INT)'])).toContain(
      'cannot be read safely',
    );
  });

  it('gives an enabled CREATE EVENT its disabled variant, changing only the status (issue 21)', () => {
    const disabled = (sql: string) =>
      checker({ kind: 'event', name: 'e' }).check(sql).disabledEvent;
    expect(
      disabled(
        "CREATE DEFINER=`u`@`h` EVENT `e` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01' ON COMPLETION NOT PRESERVE ENABLE COMMENT 'ENABLE' DO SET @enable = 'ENABLE'",
      ),
    ).toBe(
      "CREATE DEFINER=`u`@`h` EVENT `e` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01' ON COMPLETION NOT PRESERVE DISABLE COMMENT 'ENABLE' DO SET @enable = 'ENABLE'",
    );
    expect(disabled('CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1')).toBeUndefined();
    expect(
      disabled('CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE ON SLAVE DO SELECT 1'),
    ).toBeUndefined();
    expect(checker().check('CREATE TABLE t (enable INT)').disabledEvent).toBeUndefined();
  });

  it('keeps routines, triggers and events to their own object and database', () => {
    expect(
      refusal(["CREATE FUNCTION `f` RETURNS STRING SONAME 'evil.so'"], {
        kind: 'function',
        name: 'f',
      }),
    ).toContain('loads a library');
    expect(
      refusal(['CREATE TRIGGER tr BEFORE INSERT ON other.t FOR EACH ROW SET @a = 1'], {
        kind: 'trigger',
        name: 'tr',
        table: 't',
      }),
    ).toContain('in another database');
    expect(
      refusal(['CREATE TRIGGER tr BEFORE INSERT ON u FOR EACH ROW SET @a = 1'], {
        kind: 'trigger',
        name: 'tr',
        table: 't',
      }),
    ).toContain('a trigger on another table');
    expect(
      refusal(['CREATE DEFINER=`root`@`%` PROCEDURE `P`() SELECT 1'], {
        kind: 'procedure',
        name: 'p',
      }),
    ).toBeUndefined();
    expect(
      refusal(['CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1'], { kind: 'event', name: 'e' }),
    ).toBeUndefined();
  });

  it("accepts a database defaults file's ALTER DATABASE there only, naming no database (issue 15)", () => {
    const database = { kind: 'database' } as const;
    const alter = 'ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_german1_ci';
    expect(refusal(["SET NAMES 'utf8mb4'", alter], database)).toBeUndefined();
    // Only in its own file, and only of the database the file is loaded into.
    expect(refusal([alter])).toContain('`ALTER DATABASE`');
    expect(refusal([alter], { kind: 'function', name: 'f' })).toContain('`ALTER DATABASE`');
    expect(refusal([alter], { kind: 'legacy-table', name: 't' })).toContain('without TABLE');
    expect(
      refusal(['ALTER DATABASE other CHARACTER SET latin1 COLLATE latin1_german1_ci'], database),
    ).toContain('without CHARACTER');
    expect(
      refusal(
        ['ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_german1_ci COMMENT "x"'],
        database,
      ),
    ).toContain('goes on past its end');
    expect(refusal(['ALTER DATABASE CHARACTER SET @x COLLATE y'], database)).toContain(
      'not a character set name',
    );
    expect(refusal(["ALTER DATABASE CHARACTER SET 'latin1' COLLATE y"], database)).toContain(
      'not a character set name',
    );
    expect(refusal(['ALTER DATABASE UPGRADE DATA DIRECTORY NAME'], database)).toContain(
      'without CHARACTER',
    );
    expect(refusal([alter, alter], database)).toContain('a second ALTER DATABASE');
    expect(refusal(['CREATE TABLE `t` (a INT)'], database)).toContain('a CREATE TABLE');
    expect(refusal(['INSERT INTO `t` VALUES (1)'], database)).toContain('`INSERT INTO`');
    const guard = checker(database);
    guard.check('SET NAMES utf8mb4');
    expect(() => {
      guard.finish();
    }).toThrow(/no ALTER DATABASE/);
  });

  it('accepts the files a snapshot writes for objects made under other client character sets', async () => {
    const files = [
      renderDatabaseFile(mariadbDialect, {
        characterSet: 'latin1',
        collation: 'latin1_german1_ci',
      }) ?? '',
      renderObjectFile(mariadbDialect, {
        kind: 'function',
        name: 'f',
        sql: "CREATE FUNCTION `f`() RETURNS varchar(9) RETURN CHARSET('x')",
        sqlMode: 'STRICT_TRANS_TABLES',
        characterSetClient: 'latin1',
        collationConnection: 'latin1_swedish_ci',
      }),
      // Not ASCII under latin1: written under utf8mb4, collation kept, and said so.
      renderObjectFile(mariadbDialect, {
        kind: 'function',
        name: 'f',
        sql: "CREATE FUNCTION `f`() RETURNS varchar(9) RETURN HEX('é')",
        characterSetClient: 'latin1',
        collationConnection: 'latin1_swedish_ci',
      }),
      // A client character set that could hide a quote is never set.
      renderObjectFile(mariadbDialect, {
        kind: 'function',
        name: 'f',
        sql: "CREATE FUNCTION `f`() RETURNS varchar(9) RETURN HEX('x')",
        characterSetClient: 'sjis',
        collationConnection: 'sjis_japanese_ci',
      }),
    ];
    expect(files[1]).toContain(
      "SET character_set_client = 'latin1';\nSET collation_connection = 'latin1_swedish_ci';\nSET sql_mode = 'STRICT_TRANS_TABLES';\n",
    );
    expect(files[1]).toMatch(
      /RETURN CHARSET\('x'\);;\nDELIMITER ;\nSET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';\nSET NAMES utf8mb4;\n$/,
    );
    expect(files[2]).toContain(
      '-- created under client character set latin1; written under utf8mb4 (its text is not ASCII)',
    );
    expect(files[2]).toContain(
      "SET character_set_client = 'utf8mb4';\nSET collation_connection = 'latin1_swedish_ci';",
    );
    expect(files[3]).toContain("SET character_set_client = 'utf8mb4';");
    for (const [index, text] of files.entries()) {
      const guard = checker(index === 0 ? { kind: 'database' } : { kind: 'function', name: 'f' });
      for await (const statement of mariadbScriptFormat.readStatements(chunksOf(text)))
        guard.check(statement.sql);
      guard.finish();
    }
  });

  it('allows one CREATE in a table file and none in a user-data file, and requires it', () => {
    expect(refusal(['CREATE TABLE `t` (a INT)', 'CREATE TABLE `t` (a INT)'])).toContain(
      'a second CREATE',
    );
    expect(refusal(['CREATE TABLE `t` (a INT)'], { kind: 'rows', table: 't' })).toContain(
      'a CREATE TABLE',
    );
    const guard = checker();
    guard.check('SET NAMES utf8mb4');
    expect(() => {
      guard.finish();
    }).toThrow(/no CREATE TABLE/);
  });

  it("allows a table file's one transaction around its rows, after the CREATE, and nothing else", () => {
    const create = 'CREATE TABLE `t` (a INT)';
    const insert = 'INSERT INTO `t` (`a`) VALUES (1)';
    const complete = (statements: readonly string[], expected?: FileExpectation) => {
      const guard = checker(expected);
      for (const sql of statements) guard.check(sql);
      guard.finish();
    };
    expect(() => {
      complete([create, 'START TRANSACTION', insert, insert, 'COMMIT']);
    }).not.toThrow();
    expect(() => {
      complete([create, 'start  transaction', insert, 'commit']);
    }).not.toThrow();
    // Files of the format before: rows without a transaction.
    expect(() => {
      complete([create, insert]);
    }).not.toThrow();
    expect(refusal(['START TRANSACTION', create])).toContain(
      'a START TRANSACTION other than the one after the CREATE TABLE',
    );
    expect(refusal([create, 'START TRANSACTION', 'COMMIT', 'START TRANSACTION'])).toContain(
      'a START TRANSACTION other than',
    );
    expect(refusal([create, 'COMMIT'])).toContain('a COMMIT without its START TRANSACTION');
    expect(refusal([create, 'START TRANSACTION READ ONLY'])).toContain('goes on past its end');
    expect(refusal([create, 'START TRANSACTION WITH CONSISTENT SNAPSHOT'])).toContain(
      'goes on past its end',
    );
    expect(refusal([create, 'START TRANSACTION', 'COMMIT AND CHAIN'])).toContain(
      'goes on past its end',
    );
    expect(refusal([create, 'START SLAVE'])).toContain('without TRANSACTION');
    expect(refusal([create, 'START TRANSACTION; DROP TABLE x'])).toBeDefined();
    expect(refusal(['START TRANSACTION'], { kind: 'rows', table: 't' })).toContain(
      'not a statement a snapshot writes for the rows of table `t`',
    );
    expect(refusal(['CREATE VIEW v AS SELECT 1', 'COMMIT'], { kind: 'view', name: 'v' })).toContain(
      '`COMMIT`',
    );
    const open = checker();
    open.check(create);
    open.check('START TRANSACTION');
    open.check(insert);
    expect(() => {
      open.finish();
    }).toThrow(/opens a transaction and does not commit it/);
  });

  it('allows a sequence file one SETVAL of its own sequence, with integers, after its CREATE', () => {
    const expected: FileExpectation = { kind: 'sequence', name: 's' };
    const create =
      'CREATE SEQUENCE `s` start with 1 minvalue 1 maxvalue 9 increment by 1 cache 1000 nocycle ENGINE=InnoDB';
    const accepted = (statements: readonly string[]) => {
      const guard = checker(expected);
      for (const sql of statements) guard.check(sql);
      guard.finish();
      return true;
    };
    expect(accepted([create, 'DO SETVAL(`s`, 1001, 0)'])).toBe(true);
    expect(accepted([create, 'DO SETVAL(s, -1001, 0)'])).toBe(true);
    expect(accepted([create, 'DO SETVAL(`s`, 3, 0, 2)'])).toBe(true);
    expect(accepted([create])).toBe(true);
    expect(refusal([create, 'DO SETVAL(`t`, 1, 0)'], expected)).toContain(
      'a SETVAL of another sequence',
    );
    expect(refusal([create, 'DO SETVAL(`S`, 1, 0)'], expected)).toContain(
      'a SETVAL of another sequence',
    );
    expect(refusal([create, 'DO SETVAL(`db`.`s`, 1, 0)'], expected)).toContain(
      'in another database',
    );
    expect(refusal([create, 'DO SETVAL(`s`, (SELECT 1), 0)'], expected)).toContain(
      'something other than integers',
    );
    expect(refusal([create, 'DO SETVAL(`s`, @x, 0)'], expected)).toContain(
      'something other than integers',
    );
    expect(refusal([create, 'DO SETVAL(`s`, 1.5, 0)'], expected)).toContain(
      'something other than integers',
    );
    expect(refusal([create, "DO SETVAL(`s`, '1', 0)"], expected)).toContain(
      'something other than integers',
    );
    expect(refusal([create, 'DO SETVAL(`s`, 1 + 1, 0)'], expected)).toContain(
      'something other than values',
    );
    expect(refusal([create, 'DO SETVAL(`s`, 1, 1)'], expected)).toContain(
      'other than the one a snapshot writes',
    );
    expect(refusal([create, 'DO SETVAL(`s`, 1)'], expected)).toContain(
      'other than the one a snapshot writes',
    );
    expect(refusal([create, 'DO SETVAL(`s`, 1, 0, -1)'], expected)).toContain(
      'other than the one a snapshot writes',
    );
    expect(refusal([create, 'DO SETVAL(`s`, 1, 0), SLEEP(10)'], expected)).toContain(
      'goes on past its end',
    );
    expect(refusal([create, 'DO SLEEP(10)'], expected)).toContain('a DO other than SETVAL');
    expect(refusal(['DO SETVAL(`s`, 1, 0)', create], expected)).toContain(
      'other than the one after the CREATE SEQUENCE',
    );
    expect(refusal([create, 'DO SETVAL(`s`, 1, 0)', 'DO SETVAL(`s`, 1, 0)'], expected)).toContain(
      'other than the one after the CREATE SEQUENCE',
    );
    expect(refusal([create, 'SELECT SETVAL(`s`, 1, 0)'], expected)).toContain('`SELECT SETVAL`');
    expect(refusal([create, 'SELECT NEXTVAL(`s`)'], expected)).toContain('`SELECT NEXTVAL`');
    expect(refusal([create, 'ALTER SEQUENCE `s` RESTART WITH 5'], expected)).toBeDefined();
    // Only a sequence's file sets a sequence.
    expect(refusal(['CREATE TABLE `t` (a INT)', 'DO SETVAL(`t`, 1, 0)'])).toContain('`DO SETVAL`');
  });

  it('accepts the sequence state the dialect writes, and the dialect writes integers only', () => {
    const create =
      'CREATE SEQUENCE `a``b` start with 1 minvalue 1 maxvalue 3 increment by 1 nocache cycle ENGINE=InnoDB';
    const expected: FileExpectation = { kind: 'sequence', name: 'a`b' };
    for (const state of [
      { next: '5100', round: '0' },
      { next: '-1001', round: '0' },
      { next: '2', round: '7' },
    ]) {
      const statement = mariadbDialect.sequenceStateStatement('a`b', state);
      expect(refusal([create, statement], expected)).toBeUndefined();
    }
    expect(mariadbDialect.sequenceStateStatement('s', { next: '2', round: '7' })).toBe(
      'DO SETVAL(`s`, 2, 0, 7)',
    );
    expect(mariadbDialect.sequenceStateStatement('s', { next: '10', round: '0' })).toBe(
      'DO SETVAL(`s`, 10, 0)',
    );
    expect(() =>
      mariadbDialect.sequenceStateStatement('s', { next: '1); DROP', round: '0' }),
    ).toThrow(/not integers/);
  });
});
