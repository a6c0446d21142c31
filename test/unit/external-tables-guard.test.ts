/**
 * Restore and load refuse a table or sequence whose rows live outside the database (in files
 * of the server or on other servers), however its CREATE is written, unless external access
 * is allowed; the error names the table and the option, never a value.
 */
import { describe, expect, it } from 'vitest';
import { newDumpLedger, type FileExpectation } from '../../src/engine/engine.js';
import { mariadbScriptFormat } from '../../src/engine/mariadb/script-format.js';
import { ExternalAccessError, UnexpectedStatementError } from '../../src/errors.js';

const TABLE: FileExpectation = { kind: 'table', name: 't' };

function refusal(sql: string, expected: FileExpectation = TABLE, allow = false): Error | undefined {
  const guard = mariadbScriptFormat.checker(expected, { allowExternalAccess: allow });
  try {
    guard.check(sql);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UnexpectedStatementError);
    return error as Error;
  }
}

const COLUMNS = 'CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n)';

describe('the MariaDB checker and tables outside the database', () => {
  it.each([
    [
      `${COLUMNS} ENGINE=CONNECT DEFAULT CHARSET=utf8mb4 TABLE_TYPE=CSV FILE_NAME='/tmp/x.csv'`,
      'ENGINE=CONNECT',
    ],
    [`${COLUMNS} ENGINE=FEDERATED CONNECTION='mysql://u:secret@h:3306/d/t'`, 'ENGINE=FEDERATED'],
    [`${COLUMNS} engine = 'federatedx'`, 'ENGINE=FEDERATEDX'],
    [`${COLUMNS} ENGINE=\`Spider\` COMMENT='wrapper "mysql", srv "s1"'`, 'ENGINE=SPIDER'],
    [`${COLUMNS} ENGINE S3`, 'ENGINE=S3'],
    [`${COLUMNS} ENGINE=Whatever`, 'an ENGINE not known here'],
    [`${COLUMNS} /*!50100 ENGINE=CONNECT */`, 'ENGINE=CONNECT'],
    [`${COLUMNS} /*M!100100 ENGINE\n=\tconnect */`, 'ENGINE=CONNECT'],
    [`${COLUMNS} ENGINE/* hidden */=/**/CONNECT`, 'ENGINE=CONNECT'],
    [`${COLUMNS} ENGINE=MRG_MyISAM UNION=(\`other\`.\`t2\`)`, 'UNION'],
    [`${COLUMNS} ENGINE=MERGE UNION (\`t2\`) INSERT_METHOD=LAST`, 'UNION'],
    [`${COLUMNS} ENGINE=MyISAM DATA DIRECTORY='/tmp/sbhard'`, 'DATA DIRECTORY'],
    [`${COLUMNS} ENGINE=MyISAM index/**/directory '/tmp/sbhard'`, 'INDEX DIRECTORY'],
    [`${COLUMNS} ENGINE=InnoDB CONNECTION='mysql://h/d/t'`, 'CONNECTION'],
    [`${COLUMNS} ENGINE=InnoDB /*!50100 CONNECTION */ 'x'`, 'CONNECTION'],
    [
      `${COLUMNS} ENGINE=InnoDB\n PARTITION BY RANGE (\`id\`)\n(PARTITION \`p0\` VALUES LESS THAN (10) ENGINE = CONNECT,\n PARTITION \`p1\` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)`,
      'ENGINE=CONNECT',
    ],
    [
      `${COLUMNS} ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (\`id\`)\n(PARTITION \`p0\` DATA DIRECTORY = '/tmp/sbhard' ENGINE = InnoDB) */`,
      'DATA DIRECTORY',
    ],
  ])('refuses %s', (sql, option) => {
    const error = refusal(sql);
    expect(error).toBeInstanceOf(ExternalAccessError);
    expect(error?.message).toContain('table `t`');
    expect(error?.message).toContain(option);
    // Never a value: no path, no password, no server.
    expect(error?.message).not.toMatch(/tmp|secret|mysql:|srv|x\.csv/);
    // The opt-in lets it through.
    expect(refusal(sql, TABLE, true)).toBeUndefined();
  });

  it('accepts what ordinary tables and sequences hold', () => {
    for (const sql of [
      `${COLUMNS} ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='ENGINE=CONNECT DATA DIRECTORY'`,
      `${COLUMNS} ENGINE=Aria PAGE_CHECKSUM=1 TRANSACTIONAL=1`,
      `${COLUMNS} ENGINE=MEMORY`,
      `${COLUMNS} ENGINE=MyISAM`,
      "CREATE TABLE `t` (\n  `engine` varchar(10) DEFAULT 'CONNECT',\n  `connection` int,\n  `union` int\n) ENGINE=InnoDB",
      `${COLUMNS} ENGINE=InnoDB\n PARTITION BY RANGE (\`id\`)\n(PARTITION \`p0\` VALUES LESS THAN (10) ENGINE = InnoDB)`,
      // mysqldump --skip-quote-names: a column named like an option, unquoted.
      'CREATE TABLE t (\n  engine int,\n  connection int\n) ENGINE=InnoDB PARTITION BY KEY (connection)',
    ])
      expect(refusal(sql)).toBeUndefined();
    expect(
      refusal(
        'CREATE SEQUENCE `t` start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 cache 1000 nocycle ENGINE=InnoDB',
        { kind: 'sequence', name: 't' },
      ),
    ).toBeUndefined();
    expect(
      refusal('CREATE SEQUENCE `t` start with 1 ENGINE=CONNECT', { kind: 'sequence', name: 't' }),
    ).toBeInstanceOf(ExternalAccessError);
  });

  it('refuses the same in a dump, and in a file of the original tool', () => {
    const dump: FileExpectation = { kind: 'dump', databases: ['app'], ledger: newDumpLedger() };
    const guard = mariadbScriptFormat.checker(dump);
    guard.check('DROP TABLE IF EXISTS `t`');
    expect(() => guard.check(`${COLUMNS} ENGINE=FEDERATED CONNECTION='mysql://h/d/t'`)).toThrow(
      ExternalAccessError,
    );
    expect(
      refusal(`${COLUMNS} ENGINE=CONNECT`, { kind: 'legacy-table', name: 't' }),
    ).toBeInstanceOf(ExternalAccessError);
  });
});
