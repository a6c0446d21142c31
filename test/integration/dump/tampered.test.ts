/**
 * A MariaDB dump altered after it was written (a file on a shared disk, one fetched from off
 * site) is refused by `load` at the first statement a dump does not write, and that statement
 * never runs: the server is checked afterwards (no new account, no grant, no global setting
 * changed, no file written, another database and its table intact, no trigger or event on
 * it). The directory form is altered with its manifest rewritten to match (sizes and
 * SHA-256s), so that the checker, not the checksums, is what refuses it; the same rewrite
 * of a harmless change loads.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { dumpDatabase, type DumpOptions } from '../../../src/dump/dump-database.js';
import type { DumpManifest } from '../../../src/dump/dump-format.js';
import { loadDump } from '../../../src/dump/load-dump.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { UnexpectedStatementError, UsageError } from '../../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { dumpOptionsForTest, loadOptionsForTest } from '../../helpers/dump.js';
import { databaseExists, MARKER_TABLE } from '../../helpers/restore.js';
import { createTempDir } from '../../helpers/temp-dir.js';

interface World {
  readonly source: TestDatabase;
  readonly victim: TestDatabase;
  /** An account the tampered statements try to create (dropped after the test in any case). */
  readonly evil: string;
  /** A file INTO OUTFILE tries to write. */
  readonly outfile: string;
  readonly maxConnectErrors: string;
}

async function world(): Promise<World> {
  const source = await createTestDatabase('dtamp');
  await source.exec('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
  await source.exec("INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_500");
  await source.exec('CREATE TABLE u (id INT PRIMARY KEY)');
  await source.exec('INSERT INTO u VALUES (1), (2)');
  await source.exec('CREATE VIEW w AS SELECT id FROM t');
  const victim = await createTestDatabase('dvict');
  await victim.exec('CREATE TABLE secret (id INT PRIMARY KEY, v VARCHAR(20))');
  await victim.exec("INSERT INTO secret VALUES (1, 'keep')");
  const evil = `sbchk_evil_${randomBytes(4).toString('hex')}`;
  onTestFinished(async () => {
    await victim.exec(`DROP USER IF EXISTS '${evil}'@'localhost'`);
  });
  const [row] = await victim.query<{ value: string }>(
    'SELECT @@GLOBAL.max_connect_errors AS value',
  );
  const maxConnectErrors = String(row?.value);
  onTestFinished(async () => {
    await victim.exec(`SET GLOBAL max_connect_errors = ${maxConnectErrors}`);
  });
  return {
    source,
    victim,
    evil,
    outfile: `/tmp/sbchk_outfile_${randomBytes(4).toString('hex')}`,
    maxConnectErrors,
  };
}

/** Statements a tamperer adds (without their `;`), each a thing a dump never does. */
function dangerous(w: World): readonly string[] {
  const victim = `\`${w.victim.name}\``;
  return [
    `CREATE USER '${w.evil}'@'localhost' IDENTIFIED BY 'secret-password'`,
    `GRANT ALL ON *.* TO '${w.evil}'@'localhost' IDENTIFIED BY 'secret-password'`,
    'SET GLOBAL max_connect_errors = 999983',
    `SELECT * FROM \`t\` INTO OUTFILE '${w.outfile}'`,
    `DROP DATABASE ${victim}`,
    `INSERT INTO ${victim}.\`secret\` VALUES (2, 'stolen')`,
    `USE ${victim};\nDROP TABLE IF EXISTS \`secret\`;\nCREATE TABLE \`secret\` (id INT)`,
    `DROP TRIGGER IF EXISTS \`tr_evil\`;\nCREATE TRIGGER \`tr_evil\` BEFORE INSERT ON ${victim}.\`secret\` FOR EACH ROW SET NEW.v = 'x'`,
    `DROP EVENT IF EXISTS \`ev_evil\`;\nCREATE EVENT ${victim}.\`ev_evil\` ON SCHEDULE EVERY 1 DAY DO DELETE FROM ${victim}.\`secret\``,
    `DROP TABLE IF EXISTS \`u\``,
  ];
}

/** None of the dangerous statements ran. */
async function expectUntouched(w: World): Promise<void> {
  const { victim } = w;
  expect(await databaseExists(victim.name)).toBe(true);
  expect(await victim.query('SELECT id, v FROM secret')).toEqual([{ id: 1, v: 'keep' }]);
  expect(await victim.query('SELECT User FROM mysql.user WHERE User = ?', [w.evil])).toEqual([]);
  const [setting] = await victim.query<{ value: string }>(
    'SELECT @@GLOBAL.max_connect_errors AS value',
  );
  expect(String(setting?.value)).toBe(w.maxConnectErrors);
  expect(
    await victim.query(
      'SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ?',
      [victim.name],
    ),
  ).toEqual([]);
  expect(
    await victim.query('SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [
      victim.name,
    ]),
  ).toEqual([]);
  expect(existsSync(w.outfile)).toBe(false);
}

