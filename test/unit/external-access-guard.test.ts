/**
 * Restore and load refuse a definition that reaches outside the database unless external
 * access is allowed: on MariaDB a table or sequence whose rows live in files of the server or
 * on other servers, however its CREATE is written; on PostgreSQL an extension with file,
 * network or operating-system access and a routine in an untrusted language. The error names
 * the object and the option, never a value.
 */
import { describe, expect, it } from 'vitest';
import { newDumpLedger, type FileExpectation } from '../../src/engine/engine.js';
import { mariadbScriptFormat } from '../../src/engine/mariadb/script-format.js';
import { postgresqlScriptFormat } from '../../src/engine/postgresql/script-format.js';
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

describe('the PostgreSQL checker and what reaches outside the database', () => {
  function pgRefusal(sql: string, expected: FileExpectation, allow = false): Error | undefined {
    const guard = postgresqlScriptFormat.checker(expected, { allowExternalAccess: allow });
    try {
      guard.check(sql);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(UnexpectedStatementError);
      return error as Error;
    }
  }

  it.each([
    'dblink',
    'adminpack',
    'file_fdw',
    'postgres_fdw',
    'mysql_fdw',
    'plpython3u',
    'plperlu',
    'pltclu',
    'somethingelse',
  ])('refuses CREATE EXTENSION %s unless allowed', (name) => {
    const sql = `CREATE EXTENSION IF NOT EXISTS "${name}" WITH SCHEMA "public"`;
    const error = pgRefusal(sql, { kind: 'extension', name });
    expect(error).toBeInstanceOf(ExternalAccessError);
    expect(error?.message).toContain(`extension "${name}"`);
    expect(pgRefusal(sql, { kind: 'extension', name }, true)).toBeUndefined();
  });

  it('accepts extensions that stay inside the database', () => {
    for (const name of ['plpgsql', 'citext', 'pg_trgm', 'uuid-ossp', 'postgis', 'hstore'])
      expect(
        pgRefusal(`CREATE EXTENSION IF NOT EXISTS "${name}" WITH SCHEMA "public"`, {
          kind: 'extension',
          name,
        }),
      ).toBeUndefined();
  });

  it.each([
    ["LANGUAGE c AS '/tmp/sbhard_evil.so', 'f'", 'a function in C'],
    ["LANGUAGE 'C' AS 'evil', 'f'", 'a function in C'],
    ["LANGUAGE internal AS 'pg_read_file'", 'language internal'],
    ['LANGUAGE "plpython3u" AS $$import os$$', 'language plpython3u'],
    ['LANGUAGE plperlu AS $$ `touch /tmp/x` $$', 'language plperlu'],
    ['AS $$ x $$ LANGUAGE pltclu', 'language pltclu'],
  ])('refuses a function %s unless allowed', (body, what) => {
    const expected: FileExpectation = { kind: 'function', name: 'app.f()' };
    const sql = `CREATE FUNCTION "app"."f"() RETURNS integer ${body}`;
    const error = pgRefusal(sql, expected);
    expect(error).toBeInstanceOf(ExternalAccessError);
    expect(error?.message).toContain(what);
    expect(error?.message).not.toMatch(/tmp|evil|import|touch/);
    expect(pgRefusal(sql, expected, true)).toBeUndefined();
  });

  it.each([
    'CREATE TABLE "app"."t" ("id" integer CHECK (lo_export(lo_import(\'/etc/passwd\'), \'/tmp/x\') > 0))',
    'CREATE TABLE "app"."t" ("v" text DEFAULT pg_catalog.pg_read_file(\'/etc/passwd\'))',
    'CREATE TABLE "app"."t" ("v" text CHECK ("dblink_exec" (\'host=x\', \'y\') <> \'\'))',
  ])(
    'refuses a table whose CHECK or DEFAULT calls a server file or network function: %s',
    (sql) => {
      const expected: FileExpectation = { kind: 'table', name: 'app.t' };
      const error = pgRefusal(sql, expected);
      expect(error).toBeInstanceOf(ExternalAccessError);
      expect(error?.message).toMatch(/calls (?:lo_import|lo_export|pg_read_file|dblink_exec)\(\)/);
      expect(error?.message).not.toMatch(/passwd|tmp|host=/);
      expect(pgRefusal(sql, expected, true)).toBeUndefined();
    },
  );

  it('refuses such a call in an ALTER TABLE … ADD CONSTRAINT too, and accepts a column named so', () => {
    const guard = postgresqlScriptFormat.checker({ kind: 'table', name: 'app.t' });
    guard.check('CREATE TABLE "app"."t" ("id" integer, "lo_import" integer, pg_read_file text)');
    expect(() =>
      guard.check(
        `ALTER TABLE ONLY "app"."t" ADD CONSTRAINT "c" CHECK (pg_catalog.pg_stat_file('/etc') IS NOT NULL)`,
      ),
    ).toThrow(ExternalAccessError);
  });

  it('accepts routines in trusted languages, and tables with storage options', () => {
    for (const language of ['sql', 'plpgsql', 'plperl', '"plpgsql"'])
      expect(
        pgRefusal(`CREATE FUNCTION "app"."f"() RETURNS integer LANGUAGE ${language} AS $$ x $$`, {
          kind: 'function',
          name: 'app.f()',
        }),
      ).toBeUndefined();
    expect(
      pgRefusal(
        'CREATE FUNCTION "app"."f"() RETURNS text LANGUAGE sql BEGIN ATOMIC SELECT language FROM app.users; END',
        { kind: 'function', name: 'app.f()' },
      ),
    ).toBeUndefined();
    expect(
      pgRefusal('CREATE PROCEDURE "app"."p"() LANGUAGE plpython3u AS $$ x $$', {
        kind: 'procedure',
        name: 'app.p()',
      }),
    ).toBeInstanceOf(ExternalAccessError);
    expect(
      pgRefusal(
        'CREATE TABLE "app"."t" ("id" integer) WITH (fillfactor=70) TABLESPACE "pg_default"',
        { kind: 'table', name: 'app.t' },
      ),
    ).toBeUndefined();
  });
});
