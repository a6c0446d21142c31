/**
 * The snapshot format, byte for byte: a small database with every category and object kind
 * is snapshotted and compared with test/golden/basic/. A change of format shows up as a diff
 * of those files in review. Regenerate with SCHEMA_BACKUP_UPDATE_GOLDEN=1 npm test.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../src/engine/mariadb/mariadb-engine.js';
import { takeSnapshot } from '../../src/snapshot/take-snapshot.js';
import { createTestDatabase } from '../helpers/database.js';
import { snapshotOptionsForTest } from '../helpers/snapshot-options.js';
import { createTempDir } from '../helpers/temp-dir.js';

const GOLDEN = join(import.meta.dirname, '../golden/basic');

const SETUP = [
  "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'",
  "CREATE TABLE settings (name VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL, flags BIT(3), weight FLOAT, data VARBINARY(16)) COMMENT 'global configuration'",
  "INSERT INTO settings VALUES ('motd', 'It''s a \"line\"\\nwith \\\\ and 😀', b'101', 3.4028234e38, 0x00FF27), ('empty', '', NULL, -0.1, '')",
  'CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, login VARCHAR(32) NOT NULL UNIQUE, secret VARBINARY(32)) AUTO_INCREMENT=1000',
  "INSERT INTO users (login, secret) VALUES ('alice', 0x01)",
  'CREATE TABLE sessions (id CHAR(8) PRIMARY KEY, user_id INT, expires DATETIME, FOREIGN KEY (user_id) REFERENCES users (id))',
  "INSERT INTO sessions VALUES ('abcdefgh', 1000, '2030-01-01 00:00:00')",
  "CREATE TABLE `odd.name` (`a b` INT, `c``d` VARCHAR(3) INVISIBLE DEFAULT 'x', g INT AS (`a b` + 1) VIRTUAL)",
  "INSERT INTO `odd.name` (`a b`, `c``d`) VALUES (2, 'y'), (1, NULL)",
  'CREATE TABLE ignored_table (x INT)',
  'CREATE SEQUENCE ticket_seq START WITH 10',
  "CREATE VIEW active_settings AS SELECT name, value FROM settings WHERE value <> ''",
  "CREATE FUNCTION greet(who VARCHAR(20)) RETURNS VARCHAR(40) DETERMINISTIC RETURN CONCAT('hello; ', who)",
  'CREATE PROCEDURE purge_sessions() BEGIN DELETE FROM sessions WHERE expires < NOW(); END',
  'CREATE TRIGGER users_bi BEFORE INSERT ON users FOR EACH ROW SET NEW.login = LOWER(NEW.login)',
  "SET SESSION time_zone = '+02:00'",
  "CREATE EVENT nightly_purge ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00' DISABLE DO CALL purge_sessions()",
];

/** Makes the files independent of the test server's account host. */
function normalise(text: string): string {
  return text.replace(/definer `root`@`[^`]*`/g, 'definer `root`@`HOST`');
}

describe('snapshot format', () => {
  it('matches test/golden/basic byte for byte', async () => {
    const database = await createTestDatabase('golden');
    for (const statement of SETUP) await database.exec(statement);
    const backupDir = await createTempDir('golden');
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: database.name,
        backupDir,
        host: 'golden.example.org',
        categories: {
          global: ['settings', 'odd.name'],
          local: ['users'],
          ephemeral: ['sessions'],
          ignore: ['ignored_table'],
        },
      }),
    );
    const actual = new Map<string, string>();
    for (const file of (await readdir(result.hostDir)).sort()) {
      actual.set(file, normalise(await readFile(join(result.hostDir, file), 'utf8')));
    }
    if (process.env.SCHEMA_BACKUP_UPDATE_GOLDEN === '1') {
      await rm(GOLDEN, { recursive: true, force: true });
      await mkdir(GOLDEN, { recursive: true });
      for (const [file, text] of actual) await writeFile(join(GOLDEN, file), text);
    }
    const expected = new Map<string, string>();
    for (const file of (await readdir(GOLDEN)).sort())
      expected.set(file, await readFile(join(GOLDEN, file), 'utf8'));
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [file, text] of expected) expect(actual.get(file), file).toBe(text);
  });
});
