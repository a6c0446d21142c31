/**
 * What restore and verify execute: only the statements a snapshot writes for each file's
 * object. A table name that tries to end its header comment, a statement appended to a table
 * file, a forged or swapped user-data file, and files that no longer match their manifests
 * are refused, and a canary database outside the target survives every attempt.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { RestoreError, UnexpectedStatementError } from '../../../src/errors.js';
import { restoreSnapshot } from '../../../src/restore/restore-snapshot.js';
import { directorySource } from '../../../src/restore/snapshot-source.js';
import { verifySnapshot } from '../../../src/restore/verify-snapshot.js';
import {
  fingerprintKeyPath,
  findCopy,
  readFingerprintKey,
  type UserDataManifest,
} from '../../../src/snapshot/user-data-copy.js';
import { DATABASE_DEFAULTS_FILE } from '../../../src/snapshot/layout.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { silentLogger } from '../../../src/support/logger.js';
import { age, ageDecryptSql, ageKeygen, type AgeKey } from '../../helpers/age.js';
import {
  connectionTo,
  createTestDatabase,
  loadWithStockClient,
  type TestDatabase,
} from '../../helpers/database.js';
import { baseTables, restoreOptionsForTest, userDataInput } from '../../helpers/restore.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';
const EVIL_NAME = 'x\nDROP DATABASE canary;\n-- x';

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** How `restore` of the fixture's snapshot (and user data, if asked) into `target` fails. */
async function restoreFailure(
  fixture: Fixture,
  target: string,
  options: { withUserData?: boolean } = {},
): Promise<unknown> {
  return failureOf(
    restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target,
        source: directorySource(fixture.hostDir),
        userData:
          options.withUserData === true
            ? await userDataInput(fixture.userDataDir, HOST, fixture.key.identityFile)
            : undefined,
      }),
    ),
  );
}

/** How `verify` of the fixture's snapshot (and user data, if asked) fails. */
async function verifyFailure(
  fixture: Fixture,
  options: { withUserData?: boolean } = {},
): Promise<unknown> {
  return failureOf(
    verifySnapshot(mariadbEngine, {
      connection: connectionTo(),
      source: directorySource(fixture.hostDir),
      mode: 'restore',
      liveDatabase: fixture.source.name,
      fallbackCategories: { global: [], local: [], ephemeral: [], ignore: [] },
      userData:
        options.withUserData === true
          ? await userDataInput(fixture.userDataDir, HOST, fixture.key.identityFile)
          : undefined,
      host: HOST,
      parallel: 2,
      logger: silentLogger,
    }),
  );
}

/** A database that must survive: the target of every injected `DROP DATABASE`. */
async function canary(): Promise<TestDatabase & { alive(): Promise<boolean> }> {
  const database = await createTestDatabase('canary');
  await database.exec('CREATE TABLE bird (id INT PRIMARY KEY)');
  return {
    ...database,
    async alive() {
      const rows = await database.query<{ n: number }>(
        'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
        [database.name],
      );
      return Number(rows[0]?.n) === 1;
    },
  };
}

interface Fixture {
  readonly source: TestDatabase;
  readonly backupDir: string;
  readonly hostDir: string;
  readonly userDataDir: string;
  readonly key: AgeKey;
}

/** A global table, two local tables with rows, snapshotted with a user-data copy. */
async function snapshotWithUserData(tables: { global?: string[] } = {}): Promise<Fixture> {
  const source = await createTestDatabase('untrusted');
  await source.exec('CREATE TABLE settings (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)');
  await source.exec("INSERT INTO settings VALUES (1,'a'),(2,'b'),(3,'c')");
  for (const table of ['accounts', 'orders']) {
    await source.exec(`CREATE TABLE ${table} (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)`);
    await source.exec(`INSERT INTO ${table} SELECT seq, CONCAT('${table}-', seq) FROM seq_1_to_5`);
  }
  const backupDir = await createTempDir('untrusted');
  const userDataDir = await createTempDir('untrusted-ud');
  const key = ageKeygen(await createTempDir('untrusted-key'));
  const snapshot = await takeSnapshot(
    mariadbEngine,
    snapshotOptionsForTest({
      database: source.name,
      backupDir,
      host: HOST,
      categories: {
        global: ['settings', ...(tables.global ?? [])],
        local: ['accounts', 'orders'],
      },
      userData: {
        dir: userDataDir,
        recipients: [key.recipient],
        fingerprintKeyFile: fingerprintKeyPath(backupDir, HOST),
      },
    }),
  );
  return { source, backupDir, hostDir: snapshot.hostDir, userDataDir, key };
}

