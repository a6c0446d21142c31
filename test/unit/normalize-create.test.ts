import { describe, expect, it } from 'vitest';
import { normalizeCreateTable, splitDefiner } from '../../src/engine/mariadb/normalize-create.js';

const TABLE = [
  'CREATE TABLE `csv2_clouds` (',
  '  `id` int(11) NOT NULL AUTO_INCREMENT,',
  "  `note` varchar(64) DEFAULT NULL COMMENT 'starts at AUTO_INCREMENT=5 ',",
  '  PRIMARY KEY (`id`)',
  ") ENGINE=InnoDB AUTO_INCREMENT=1234 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='clouds'",
].join('\n');

describe('normalizeCreateTable', () => {
  it('removes AUTO_INCREMENT=n from the table options only', () => {
    const result = normalizeCreateTable(TABLE);
    expect(result).toBe(
      [
        'CREATE TABLE `csv2_clouds` (',
        '  `id` int(11) NOT NULL AUTO_INCREMENT,',
        "  `note` varchar(64) DEFAULT NULL COMMENT 'starts at AUTO_INCREMENT=5 ',",
        '  PRIMARY KEY (`id`)',
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='clouds'",
      ].join('\n'),
    );
    expect(result).toContain("COMMENT 'starts at AUTO_INCREMENT=5 '");
    expect(result).not.toContain('AUTO_INCREMENT=1234');
  });

  it('removes the counter at the end of the options line', () => {
    expect(
      normalizeCreateTable(
        'CREATE TABLE `t` (\n  `id` int NOT NULL AUTO_INCREMENT\n) ENGINE=InnoDB AUTO_INCREMENT=7',
      ),
    ).toBe('CREATE TABLE `t` (\n  `id` int NOT NULL AUTO_INCREMENT\n) ENGINE=InnoDB');
  });

  it('removes the counter when partition clauses follow the options line', () => {
    const sql = [
      'CREATE TABLE `p` (',
      '  `id` int(11) NOT NULL AUTO_INCREMENT,',
      '  PRIMARY KEY (`id`)',
      ') ENGINE=InnoDB AUTO_INCREMENT=10 DEFAULT CHARSET=latin1',
      ' PARTITION BY RANGE (`id`)',
      '(PARTITION `p0` VALUES LESS THAN (10) ENGINE = InnoDB,',
      ' PARTITION `p1` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)',
    ].join('\n');
    expect(normalizeCreateTable(sql)).toBe(sql.replace(' AUTO_INCREMENT=10', ''));
  });

  it('leaves a table without a counter unchanged', () => {
    const sql =
      'CREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL\n) ENGINE=InnoDB DEFAULT CHARSET=latin1';
    expect(normalizeCreateTable(sql)).toBe(sql);
  });

  it('does not remove a longer option name that contains AUTO_INCREMENT=', () => {
    const sql = 'CREATE TABLE `t` (\n  `a` int\n) ENGINE=InnoDB XAUTO_INCREMENT=3';
    expect(normalizeCreateTable(sql)).toBe(sql);
  });

  it('leaves text without a closing options line alone', () => {
    expect(normalizeCreateTable('CREATE TABLE t (a int) AUTO_INCREMENT=5')).toBe(
      'CREATE TABLE t (a int) AUTO_INCREMENT=5',
    );
  });

  it('is idempotent', () => {
    const once = normalizeCreateTable(TABLE);
    expect(normalizeCreateTable(once)).toBe(once);
  });

  // Regression (fixed): with no counter on the options line, the first ` AUTO_INCREMENT=<digits> `
  // inside the table COMMENT is removed instead, changing the comment.
  it('keeps AUTO_INCREMENT= inside a table COMMENT when there is no counter', () => {
    const sql =
      "CREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL\n) ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT='see AUTO_INCREMENT=5 here'";
    expect(normalizeCreateTable(sql)).toBe(sql);
  });
});

describe('splitDefiner', () => {
  it('splits a backtick-quoted user@host', () => {
    const result = splitDefiner(
      'CREATE ALGORITHM=UNDEFINED DEFINER=`csv2`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1 AS `1`',
    );
    expect(result).toEqual({
      sql: 'CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1 AS `1`',
      definer: '`csv2`@`localhost`',
    });
  });

  it('splits a single-quoted user@host', () => {
    expect(
      splitDefiner(
        "CREATE DEFINER='csv2'@'%' TRIGGER `t` BEFORE INSERT ON `x` FOR EACH ROW SET @a = 1",
      ),
    ).toEqual({
      sql: 'CREATE TRIGGER `t` BEFORE INSERT ON `x` FOR EACH ROW SET @a = 1',
      definer: "'csv2'@'%'",
    });
  });

  it('splits a role, which has no host', () => {
    expect(
      splitDefiner('CREATE DEFINER=`admin_role` PROCEDURE `p`()\nBEGIN\nSELECT 1;\nEND'),
    ).toEqual({
      sql: 'CREATE PROCEDURE `p`()\nBEGIN\nSELECT 1;\nEND',
      definer: '`admin_role`',
    });
  });

  it('splits a user name containing an escaped backtick', () => {
    expect(
      splitDefiner('CREATE DEFINER=`we``ird`@`10.0.0.%` FUNCTION `f`() RETURNS int(11)\nRETURN 1'),
    ).toEqual({
      sql: 'CREATE FUNCTION `f`() RETURNS int(11)\nRETURN 1',
      definer: '`we``ird`@`10.0.0.%`',
    });
  });

  it('splits a user name containing @ and spaces inside backticks', () => {
    expect(
      splitDefiner('CREATE DEFINER=`a b@c`@`h` EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1'),
    ).toEqual({
      sql: 'CREATE EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1',
      definer: '`a b@c`@`h`',
    });
  });

  it('splits an unquoted definer', () => {
    expect(
      splitDefiner(
        'CREATE DEFINER=root@localhost TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 1',
      ),
    ).toEqual({
      sql: 'CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 1',
      definer: 'root@localhost',
    });
  });

  it('removes only the first DEFINER clause', () => {
    const sql = "CREATE DEFINER=`a`@`h` PROCEDURE `p`()\nSELECT 'DEFINER=`b`@`h` x'";
    expect(splitDefiner(sql)).toEqual({
      sql: "CREATE PROCEDURE `p`()\nSELECT 'DEFINER=`b`@`h` x'",
      definer: '`a`@`h`',
    });
  });

  it('returns the statement unchanged, with no definer, when there is none', () => {
    const sql = 'CREATE SQL SECURITY DEFINER VIEW `v` AS select 1';
    const result = splitDefiner(sql);
    expect(result).toEqual({ sql });
    expect(result.definer).toBeUndefined();
    expect(splitDefiner('CREATE TABLE `DEFINER` (a int)')).toEqual({
      sql: 'CREATE TABLE `DEFINER` (a int)',
    });
  });
});
