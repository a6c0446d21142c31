/**
 * Off-site copies (#18 part 3) with the real rclone: a local-path remote, and an SFTP remote
 * served by a real sshd on 127.0.0.1. A snapshot uploads its user-data copy; a failed upload
 * fails the run (exit 1, state, metrics, status) and keeps the local result; retention runs
 * on the remote; restore, decrypt and load take a copy back; plaintext dumps are refused
 * unless allowed; the SFTP key's passphrase shows nowhere.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ageKeygen, type AgeKey } from '../helpers/age.js';
import { writeTestConfig } from '../helpers/config-lines.js';
import { createTestDatabase, testServer, type TestDatabase } from '../helpers/database.js';
import {
  localRemote,
  startSftpServer,
  type SftpServer,
  type TestRemote,
} from '../helpers/offsite-remotes.js';
import { serverQuery } from '../helpers/restore.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'offsite.example.org';

interface Fixture {
  readonly database: TestDatabase;
  readonly dir: string;
  readonly key: AgeKey;
  readonly marker: string;
  readonly remote: TestRemote;
  /** Writes the config with `offsite:` lines (default: the test's remote); returns its path. */
  config(offsite?: readonly string[], extra?: readonly string[]): Promise<string>;
}

async function setUp(remote: TestRemote): Promise<Fixture> {
  const database = await createTestDatabase('offsite');
  const marker = `MARKER-${randomBytes(6).toString('hex')}`;
  await database.exec('CREATE TABLE settings (k VARCHAR(10) PRIMARY KEY, v TEXT)');
  await database.exec("INSERT INTO settings VALUES ('a', 'one')");
  await database.exec('CREATE TABLE secrets (id INT PRIMARY KEY, secret VARCHAR(100))');
  await database.exec('INSERT INTO secrets VALUES (1, ?)', [marker]);
  const dir = await createTempDir('offsite-e2e');
  const key = ageKeygen(dir, 'key.txt');
  const config = (
    offsite: readonly string[] = [
      `  remote: ${JSON.stringify(remote.remote)}`,
      `  rclone_config: ${remote.configFile}`,
    ],
    extra: readonly string[] = [],
  ): Promise<string> =>
    writeTestConfig(dir, HOST, database.name, [
      'user_data_backup_dir: userdata',
      'encryption:',
      `  recipients: [${key.recipient}]`,
      '  identity_file: key.txt',
      'global: [settings]',
      'local: [secrets]',
      'logging: { file: runs.jsonl, level: debug }',
      'metrics: { textfile: node.prom }',
      'offsite:',
      ...offsite,
      ...extra,
    ]);
  await config();
  return { database, dir, key, marker, remote, config };
}

function cli(fixture: Fixture, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--config', join(fixture.dir, 'schema_backup.conf')], {
    SCHEMA_BACKUP_DB_PASSWORD: testServer().password,
  });
}