/**
 * Replaces `table`'s file of the latest copy with `plaintext` compressed (as the copy's file
 * is, with the stock zstd; not with `raw`) and encrypted to the configured recipient, as
 * anyone who can write the directory can, and (as they can too) fixes the manifest's sizes
 * to match.
 */
async function forgeUserDataFile(
  fixture: Fixture,
  table: string,
  plaintext: Buffer | string,
  rows?: number,
  options: { raw?: boolean } = {},
): Promise<void> {
  const copy = await findCopy(fixture.userDataDir, HOST, 'latest');
  const entry = copy.manifest.tables[table];
  if (entry === undefined) throw new Error(`no ${table} in the copy`);
  const file = join(copy.dir, entry.file);
  const payload =
    entry.compression === 'zstd' && options.raw !== true
      ? execFileSync('zstd', ['-q', '-c'], { input: plaintext })
      : plaintext;
  await writeFile(`${file}.forged`, age(['-r', fixture.key.recipient], payload));
  await rename(`${file}.forged`, file);
  const manifest: UserDataManifest = {
    ...copy.manifest,
    tables: {
      ...copy.manifest.tables,
      [table]: {
        ...entry,
        bytes: (await stat(file)).size,
        plaintextBytes: Buffer.byteLength(plaintext),
        rows: rows ?? entry.rows,
      },
    },
  };
  await writeFile(join(copy.dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

describe('what restore and verify execute', () => {
  it('a table name that would end its header comment stays inside it: restore, verify and the stock client run no DROP', async () => {
    const bird = await canary();
    const source = await createTestDatabase('evilname');
    const evil = `\`${EVIL_NAME.replace(/`/g, '``').replace('canary', bird.name)}\``;
    await source.exec(`CREATE TABLE ${evil} (id INT PRIMARY KEY, v VARCHAR(8))`);
    await source.exec(`INSERT INTO ${evil} VALUES (1, 'one')`);
    const backupDir = await createTempDir('evilname');
    const name = EVIL_NAME.replace('canary', bird.name);
    const snapshot = await takeSnapshot(
      mariadbEngine,
      snapshotOptionsForTest({ database: source.name, backupDir, categories: { global: [name] } }),
    );
    const [file] = (await directorySource(snapshot.hostDir).listFiles()).filter(
      (f) => f.endsWith('.sql') && f !== DATABASE_DEFAULTS_FILE,
    );
    const text = await readFile(join(snapshot.hostDir, file ?? ''), 'utf8');
    // Every comment line is one line: the name's newlines are escaped there.
    expect(text.split('\n')[0]).toBe(
      `-- schema_backup: table \`x\\x0ADROP DATABASE ${bird.name};\\x0A-- x\`, category global`,
    );
    // The name's newlines stand only inside backquotes, where no client ends a statement.
    expect(text).toContain(`CREATE TABLE \`x\nDROP DATABASE ${bird.name};\n-- x\` (`);

    const target = await createTestDatabase('evilnamedst');
    await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({ target: target.name, source: directorySource(snapshot.hostDir) }),
    );
    expect(await bird.alive()).toBe(true);
    expect(await baseTables(target.name)).toEqual([name]);
    const rows = await target.query<{ v: string }>(`SELECT v FROM ${evil}`);
    expect(rows.map((row) => row.v)).toEqual(['one']);

    const result = await verifySnapshot(mariadbEngine, {
      connection: connectionTo(),
      source: directorySource(snapshot.hostDir),
      mode: 'restore',
      liveDatabase: source.name,
      fallbackCategories: { global: [name], local: [], ephemeral: [], ignore: [] },
      host: HOST,
      parallel: 2,
      logger: silentLogger,
    });
    expect(result.differences).toEqual([]);
    expect(await bird.alive()).toBe(true);

    // The README's stock-client loop: the file loads as it is, and drops nothing.
    const stock = await createTestDatabase('evilnamestock');
    await loadWithStockClient(stock.name, join(snapshot.hostDir, file ?? ''));
    expect(await bird.alive()).toBe(true);
    expect(await baseTables(stock.name)).toEqual([name]);
  });

  it('a statement appended to a table file is refused by restore and verify, and runs with --trust only', async () => {
    const bird = await canary();
    const fixture = await snapshotWithUserData();
    const file = join(fixture.hostDir, 'settings.sql');
    const original = await readFile(file, 'utf8');
    await writeFile(file, `${original}DROP DATABASE \`${bird.name}\`;\n`);

    const target = await createTestDatabase('appenddst');
    const failure = await restoreFailure(fixture, target.name);
    expect(failure).toBeInstanceOf(UnexpectedStatementError);
    const message = (failure as Error).message;
    expect(message).toContain('settings.sql at line');
    expect(message).toContain('`DROP DATABASE`: not a statement a snapshot writes for');
    expect((failure as UnexpectedStatementError).hint).toContain('--trust');
    expect(await bird.alive()).toBe(true);

    const verified = await verifyFailure(fixture);
    expect(verified).toBeInstanceOf(UnexpectedStatementError);
    expect(await bird.alive()).toBe(true);

    // A harmless hand-made addition runs with --trust, and only then.
    await writeFile(file, `${original}CREATE TABLE extra (a INT);\n`);
    const trusted = await createTestDatabase('appendtrust');
    await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: trusted.name,
        source: directorySource(fixture.hostDir),
        trust: true,
      }),
    );
    expect(await baseTables(trusted.name)).toContain('extra');
  });

  it.each([
    [
      'CREATE TABLE … SELECT from another database',
      (t: string) => `CREATE TABLE \`s2\` (id INT) SELECT * FROM mysql.user`.replace('s2', t),
    ],
    ['a CREATE of another table', () => 'CREATE TABLE `other` (id INT)'],
    ['an INSERT into another database', (t: string) => `INSERT INTO mysql.\`${t}\` VALUES (1,'x')`],
    ['an INSERT with a subquery', (t: string) => `INSERT INTO \`${t}\` VALUES ((SELECT 1),'x')`],
    ['a SET GLOBAL', () => 'SET GLOBAL max_connections = 1'],
    ['a client character set that hides quotes', () => 'SET NAMES gbk'],
  ])('refuses %s in a table file', async (_, statement) => {
    const fixture = await snapshotWithUserData();
    const file = join(fixture.hostDir, 'settings.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}${statement('settings')};\n`);
    const target = await createTestDatabase('refusedst');
    const failure = await restoreFailure(fixture, target.name);
    expect(failure).toBeInstanceOf(UnexpectedStatementError);
    expect((failure as Error).message).toContain('refused to run settings.sql at line');
  });

  it('a forged user-data file is refused, by its fingerprint where the key is at hand and by its statements where not', async () => {
    const bird = await canary();
    const fixture = await snapshotWithUserData();
    await forgeUserDataFile(
      fixture,
      'accounts',
      `SET NAMES utf8mb4;\nDROP DATABASE \`${bird.name}\`;\n`,
    );
    const key = await readFingerprintKey(fingerprintKeyPath(fixture.backupDir, HOST));
    expect(key).toBeDefined();

    // On the snapshot host: the keyed fingerprint fails before anything runs.
    const byFingerprint = await failureOf(
      userDataInput(fixture.userDataDir, HOST, fixture.key.identityFile, 'latest', key),
    );
    expect(byFingerprint).toBeInstanceOf(RestoreError);
    expect((byFingerprint as Error).message).toMatch(
      /accounts\.sql\.zst\.age \(user data of accounts\): its rows do not match the fingerprint/,
    );

    // Elsewhere (no fingerprint key): the statement checker refuses the DROP.
    const target = await createTestDatabase('forgeddst');
    const failure = await restoreFailure(fixture, target.name, { withUserData: true });
    expect(failure).toBeInstanceOf(UnexpectedStatementError);
    expect((failure as Error).message).toContain('accounts (user data)');
    expect((failure as Error).message).toContain(
      '`DROP DATABASE`: not a statement a snapshot writes for',
    );
    expect(await bird.alive()).toBe(true);

    const verified = await verifyFailure(fixture, { withUserData: true });
    expect(verified).toBeInstanceOf(UnexpectedStatementError);
    expect(await bird.alive()).toBe(true);
  });

  it("a copy of another table's user-data file is refused: its INSERTs name another table", async () => {
    const fixture = await snapshotWithUserData();
    const copy = await findCopy(fixture.userDataDir, HOST, 'latest');
    const orders = ageDecryptSql(
      fixture.key.identityFile,
      join(copy.dir, copy.manifest.tables.orders?.file ?? ''),
    );
    await forgeUserDataFile(fixture, 'accounts', orders);
    const target = await createTestDatabase('swapdst');
    const failure = await restoreFailure(fixture, target.name, { withUserData: true });
    expect(failure).toBeInstanceOf(UnexpectedStatementError);
    expect((failure as Error).message).toContain('an INSERT into another table');
    expect((failure as Error).message).toContain('the rows of table `accounts`');
    // Nothing of the swapped file went in: orders holds its own five rows once.
    const [count] = await target.query<{ n: number }>('SELECT COUNT(*) AS n FROM orders');
    expect(Number(count?.n)).toBeLessThanOrEqual(5);
  });

  it('a table file with a row line deleted fails the restore by the manifest; --trust restores what is there', async () => {
    const fixture = await snapshotWithUserData();
    const file = join(fixture.hostDir, 'settings.sql');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const last = lines.findLastIndex((line) => line.startsWith('INSERT INTO'));
    lines.splice(last, 1);
    await writeFile(file, lines.join('\n'));

    const target = await createTestDatabase('rowgonedst');
    const failure = await restoreFailure(fixture, target.name);
    expect(failure).toBeInstanceOf(RestoreError);
    expect((failure as Error).message).toBe(
      'settings.sql does not match the snapshot: row count 2, the snapshot recorded 3',
    );
    expect(await baseTables(target.name)).toContain('_schema_backup_restore_incomplete');

    const trusted = await createTestDatabase('rowgonetrust');
    await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: trusted.name,
        source: directorySource(fixture.hostDir),
        trust: true,
      }),
    );
    const [count] = await trusted.query<{ n: number }>('SELECT COUNT(*) AS n FROM settings');
    expect(Number(count?.n)).toBe(2);
  });

  it('a table file removed from the snapshot fails the restore unless the table is left out', async () => {
    const fixture = await snapshotWithUserData();
    await rm(join(fixture.hostDir, 'settings.sql'));
    const target = await createTestDatabase('filegonedst');
    const failure = await restoreFailure(fixture, target.name);
    expect(failure).toBeInstanceOf(RestoreError);
    expect((failure as Error).message).toContain(
      'the manifest lists settings, whose file is missing',
    );
    expect(await baseTables(target.name)).toEqual([]);
    await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: target.name,
        source: directorySource(fixture.hostDir),
        exclude: ['settings'],
      }),
    );
    expect(await baseTables(target.name)).toEqual(['accounts', 'orders']);
  });

  it('a changed value in a table file fails the restore by the checksum the manifest recorded', async () => {
    const fixture = await snapshotWithUserData();
    const file = join(fixture.hostDir, 'settings.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace("(2,'b')", "(2,'B')"));
    const target = await createTestDatabase('rowchangeddst');
    const failure = await restoreFailure(fixture, target.name);
    expect((failure as Error).message).toBe(
      'settings.sql does not match the snapshot: rows differ from the checksum the snapshot recorded',
    );
  });

  it('a user-data copy whose manifest records more rows than its file holds fails the restore', async () => {
    const fixture = await snapshotWithUserData();
    const copy = await findCopy(fixture.userDataDir, HOST, 'latest');
    const plaintext = ageDecryptSql(
      fixture.key.identityFile,
      join(copy.dir, copy.manifest.tables.accounts?.file ?? ''),
    ).toString('utf8');
    // Two of the five rows, the manifest still saying five (sizes fixed to match).
    const kept = plaintext
      .split('\n')
      .filter((line) => !/^INSERT INTO .*VALUES \([345],/.test(line))
      .join('\n');
    await forgeUserDataFile(fixture, 'accounts', kept, 5);
    const target = await createTestDatabase('udrowsdst');
    const failure = await restoreFailure(fixture, target.name, { withUserData: true });
    expect(failure).toBeInstanceOf(RestoreError);
    expect((failure as Error).message).toMatch(
      /accounts\.sql\.zst\.age \(user data of accounts\): 2 rows, the copy's manifest recorded 5$/,
    );
    expect(await baseTables(target.name)).toContain('_schema_backup_restore_incomplete');
  });

  it('a compressed user-data file that does not decompress is refused before anything runs', async () => {
    const bird = await canary();
    const fixture = await snapshotWithUserData();
    // Valid age to the right recipient, sizes fixed, but not zstd: refused by decompression
    // (the fingerprint key is not given, so that check is not what stops it).
    await forgeUserDataFile(fixture, 'accounts', `DROP DATABASE \`${bird.name}\`;\n`, 5, {
      raw: true,
    });
    const failure = await failureOf(
      userDataInput(fixture.userDataDir, HOST, fixture.key.identityFile),
    );
    expect(failure).toBeInstanceOf(RestoreError);
    expect((failure as Error).message).toMatch(
      /accounts\.sql\.zst\.age decrypts but does not decompress \(zstd\)/,
    );
    expect(await bird.alive()).toBe(true);
  });

  it('a user-data file whose size differs from its manifest is refused before anything runs', async () => {
    const fixture = await snapshotWithUserData();
    const copy = await findCopy(fixture.userDataDir, HOST, 'latest');
    const file = join(copy.dir, copy.manifest.tables.orders?.file ?? '');
    await writeFile(file, Buffer.concat([await readFile(file), Buffer.from('x')]));
    const failure = await failureOf(
      userDataInput(fixture.userDataDir, HOST, fixture.key.identityFile),
    );
    expect(failure).toBeInstanceOf(RestoreError);
    expect((failure as Error).message).toMatch(
      /orders\.sql\.zst\.age \(user data of orders\): \d+ bytes, the copy's manifest recorded \d+/,
    );
  });
});
