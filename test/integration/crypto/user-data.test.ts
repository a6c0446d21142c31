/**
 * The user-data copy end to end, against the real server, git and the stock age CLI: the
 * rows of local tables leave no plaintext trace anywhere (files, git objects, logs, the
 * result), restore with `age -d | mariadb`, and the copies are laid out, deduplicated,
 * re-keyed and rolled back as documented.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmod, lstat, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { CryptoError, GitError } from '../../../src/errors.js';
import { takeSnapshot, type SnapshotResult } from '../../../src/snapshot/take-snapshot.js';
import {
  copyTimestamp,
  UserDataCopy,
  type UserDataManifest,
} from '../../../src/snapshot/user-data-copy.js';
import { createMemoryLogger, silentLogger, type Logger } from '../../../src/support/logger.js';
import {
  ageDecryptSql,
  ageKeygen,
  pipeAgeIntoMariadb,
  readTree,
  type AgeKey,
} from '../../helpers/age.js';
import {
  createTestDatabase,
  loadWithStockClient,
  type TestDatabase,
} from '../../helpers/database.js';
import { git } from '../../helpers/git-repo.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';
const T1 = new Date('2026-03-01T10:00:00.000Z');
const T2 = new Date('2026-03-02T10:00:00.000Z');
const T3 = new Date('2026-03-03T10:00:00.000Z');
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
const COLUMNS = ['id', 'txt', 'bin', 'note'] as const;
/** The local table's file in a copy: zstd-compressed, then age-encrypted (the default). */
const SECRETS_FILE = 'secrets.sql.zst.age';

interface Fixture {
  readonly source: TestDatabase;
  readonly backupDir: string;
  readonly userDataDir: string;
  readonly keysDir: string;
  readonly key: AgeKey;
  /** In a text column and a blob of the local table: must never appear in clear. */
  readonly marker: string;
  /** In the global table: must appear in git (proves the leak scan sees what git holds). */
  readonly globalMarker: string;
  /** `<userDataDir>/<host>`. */
  readonly hostDir: string;
}

async function setUp(): Promise<Fixture> {
  const source = await createTestDatabase('ud');
  const marker = `MARKER-${randomBytes(8).toString('hex')}`;
  const globalMarker = `GLOBAL-${randomBytes(8).toString('hex')}`;
  await source.exec(
    'CREATE TABLE secrets (id INT PRIMARY KEY, txt TEXT CHARACTER SET utf8mb4, bin BLOB, note VARCHAR(200) CHARACTER SET utf8mb4)',
  );
  await source.exec('CREATE TABLE settings (id INT PRIMARY KEY, v VARCHAR(100))');
  const rows: unknown[][] = [
    [1, marker, Buffer.from(marker), `prefix ${marker} suffix`],
    [
      2,
      'NUL:\0 quote:\' dquote:" backslash:\\ newline:\n cr:\r tab:\t emoji:😀🦄 end',
      ALL_BYTES,
      "\\'\\\\'' -- /* */ ;",
    ],
    [3, null, null, null],
    [4, '', Buffer.alloc(0), ' trailing space '],
    [
      5,
      "O'Brien \\N NULL 0x41 \u0000\u0000",
      Buffer.from([0x00, 0x27, 0x5c, 0x0a, 0x0d, 0x1a]),
      '𝕏 é ß',
    ],
    [6, 'x'.repeat(5000), randomBytes(3000), 'long'],
  ];
  for (const row of rows) await source.exec('INSERT INTO secrets VALUES (?, ?, ?, ?)', row);
  await source.exec('INSERT INTO settings VALUES (1, ?), (2, ?)', [globalMarker, 'other']);
  const backupDir = await createTempDir('ud-backup');
  const userDataDir = await createTempDir('ud-data');
  const keysDir = await createTempDir('ud-keys');
  return {
    source,
    backupDir,
    userDataDir,
    keysDir,
    key: ageKeygen(keysDir),
    marker,
    globalMarker,
    hostDir: join(userDataDir, HOST),
  };
}