/** Files under `dir`, recursively, relative; empty when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
      .sort();
  } catch {
    return [];
  }
}

async function latestCopy(fixture: Fixture): Promise<string> {
  return readlink(join(fixture.dir, 'userdata', HOST, 'latest'));
}

interface StateFile {
  commands: Record<string, { lastRun: { summary: Record<string, unknown> } }>;
}

async function snapshotSummary(fixture: Fixture): Promise<Record<string, unknown>> {
  const state = JSON.parse(
    await readFile(join(fixture.dir, 'backups/.schema_backup', `${HOST}.state.json`), 'utf8'),
  ) as StateFile;
  return state.commands.snapshot?.lastRun.summary ?? {};
}

describe('off-site copies on a local-path remote', () => {
  it('a snapshot uploads its user-data copy; restore and decrypt take it back; status and metrics show it', async () => {
    const fixture = await setUp(await localRemote());
    const run = await cli(fixture, 'snapshot');
    expect(run.code, run.stderr).toBe(0);
    const copy = await latestCopy(fixture);
    const remoteHost = join(fixture.remote.root, HOST);
    expect(await filesUnder(remoteHost)).toEqual([
      `user-data/${copy}/manifest.json`,
      `user-data/${copy}/secrets.sql.zst.age`,
    ]);
    // Ciphertext only: the marker is in no uploaded byte.
    for (const file of await filesUnder(remoteHost))
      expect(await readFile(join(remoteHost, file), 'utf8')).not.toContain(fixture.marker);
    expect(await snapshotSummary(fixture)).toMatchObject({ offsite: 'uploaded' });
    expect(await readFile(join(fixture.dir, 'node.prom'), 'utf8')).toContain(
      `schema_backup_offsite_failed{host="${HOST}",command="snapshot"} 0`,
    );
    const status = await cli(fixture, 'status');
    expect(status.stdout).toMatch(/off-site: uploaded and checked offsite_local:.*\/user-data\//);

    // The local copy is gone: only the remote one can give the rows back.
    await rm(join(fixture.dir, 'userdata'), { recursive: true });
    const target = await createTestDatabase('offsite_r');
    const restored = await cli(fixture, 'restore', '--target', target.name, '--from-offsite');
    expect(restored.code, restored.stderr).toBe(0);
    expect(await target.query('SELECT * FROM secrets')).toEqual([
      { id: 1, secret: fixture.marker },
    ]);
    const decrypted = await cli(fixture, 'decrypt', '--from-offsite', copy);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(decrypted.stdout).toContain(fixture.marker);
    // The downloads were removed.
    expect(
      (await readdir(tmpdir())).filter((name) => name.startsWith('schema_backup-offsite-')),
    ).toEqual([]);
  });

  it('a failed upload exits 1 and is recorded, the local result stays; the next run uploads it', async () => {
    const fixture = await setUp(await localRemote());
    expect((await cli(fixture, 'snapshot')).code).toBe(0);
    const before = await latestCopy(fixture);
    // The remote's root lies below a file: rclone cannot make it.
    await writeFile(join(fixture.dir, 'a-file'), 'x');
    await fixture.config([
      `  remote: ${JSON.stringify(`offsite_local:${join(fixture.dir, 'a-file', 'remote')}`)}`,
      `  rclone_config: ${fixture.remote.configFile}`,
    ]);
    await fixture.database.exec("INSERT INTO secrets VALUES (2, 'new')");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const failed = await cli(fixture, 'snapshot');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error: the upload to offsite_local:.* failed/m);
    expect(failed.stdout).toMatch(/user data: 1 local tables encrypted into/);
    const after = await latestCopy(fixture);
    expect(after).not.toBe(before);
    expect(await filesUnder(join(fixture.dir, 'userdata', HOST, after))).toEqual([
      'manifest.json',
      'secrets.sql.zst.age',
    ]);
    expect(await snapshotSummary(fixture)).toMatchObject({ offsite: 'failed' });
    expect(await readFile(join(fixture.dir, 'node.prom'), 'utf8')).toContain(
      `schema_backup_offsite_failed{host="${HOST}",command="snapshot"} 1`,
    );
    expect((await cli(fixture, 'status')).stdout).toMatch(/off-site: UPLOAD FAILED: /);

    // Back to the good remote: the unchanged data's latest copy is uploaded.
    await fixture.config();
    const retried = await cli(fixture, 'snapshot');
    expect(retried.code, retried.stderr).toBe(0);
    expect(await filesUnder(join(fixture.remote.root, HOST, 'user-data', after))).toEqual([
      'manifest.json',
      'secrets.sql.zst.age',
    ]);
  });

  it('a copy changed on the remote is refused by restore', async () => {
    const fixture = await setUp(await localRemote());
    expect((await cli(fixture, 'snapshot')).code).toBe(0);
    const copy = await latestCopy(fixture);
    const file = join(fixture.remote.root, HOST, 'user-data', copy, 'secrets.sql.zst.age');
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 1;
    await writeFile(file, bytes);
    const target = await createTestDatabase('offsite_t');
    const restored = await cli(fixture, 'restore', '--target', target.name, '--from-offsite');
    expect(restored.code).toBe(1);
    expect(restored.stderr).toMatch(/secrets/);
    expect(await target.query('SHOW TABLES')).toEqual([]);
  });

  it('retention deletes old copies on the remote, keeping manual ones and the newest', async () => {
    const fixture = await setUp(await localRemote());
    await fixture.config([
      `  remote: ${JSON.stringify(fixture.remote.remote)}`,
      `  rclone_config: ${fixture.remote.configFile}`,
      '  retention: { daily: 1, weekly: 0, monthly: 0, after_upload: false }',
    ]);
    expect((await cli(fixture, 'snapshot')).code).toBe(0);
    const copy = await latestCopy(fixture);
    const remoteCopies = join(fixture.remote.root, HOST, 'user-data');
    for (const old of ['2020-01-01T00-00-00Z', '2020-02-01T00-00-00Z', '2020-03-01T00-00-00Z'])
      await cp(join(remoteCopies, copy), join(remoteCopies, old), { recursive: true });
    await writeFile(join(remoteCopies, '2020-02-01T00-00-00Z.keep'), '');
    const dry = await cli(fixture, 'prune', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/user-data copies on offsite_local:.*: keep 2, would delete 2/);
    expect((await readdir(remoteCopies)).length).toBe(5);

    const pruned = await cli(fixture, 'prune');
    expect(pruned.code, pruned.stderr).toBe(0);
    expect((await readdir(remoteCopies)).sort()).toEqual(
      ['2020-02-01T00-00-00Z', '2020-02-01T00-00-00Z.keep', copy].sort(),
    );

    // After an upload (after_upload, the default) the remote is pruned too.
    await cp(join(remoteCopies, copy), join(remoteCopies, '2020-04-01T00-00-00Z'), {
      recursive: true,
    });
    await fixture.config([
      `  remote: ${JSON.stringify(fixture.remote.remote)}`,
      `  rclone_config: ${fixture.remote.configFile}`,
      '  retention: { daily: 1, weekly: 0, monthly: 0 }',
    ]);
    expect((await cli(fixture, 'snapshot')).code).toBe(0);
    expect(await readdir(remoteCopies)).not.toContain('2020-04-01T00-00-00Z');
    expect(await snapshotSummary(fixture)).toMatchObject({ offsitePruned: 1 });
  });

  it('a plaintext dump is refused unless allowed; an encrypted one is uploaded and loads back', async () => {
    const fixture = await setUp(await localRemote());
    const dumps = join(fixture.remote.root, HOST, 'dumps');
    const refused = await cli(fixture, 'dump', '--no-encrypt');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/offsite\.upload_plaintext_dumps is false/);
    expect(await filesUnder(dumps)).toEqual([]);
    expect((await cli(fixture, 'dump', '--no-encrypt', '--no-offsite')).code).toBe(0);
    expect(await filesUnder(dumps)).toEqual([]);

    const encrypted = await cli(fixture, 'dump');
    expect(encrypted.code, encrypted.stderr).toBe(0);
    const uploaded = await filesUnder(dumps);
    expect(uploaded).toHaveLength(1);
    expect(uploaded[0]).toMatch(new RegExp(`^${HOST}_sbtest_offsite_.*\\.sql\\.(zst|gz)\\.age$`));

    const into = `sbtest_offsite_load_${randomBytes(4).toString('hex')}`;
    onTestFinished(async () => {
      await serverQuery(`DROP DATABASE IF EXISTS \`${into}\``);
    });
    const loaded = await cli(fixture, 'load', '--from-offsite', '--into', into);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(await serverQuery(`SELECT secret FROM \`${into}\`.secrets`)).toEqual([
      { secret: fixture.marker },
    ]);

    // The directory form goes up whole, manifest last; the day's older dump is pruned there.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const directory = await cli(fixture, 'dump', '--dir');
    expect(directory.code, directory.stderr).toBe(0);
    const [dirDump, ...others] = await readdir(dumps);
    expect(others).toEqual([]);
    expect(dirDump).not.toMatch(/\.sql/);
    const dirFiles = await filesUnder(join(dumps, dirDump ?? ''));
    expect(dirFiles).toContain('manifest.json');
    expect(
      dirFiles.filter((name) => name !== 'manifest.json').every((name) => name.endsWith('.age')),
    ).toBe(true);
    const intoDir = `${into}_dir`;
    onTestFinished(async () => {
      await serverQuery(`DROP DATABASE IF EXISTS \`${intoDir}\``);
    });
    const loadedDir = await cli(
      fixture,
      'load',
      '--from-offsite',
      dirDump ?? '',
      '--into',
      intoDir,
    );
    expect(loadedDir.code, loadedDir.stderr).toBe(0);
    expect(await serverQuery(`SELECT secret FROM \`${intoDir}\`.secrets`)).toEqual([
      { secret: fixture.marker },
    ]);

    await fixture.config([
      `  remote: ${JSON.stringify(fixture.remote.remote)}`,
      `  rclone_config: ${fixture.remote.configFile}`,
      '  upload_plaintext_dumps: true',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const allowed = await cli(fixture, 'dump', '--no-encrypt');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect((await filesUnder(dumps)).some((name) => !name.endsWith('.age'))).toBe(true);
  });

  it('config: the remote must be a named rclone remote (exit 2, file:line)', async () => {
    const fixture = await setUp(await localRemote());
    const config = await fixture.config(['  remote: ":sftp,host=x,pass=secret:dir"']);
    const bad = await cli(fixture, 'snapshot');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${config}:`);
    expect(bad.stderr).toMatch(/offsite\.remote: must be a remote named in rclone's config/);
  });
});

describe('off-site copies on an SFTP remote (sshd on 127.0.0.1)', () => {
  let server: SftpServer | undefined;
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'offsite-sshd-'));
    server = await startSftpServer(dir);
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads, restores from the remote, and never shows the key passphrase', async () => {
    if (server === undefined) throw new Error('sshd did not start');
    const fixture = await setUp(server);
    const run = await cli(fixture, 'snapshot', '--verbose');
    expect(run.code, run.stderr).toBe(0);
    const copy = await latestCopy(fixture);
    expect(await filesUnder(join(server.root, HOST))).toEqual([
      `user-data/${copy}/manifest.json`,
      `user-data/${copy}/secrets.sql.zst.age`,
    ]);
    const target = await createTestDatabase('offsite_s');
    const restored = await cli(
      fixture,
      'restore',
      '--target',
      target.name,
      '--from-offsite',
      copy,
      '--verbose',
    );
    expect(restored.code, restored.stderr).toBe(0);
    expect(await target.query('SELECT secret FROM secrets')).toEqual([{ secret: fixture.marker }]);

    // A server that is gone: the run fails, and says so without the credential.
    await server.stop();
    await fixture.database.exec("INSERT INTO secrets VALUES (2, 'new')");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const failed = await cli(fixture, 'snapshot', '--verbose');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/error: the upload to offsite_sftp:.* failed/);

    const seen = [
      run.stdout,
      run.stderr,
      restored.stdout,
      restored.stderr,
      failed.stdout,
      failed.stderr,
      await readFile(join(fixture.dir, 'runs.jsonl'), 'utf8'),
      await readFile(join(fixture.dir, 'node.prom'), 'utf8'),
      await readFile(join(fixture.dir, 'backups/.schema_backup', `${HOST}.state.json`), 'utf8'),
      await readFile(join(fixture.dir, 'schema_backup.conf'), 'utf8'),
    ].join('\n');
    expect(seen).toContain('rclone copy');
    for (const secret of server.secrets) expect(seen).not.toContain(secret);
  });
});