async function dumpOf(source: TestDatabase, overrides: Partial<DumpOptions> = {}): Promise<string> {
  const result = await dumpDatabase(
    mariadbEngine,
    dumpOptionsForTest({
      databases: [source.name],
      dumpDir: await createTempDir('dtamp'),
      ...overrides,
    }),
  );
  return result.path ?? '';
}

/** A name for a target the load must create, dropped when the test finishes in any case. */
async function freshTarget(): Promise<string> {
  const target = await createTestDatabase('dtgt');
  await target.exec(`DROP DATABASE \`${target.name}\``);
  return target.name;
}

async function loadError(path: string, into: string, force = false): Promise<unknown> {
  return loadDump(mariadbEngine, loadOptionsForTest({ path, into, force })).then(
    () => undefined,
    (caught: unknown) => caught,
  );
}

function expectRefusal(error: unknown, label: string): void {
  expect(error, label).toBeInstanceOf(UnexpectedStatementError);
  expect((error as UnexpectedStatementError).exitCode).toBe(1);
  expect((error as Error).message).toMatch(
    /^refused to load .* at (?:line \d+|its end): .*not a statement a dump writes/,
  );
  expect((error as Error).message).not.toContain('secret-password');
  expect((error as UnexpectedStatementError).hint).toMatch(
    /runs only the statements a dump writes/,
  );
}