async function snapshot(
  fixture: Fixture,
  options: { now: Date; recipients?: readonly string[]; logger?: Logger },
): Promise<SnapshotResult> {
  return takeSnapshot(
    mariadbEngine,
    snapshotOptionsForTest({
      database: fixture.source.name,
      backupDir: fixture.backupDir,
      host: HOST,
      categories: { local: ['secrets'], global: ['settings'] },
      userData: {
        dir: fixture.userDataDir,
        recipients: options.recipients ?? [fixture.key.recipient],
        fingerprintKeyFile: join(fixture.keysDir, 'fingerprint.key'),
      },
      now: options.now,
      logger: options.logger ?? silentLogger,
    }),
  );
}

/** The `created` outcome of a result (fails the test on any other). */
function created(result: SnapshotResult): { path: string; timestamp: string } {
  expect(result.userData.outcome).toBe('created');
  if (result.userData.outcome !== 'created') throw new Error('unreachable');
  return result.userData;
}

/** Every entry of the user-data host directory, sorted. */
async function entriesOf(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Where `needles` occur in `haystacks`, as `name: needle` lines. */
function occurrences(haystacks: ReadonlyMap<string, Buffer>, needles: readonly Buffer[]): string[] {
  const found: string[] = [];
  for (const [name, bytes] of haystacks)
    for (const needle of needles)
      if (bytes.includes(needle)) found.push(`${name}: ${needle.toString('latin1')}`);
  return found;
}

/** The marker in every form the rows could be written in: raw, hex (both cases), UTF-16. */
function formsOf(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  return [
    bytes,
    Buffer.from(bytes.toString('hex').toUpperCase()),
    Buffer.from(bytes.toString('hex')),
    Buffer.from(text, 'utf16le'),
  ];
}

async function rowsAsHex(database: TestDatabase, table: string): Promise<unknown[]> {
  const select = COLUMNS.map((column) => `HEX(\`${column}\`) AS \`${column}\``).join(', ');
  return database.query(`SELECT ${select} FROM \`${table}\` ORDER BY id`);
}

async function modeOf(path: string): Promise<string> {
  return ((await lstat(path)).mode & 0o777).toString(8);
}

describe('user data: no plaintext anywhere', () => {
  it('leaves the marker of a local row in no file, git object, log line or result', async () => {
    const fixture = await setUp();
    const logger = createMemoryLogger();
    const result = await snapshot(fixture, { now: T1, logger });
    expect(result.git).toBe('committed');
    const copy = created(result);

    // The copy really holds the rows (so finding nothing below means something).
    const plaintext = ageDecryptSql(fixture.key.identityFile, join(copy.path, SECRETS_FILE));
    expect(plaintext.includes(Buffer.from(fixture.marker))).toBe(true);
    expect(
      plaintext.includes(Buffer.from(Buffer.from(fixture.marker).toString('hex').toUpperCase())),
    ).toBe(true);

    const needles = formsOf(fixture.marker);
    const files = new Map([
      ...(await readTree(fixture.backupDir)),
      ...(await readTree(fixture.userDataDir)),
      ...(await readTree(fixture.keysDir)),
    ]);
    expect(files.size).toBeGreaterThan(10);
    expect(occurrences(files, needles)).toEqual([]);

    // git objects, decompressed: the global table is there, the local rows are not.
    const objects = execFileSync('git', ['cat-file', '--batch-all-objects', '--batch'], {
      cwd: fixture.backupDir,
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(objects.includes(Buffer.from(fixture.globalMarker))).toBe(true);
    expect(objects.includes(Buffer.from('CREATE TABLE `secrets`'))).toBe(true);
    expect(occurrences(new Map([['git objects', objects]]), needles)).toEqual([]);

    expect(logger.lines.length).toBeGreaterThan(0);
    expect(
      occurrences(new Map([['log', Buffer.from(JSON.stringify(logger.lines))]]), needles),
    ).toEqual([]);
    expect(
      occurrences(new Map([['result', Buffer.from(JSON.stringify(result))]]), needles),
    ).toEqual([]);

    // The structure file of the local table: CREATE TABLE, no rows, in the tree and in git.
    const structure = await readFile(join(result.hostDir, 'secrets.sql'), 'utf8');
    expect(structure).toContain('CREATE TABLE `secrets`');
    expect(structure).not.toMatch(/INSERT/i);
    expect(git(fixture.backupDir, 'show', `HEAD:${HOST}/secrets.sql`)).toBe(structure);
    expect(await readFile(join(result.hostDir, 'settings.sql'), 'utf8')).toContain(
      fixture.globalMarker,
    );
    expect(result.tables.find((table) => table.name === 'secrets')?.rows).toBe(0);
  });

  it('restores through the stock `age -d | mariadb` to the same CHECKSUM TABLE and bytes', async () => {
    const fixture = await setUp();
    const result = await snapshot(fixture, { now: T1 });
    const copy = created(result);

    const target = await createTestDatabase('udrestore');
    await loadWithStockClient(target.name, join(result.hostDir, 'secrets.sql'));
    expect(await target.query('SELECT * FROM secrets')).toEqual([]);
    await pipeAgeIntoMariadb(fixture.key.identityFile, join(copy.path, SECRETS_FILE), target.name);

    const sourceChecksum = (await fixture.source.checksums()).get('secrets');
    expect(sourceChecksum).toMatch(/^\d+$/);
    expect((await target.checksums()).get('secrets')).toBe(sourceChecksum);
    const sourceRows = await rowsAsHex(fixture.source, 'secrets');
    expect(sourceRows).toHaveLength(6);
    expect(await rowsAsHex(target, 'secrets')).toEqual(sourceRows);
    // NULL and empty stay apart.
    const [nulls] = await target.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM secrets WHERE txt IS NULL AND bin IS NULL AND note IS NULL',
    );
    expect(Number(nulls?.n)).toBe(1);
    const [empty] = await target.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM secrets WHERE txt = '' AND LENGTH(bin) = 0",
    );
    expect(Number(empty?.n)).toBe(1);
    const [all] = await target.query<{ b: string }>(
      'SELECT HEX(bin) AS b FROM secrets WHERE id = 2',
    );
    expect(all?.b).toBe(ALL_BYTES.toString('hex').toUpperCase());
  });
});

describe('user data: a multi-megabyte local table', () => {
  it('encrypts ~12 MB of rows and restores them through `age -d | mariadb`', async () => {
    const fixture = await setUp();
    await fixture.source.exec('CREATE TABLE blobs (id INT PRIMARY KEY, b MEDIUMBLOB, t TEXT)');
    await fixture.source.exec('SET SESSION max_recursive_iterations = 10000');
    await fixture.source.exec(
      `INSERT INTO blobs
         WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 3000)
         SELECT n, REPEAT(UNHEX(SHA2(n, 256)), 64), CONCAT(?, n, REPEAT('é''x', 50)) FROM seq`,
      [fixture.marker],
    );
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: fixture.source.name,
        backupDir: fixture.backupDir,
        host: HOST,
        categories: { local: ['secrets', 'blobs'], global: ['settings'] },
        userData: {
          dir: fixture.userDataDir,
          recipients: [fixture.key.recipient],
          fingerprintKeyFile: join(fixture.keysDir, 'fingerprint.key'),
        },
        now: T1,
      }),
    );
    const copy = created(result);
    expect(await entriesOf(copy.path)).toEqual([
      'blobs.sql.zst.age',
      'manifest.json',
      SECRETS_FILE,
    ]);
    const manifest = JSON.parse(
      await readFile(join(copy.path, 'manifest.json'), 'utf8'),
    ) as UserDataManifest;
    expect(manifest.tables.blobs?.rows).toBe(3000);
    expect(manifest.tables.blobs?.plaintextBytes).toBeGreaterThan(12 * 1024 * 1024);

    const target = await createTestDatabase('udbig');
    await loadWithStockClient(target.name, join(result.hostDir, 'blobs.sql'));
    await pipeAgeIntoMariadb(
      fixture.key.identityFile,
      join(copy.path, 'blobs.sql.zst.age'),
      target.name,
    );
    const [count] = await target.query<{ n: number }>('SELECT COUNT(*) AS n FROM blobs');
    expect(Number(count?.n)).toBe(3000);
    expect((await target.checksums()).get('blobs')).toBe(
      (await fixture.source.checksums()).get('blobs'),
    );
    const files = await readTree(fixture.userDataDir);
    expect(occurrences(files, formsOf(fixture.marker))).toEqual([]);
  });
});

