/** Dump names (the shape retention relies on) and the statement reader of `load`. */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  databasePart,
  dumpExtension,
  dumpName,
  safeFilePart,
  temporaryDumpName,
} from '../../src/dump/dump-format.js';
import { mariadbScriptFormat } from '../../src/engine/mariadb/script-format.js';
import { postgresqlScriptFormat } from '../../src/engine/postgresql/script-format.js';

async function statementsOf(chunks: readonly Buffer[]): Promise<string[]> {
  const result: string[] = [];
  for await (const statement of mariadbScriptFormat.readStatements(Readable.from(chunks)))
    result.push(statement.sql);
  return result;
}

describe('dump names', () => {
  it('is <host>_<database>_<timestamp> plus .sql, the compression and .age', () => {
    const base = { host: 'db1.example.org', database: 'csv2', timestamp: '2026-11-24T05-13-53Z' };
    expect(dumpName({ ...base, directory: false, extension: dumpExtension('.zst', true) })).toBe(
      'db1.example.org_csv2_2026-11-24T05-13-53Z.sql.zst.age',
    );
    expect(dumpName({ ...base, directory: false, extension: dumpExtension('', false) })).toBe(
      'db1.example.org_csv2_2026-11-24T05-13-53Z.sql',
    );
    expect(dumpName({ ...base, directory: true, extension: '.sql.gz' })).toBe(
      'db1.example.org_csv2_2026-11-24T05-13-53Z',
    );
  });

  it('names several databases a+b, --all-databases all, and hides temporary names', () => {
    expect(databasePart(['a', 'b'], false)).toBe('a+b');
    expect(databasePart(['a', 'b'], true)).toBe('all');
    expect(temporaryDumpName('x.sql', 'abcd')).toBe('.x.sql.tmp-abcd');
    expect(safeFilePart('we/ird.näme')).toBe('we@2fird@2en@c3@a4me');
  });
});

describe('the statement reader of load', () => {
  it('splits lines across chunks, multi-byte characters included, and honours DELIMITER', async () => {
    const text =
      "-- header\nSET NAMES utf8mb4;\nINSERT INTO `t` VALUES ('ü😀\\n;'),(2);\r\nCREATE TABLE `x` (\n  a int\n);\nDELIMITER ;;\nCREATE TRIGGER tr BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END;;\nDELIMITER ;\n-- end\n";
    const bytes = Buffer.from(text, 'utf8');
    const expected = [
      'SET NAMES utf8mb4',
      "INSERT INTO `t` VALUES ('ü😀\\n;'),(2)",
      'CREATE TABLE `x` (\n  a int\n)',
      'CREATE TRIGGER tr BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END',
    ];
    expect(await statementsOf([bytes])).toEqual(expected);
    // Every split point, so that a chunk boundary falls inside each multi-byte character.
    for (let at = 1; at < bytes.length; at += 1)
      expect(await statementsOf([bytes.subarray(0, at), bytes.subarray(at)])).toEqual(expected);
  });
});

describe('withoutStatementText', () => {
  it("drops the server's quote of the statement, which may hold row values", () => {
    expect(
      mariadbScriptFormat.admin.withoutStatementText(
        "database error while running a statement: You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'secret-value'' at line 1 (ER_PARSE_ERROR)",
      ),
    ).toBe(
      'database error while running a statement: You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use (the statement text is left out) (ER_PARSE_ERROR)',
    );
  });

  it('drops the value PostgreSQL quotes, before the condition name or at the end', () => {
    const withoutStatementText = (message: string): string =>
      postgresqlScriptFormat.admin.withoutStatementText(message);
    expect(
      withoutStatementText(
        'database error while loading COPY data: invalid input syntax for type integer: "secret" (22P02)',
      ),
    ).toBe('database error while loading COPY data: invalid input syntax for type integer (22P02)');
    expect(withoutStatementText('invalid input value for enum app.mood: "secret"')).toBe(
      'invalid input value for enum app.mood',
    );
    expect(withoutStatementText('value too long (22001)')).toBe('value too long (22001)');
  });
});