/** Rewrites file `name` of dump directory `dir` with `text`, and its manifest entry to match. */
async function rewriteWithManifest(dir: string, name: string, text: string): Promise<void> {
  await writeFile(join(dir, name), text);
  const manifestPath = join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as DumpManifest;
  const bytes = Buffer.from(text);
  const files = manifest.files.map((file) =>
    file.name === name
      ? { ...file, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
      : file,
  );
  await writeFile(manifestPath, `${JSON.stringify({ ...manifest, files }, null, 2)}\n`);
}

describe('load refuses a tampered MariaDB dump', () => {
  it('a single file: appended at the end or inserted after the first rows, refused, never run, the new target dropped', async () => {
    const w = await world();
    const path = await dumpOf(w.source);
    const original = await readFile(path, 'utf8');
    const end = original.lastIndexOf('-- schema_backup dump complete');
    const firstRows = original.indexOf('\n', original.indexOf('INSERT INTO `t`')) + 1;
    const statements = dangerous(w);
    for (const [index, statement] of statements.entries()) {
      const at = index % 2 === 0 ? end : firstRows;
      await writeFile(path, `${original.slice(0, at)}${statement};\n${original.slice(at)}`);
      const target = await freshTarget();
      const error = await loadError(path, target);
      expectRefusal(error, statement);
      expect(await databaseExists(target), statement).toBe(false);
      await expectUntouched(w);
    }
  });

  it('a directory with its manifest rewritten: refused before anything loads (structure) or part way (rows)', async () => {
    const w = await world();
    const dir = await dumpOf(w.source, { form: 'directory' });
    const names = await readdir(dir);
    const objects = names.find((name) => name.endsWith('-objects.sql')) ?? '';
    const rows = names.find((name) => /\.t\.00000\.sql$/.test(name)) ?? '';
    const originals = new Map<string, string>();
    for (const name of [objects, rows])
      originals.set(name, await readFile(join(dir, name), 'utf8'));
    const manifest = await readFile(join(dir, 'manifest.json'), 'utf8');

    // The rewrite itself is sound: a harmless change (a row's value) with its manifest loads.
    const rowsText = originals.get(rows) ?? '';
    await rewriteWithManifest(dir, rows, rowsText.replace("'v1'", "'V1'"));
    const control = await createTestDatabase('dtgt');
    await loadDump(mariadbEngine, loadOptionsForTest({ path: dir, into: control.name }));
    expect(await control.query('SELECT v FROM t WHERE id = 1')).toEqual([{ v: 'V1' }]);

    for (const [index, statement] of dangerous(w).entries()) {
      const name = index % 2 === 0 ? objects : rows;
      const text = originals.get(name) ?? '';
      const end = text.lastIndexOf('-- schema_backup dump file complete');
      await writeFile(join(dir, 'manifest.json'), manifest);
      for (const [other, otherText] of originals) await writeFile(join(dir, other), otherText);
      await rewriteWithManifest(
        dir,
        name,
        `${text.slice(0, end)}${statement};\n${text.slice(end)}`,
      );
      const target = await freshTarget();
      const error = await loadError(dir, target);
      expectRefusal(error, statement);
      if (name === objects)
        expect((error as UnexpectedStatementError).hint).toMatch(/Nothing was loaded/);
      expect(await databaseExists(target), statement).toBe(false);
      await expectUntouched(w);
    }
  });

  it('over a target loaded with --force, a refusal part way leaves the incomplete marker and its other tables', async () => {
    const w = await world();
    const path = await dumpOf(w.source);
    const original = await readFile(path, 'utf8');
    const firstRows = original.indexOf('\n', original.indexOf('INSERT INTO `t`')) + 1;
    const target = await createTestDatabase('dtgt');
    await target.exec('CREATE TABLE keep_me (id INT)');
    await target.exec('INSERT INTO keep_me VALUES (7)');
    const attacks = [
      `INSERT INTO \`${w.victim.name}\`.\`secret\` VALUES (3, 'stolen')`,
      'INSERT INTO `keep_me` VALUES (8)',
      // A DROP runs only with the CREATE after it: refused, it never ran.
      'DROP TABLE IF EXISTS `keep_me`',
      'DROP TRIGGER IF EXISTS `tk`;\nCREATE TRIGGER `tk` BEFORE INSERT ON `keep_me` FOR EACH ROW SET NEW.id = 0',
      'ALTER TABLE `keep_me` ADD KEY `k` (`id`)',
    ];
    for (const attack of attacks) {
      await writeFile(
        path,
        `${original.slice(0, firstRows)}${attack};\n${original.slice(firstRows)}`,
      );
      expectRefusal(await loadError(path, target.name, true), attack);
      const tables = await target.query<{ name: string }>(
        'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
        [target.name],
      );
      expect(tables.map((table) => table.name)).toContain(MARKER_TABLE);
      expect(await target.query('SELECT id FROM keep_me')).toEqual([{ id: 7 }]);
      expect(await target.query('SHOW INDEX FROM keep_me')).toEqual([]);
      expect(await target.query('SHOW TRIGGERS')).toEqual([]);
    }
    await expectUntouched(w);
  });
  it('never fills a database of the server itself, whatever the header names, even with --force', async () => {
    const w = await world();
    const path = await dumpOf(w.source);
    const text = await readFile(path, 'utf8');
    await writeFile(
      path,
      text.replace(`"databases":["${w.source.name}"]`, '"databases":["mysql"]'),
    );
    const before = await w.victim.query('SELECT COUNT(*) AS n FROM mysql.global_priv');
    const error = await loadDump(mariadbEngine, loadOptionsForTest({ path, force: true })).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(
      /load does not fill mysql, a database of the server's own/,
    );
    expect(await w.victim.query('SELECT COUNT(*) AS n FROM mysql.global_priv')).toEqual(before);
    expect(
      await w.victim.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME IN ('t', 'u', ?)",
        [MARKER_TABLE],
      ),
    ).toEqual([]);
  });
});