describe('user data: restore with the README recipe', () => {
  // Regression (fixed): triggers used to be in their table's file, so with the README's
  // recipe a local table's triggers were in place when its rows were loaded, and fired.
  // Triggers now have files of their own, loaded after every table's rows.
  it('fires no trigger of a local table when its rows are loaded', async () => {
    const fixture = await setUp();
    const { source } = fixture;
    await source.exec('CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(100))');
    await source.exec(
      "CREATE TRIGGER secrets_ai AFTER INSERT ON secrets FOR EACH ROW INSERT INTO audit (what) VALUES (CONCAT('secret ', NEW.id))",
    );
    await source.exec(
      "CREATE TRIGGER secrets_bi BEFORE INSERT ON secrets FOR EACH ROW SET NEW.note = CONCAT('new: ', COALESCE(NEW.note, ''))",
    );
    await source.exec("INSERT INTO secrets (id, txt, note) VALUES (7, 'seven', 'n7')");
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: source.name,
        backupDir: fixture.backupDir,
        host: HOST,
        categories: { local: ['secrets'], global: ['settings', 'audit'] },
        userData: {
          dir: fixture.userDataDir,
          recipients: [fixture.key.recipient],
          fingerprintKeyFile: join(fixture.keysDir, 'fingerprint.key'),
        },
        now: T1,
      }),
    );
    const copy = created(result);
    expect(await readFile(join(result.hostDir, 'secrets.sql'), 'utf8')).not.toContain(
      'CREATE TRIGGER',
    );
    expect(await readFile(join(result.hostDir, 'secrets_ai.trigger.sql'), 'utf8')).toContain(
      'CREATE TRIGGER',
    );

    // README: the database defaults, the table files, then the rows of local tables from the
    // copy, then the other objects (triggers among them).
    const target = await createTestDatabase('udtrg');
    const files = (await readdir(result.hostDir))
      .filter((name) => name.endsWith('.sql') && name !== 'database.defaults.sql')
      .sort();
    await loadWithStockClient(target.name, join(result.hostDir, 'database.defaults.sql'));
    const isObject = (name: string): boolean =>
      /\.(sequence|view|function|procedure|trigger|event)\.sql$/.test(name);
    for (const file of files.filter((name) => !isObject(name)))
      await loadWithStockClient(target.name, join(result.hostDir, file));
    for (const file of (await readdir(copy.path)).filter((name) => name.endsWith('.age')))
      await pipeAgeIntoMariadb(fixture.key.identityFile, join(copy.path, file), target.name);
    for (const file of files.filter(isObject))
      await loadWithStockClient(target.name, join(result.hostDir, file));
    expect(
      await target.query(
        'SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY 1',
        [target.name],
      ),
    ).toEqual([{ name: 'secrets_ai' }, { name: 'secrets_bi' }]);

    expect(await target.query('SELECT * FROM audit ORDER BY id')).toEqual(
      await source.query('SELECT * FROM audit ORDER BY id'),
    );
    expect(await rowsAsHex(target, 'secrets')).toEqual(await rowsAsHex(source, 'secrets'));
  });
});

describe('user data: dry run', () => {
  it('writes nothing to the user-data dir and creates no fingerprint key', async () => {
    const fixture = await setUp();
    const result = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({
        database: fixture.source.name,
        backupDir: fixture.backupDir,
        host: HOST,
        categories: { local: ['secrets'], global: ['settings'] },
        userData: {
          dir: fixture.userDataDir,
          recipients: [fixture.key.recipient],
          fingerprintKeyFile: join(fixture.keysDir, 'fingerprint.key'),
        },
        dryRun: true,
      }),
    );
    expect(result.userData).toEqual({ outcome: 'dry-run' });
    expect(await readdir(fixture.userDataDir)).toEqual([]);
    expect(await readdir(fixture.keysDir)).toEqual(['key.txt']);
  });
});

describe('user data: layout, permissions, manifest', () => {
  it('writes <dir>/<host>/<timestamp>/<table>.sql.zst.age + manifest.json, latest -> timestamp, 0700/0600', async () => {
    const fixture = await setUp();
    const result = await snapshot(fixture, { now: T1 });
    const copy = created(result);
    const stamp = copyTimestamp(T1);
    expect(stamp).toBe('2026-03-01T10-00-00Z');
    expect(copy.timestamp).toBe(stamp);
    expect(copy.path).toBe(join(fixture.hostDir, stamp));
    expect(result.userData).toMatchObject({ tables: 1 });

    expect(await entriesOf(fixture.userDataDir)).toEqual([HOST]);
    expect(await entriesOf(fixture.hostDir)).toEqual([stamp, 'latest']);
    expect((await lstat(join(fixture.hostDir, 'latest'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(fixture.hostDir, 'latest'))).toBe(stamp);
    expect(await entriesOf(copy.path)).toEqual(['manifest.json', SECRETS_FILE]);

    expect(await modeOf(fixture.hostDir)).toBe('700');
    expect(await modeOf(copy.path)).toBe('700');
    expect(await modeOf(join(copy.path, SECRETS_FILE))).toBe('600');
    expect(await modeOf(join(copy.path, 'manifest.json'))).toBe('600');
    expect(await modeOf(join(fixture.keysDir, 'fingerprint.key'))).toBe('600');

    // The ciphertext is an age v1 file (binary, not armored).
    const ciphertext = await readFile(join(copy.path, SECRETS_FILE));
    expect(ciphertext.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
    expect(ciphertext.toString('latin1')).toContain('-> X25519 ');
  });

  it('keeps no plain hash of the data in the manifest', async () => {
    const fixture = await setUp();
    const copy = created(await snapshot(fixture, { now: T1 }));
    const manifestText = await readFile(join(copy.path, 'manifest.json'), 'utf8');
    const manifest = JSON.parse(manifestText) as UserDataManifest;
    const file = join(copy.path, SECRETS_FILE);
    const plaintext = ageDecryptSql(fixture.key.identityFile, file);

    expect(manifest.database).toBe(fixture.source.name);
    expect(manifest.recipients).toEqual([fixture.key.recipient]);
    expect(manifest.created).toBe(T1.toISOString());
    const entry = manifest.tables.secrets;
    expect(entry).toMatchObject({ file: SECRETS_FILE, rows: 6, compression: 'zstd' });
    expect(entry?.plaintextBytes).toBe(plaintext.length);
    expect(entry?.bytes).toBe((await stat(file)).size);
    expect(entry?.fingerprint).toMatch(/^[0-9a-f]{64}$/);

    for (const algorithm of ['sha256', 'sha1', 'md5', 'sha512']) {
      const digest = createHash(algorithm).update(plaintext).digest();
      expect(manifestText).not.toContain(digest.toString('hex'));
      expect(manifestText).not.toContain(digest.toString('hex').toUpperCase());
      expect(manifestText).not.toContain(digest.toString('base64'));
    }
  });
});

describe('user data: new copies only when something changed', () => {
  it('reports unchanged data without a new directory; a changed row makes a new copy and moves latest', async () => {
    const fixture = await setUp();
    const first = created(await snapshot(fixture, { now: T1 }));

    const logger = createMemoryLogger();
    const second = await snapshot(fixture, { now: T2, logger });
    expect(second.userData).toEqual({ outcome: 'unchanged', latest: first.timestamp });
    expect(second.git).toBe('no-changes');
    expect(await entriesOf(fixture.hostDir)).toEqual([first.timestamp, 'latest']);
    expect(await readlink(join(fixture.hostDir, 'latest'))).toBe(first.timestamp);
    expect(logger.lines.map((line) => line.message)).toContain(
      `user data unchanged since ${first.timestamp}: no new copy`,
    );

    await fixture.source.exec("UPDATE secrets SET note = 'changed' WHERE id = 4");
    const third = await snapshot(fixture, { now: T3 });
    const copy = created(third);
    expect(copy.timestamp).toBe(copyTimestamp(T3));
    // Only the rows changed: nothing for git.
    expect(third.git).toBe('no-changes');
    expect(await entriesOf(fixture.hostDir)).toEqual([first.timestamp, copy.timestamp, 'latest']);
    expect(await readlink(join(fixture.hostDir, 'latest'))).toBe(copy.timestamp);
    const plaintext = ageDecryptSql(fixture.key.identityFile, join(copy.path, SECRETS_FILE));
    expect(plaintext.toString('utf8')).toContain("'changed'");
    // The earlier copy is untouched.
    expect(
      ageDecryptSql(fixture.key.identityFile, join(first.path, SECRETS_FILE)).toString('utf8'),
    ).not.toContain("'changed'");
  });

  it('makes a new copy when the recipients change, readable by every identity', async () => {
    const fixture = await setUp();
    const first = created(await snapshot(fixture, { now: T1 }));
    const second = ageKeygen(fixture.keysDir, 'second.txt');
    const recipients = [fixture.key.recipient, second.recipient];

    const copy = created(await snapshot(fixture, { now: T2, recipients }));
    expect(await readlink(join(fixture.hostDir, 'latest'))).toBe(copy.timestamp);
    const file = join(copy.path, SECRETS_FILE);
    const expected = ageDecryptSql(fixture.key.identityFile, join(first.path, SECRETS_FILE));
    expect(ageDecryptSql(fixture.key.identityFile, file)).toEqual(expected);
    expect(ageDecryptSql(second.identityFile, file)).toEqual(expected);
    // The earlier copy stays readable by the first identity only.
    expect(() => ageDecryptSql(second.identityFile, join(first.path, SECRETS_FILE))).toThrow();
    const manifest = JSON.parse(
      await readFile(join(copy.path, 'manifest.json'), 'utf8'),
    ) as UserDataManifest;
    expect(manifest.recipients).toEqual(recipients);

    // The same recipients in another order are the same set: no new copy.
    const third = await snapshot(fixture, { now: T3, recipients: [...recipients].reverse() });
    expect(third.userData).toEqual({ outcome: 'unchanged', latest: copy.timestamp });
  });
});

describe('user data: failures', () => {
  it('leaves no half-written copy and does not move latest when the git commit fails', async () => {
    const fixture = await setUp();
    const first = created(await snapshot(fixture, { now: T1 }));
    const hook = join(fixture.backupDir, '.git', 'hooks', 'pre-commit');
    await writeFile(hook, '#!/bin/sh\necho refused by test hook >&2\nexit 1\n');
    await chmod(hook, 0o755);
    const head = git(fixture.backupDir, 'rev-parse', 'HEAD').trim();

    // A change in both tables, so that the run has something to commit.
    await fixture.source.exec("UPDATE secrets SET note = 'changed' WHERE id = 4");
    await fixture.source.exec("UPDATE settings SET v = 'changed' WHERE id = 2");
    await expect(snapshot(fixture, { now: T2 })).rejects.toThrow(GitError);

    expect(await entriesOf(fixture.hostDir)).toEqual([first.timestamp, 'latest']);
    expect(await readlink(join(fixture.hostDir, 'latest'))).toBe(first.timestamp);
    expect(git(fixture.backupDir, 'rev-parse', 'HEAD').trim()).toBe(head);

    // Once git accepts again, the next run saves the changed rows.
    await writeFile(hook, '#!/bin/sh\nexit 0\n');
    const copy = created(await snapshot(fixture, { now: T3 }));
    expect(await entriesOf(fixture.hostDir)).toEqual([first.timestamp, copy.timestamp, 'latest']);
    expect(await readlink(join(fixture.hostDir, 'latest'))).toBe(copy.timestamp);
  });

  // Regression (fixed): simple-git ignores a non-zero exit with an empty stderr, so a hook
  // that refused silently looked like a commit, and `latest` moved. Every non-zero exit of
  // git is an error now.
  it('fails the run, and leaves latest, when a silent pre-commit hook refuses the commit', async () => {
    const fixture = await setUp();
    const first = created(await snapshot(fixture, { now: T1 }));
    const hook = join(fixture.backupDir, '.git', 'hooks', 'pre-commit');
    await writeFile(hook, '#!/bin/sh\nexit 1\n');
    await chmod(hook, 0o755);
    const head = git(fixture.backupDir, 'rev-parse', 'HEAD').trim();
    await fixture.source.exec("UPDATE secrets SET note = 'changed' WHERE id = 4");
    await fixture.source.exec("UPDATE settings SET v = 'changed' WHERE id = 2");

    const outcome = await snapshot(fixture, { now: T2 }).then(
      (result) =>
        `resolved: git ${result.git}, commit ${String(result.commit?.id)}, user data ${result.userData.outcome}`,
      (error: unknown) => error,
    );
    expect(git(fixture.backupDir, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(await readlink(join(fixture.hostDir, 'latest'))).toBe(first.timestamp);
    expect(outcome).toBeInstanceOf(GitError);
  });

  // Regression (fixed): a refused commit used to leave the new files in the host directory
  // and staged; they are now rolled back and unstaged.
  it('leaves the host directory and the git index as they were when the git commit fails', async () => {
    const fixture = await setUp();
    await snapshot(fixture, { now: T1 });
    const hook = join(fixture.backupDir, '.git', 'hooks', 'pre-commit');
    await writeFile(hook, '#!/bin/sh\necho refused by test hook >&2\nexit 1\n');
    await chmod(hook, 0o755);
    const settingsBefore = await readFile(join(fixture.backupDir, HOST, 'settings.sql'), 'utf8');
    await fixture.source.exec("UPDATE settings SET v = 'changed' WHERE id = 2");
    await expect(snapshot(fixture, { now: T2 })).rejects.toThrow(GitError);
    expect(git(fixture.backupDir, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(fixture.backupDir, HOST, 'settings.sql'), 'utf8')).toBe(
      settingsBefore,
    );
  });

  it('removes the incomplete copy when encryption fails mid-run, and commits nothing', async () => {
    const fixture = await setUp();
    const first = created(await snapshot(fixture, { now: T1 }));
    const head = git(fixture.backupDir, 'rev-parse', 'HEAD').trim();
    const settingsBefore = await readFile(join(fixture.backupDir, HOST, 'settings.sql'), 'utf8');
    await fixture.source.exec("UPDATE secrets SET note = 'changed' WHERE id = 4");
    await fixture.source.exec("UPDATE settings SET v = 'changed' WHERE id = 2");
    // A recipient the encrypter refuses (bad checksum): the worker fails after the copy began.
    const recipient = fixture.key.recipient;
    const typo = `${recipient.slice(0, -1)}${recipient.endsWith('q') ? 'p' : 'q'}`;
    const logger = createMemoryLogger();
    const error = await snapshot(fixture, { now: T2, recipients: [typo], logger }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CryptoError);

    expect(await entriesOf(fixture.hostDir)).toEqual([first.timestamp, 'latest']);
    expect(await readlink(join(fixture.hostDir, 'latest'))).toBe(first.timestamp);
    expect(git(fixture.backupDir, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(git(fixture.backupDir, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(fixture.backupDir, HOST, 'settings.sql'), 'utf8')).toBe(
      settingsBefore,
    );
    expect(await readdir(join(fixture.backupDir, '.schema_backup'))).not.toContainEqual(
      expect.stringMatching(/^staging-/),
    );
    const needles = formsOf(fixture.marker);
    expect(
      occurrences(
        new Map([['error', Buffer.from(`${String(error)} ${JSON.stringify(error)}`)]]),
        needles,
      ),
    ).toEqual([]);
    expect(
      occurrences(new Map([['log', Buffer.from(JSON.stringify(logger.lines))]]), needles),
    ).toEqual([]);
  });

  it('refuses to start a copy without recipients (CryptoError), creating nothing', async () => {
    const root = await createTempDir('ud-none');
    const error = await UserDataCopy.begin({
      root,
      host: HOST,
      recipients: [],
      fingerprintKey: randomBytes(32),
      now: T1,
      database: 'x',
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).hint).toMatch(/keygen/);
    expect(await readdir(root)).toEqual([]);
  });

  it('fails a snapshot whose user data has no recipients, before writing anything', async () => {
    const fixture = await setUp();
    await expect(snapshot(fixture, { now: T1, recipients: [] })).rejects.toThrow(CryptoError);
    expect(await readdir(fixture.userDataDir)).toEqual([]);
    expect(await readdir(fixture.backupDir)).not.toContain(HOST);
  });
});
