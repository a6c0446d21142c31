/**
 * Issue 19, hardening from outside testing: directories inside `.git` or inside each other,
 * host names with control characters, the password variable in children's environments, and
 * a backup directory that is a file. Each is refused with `file:line: key` and exit 2, or
 * (the password) never reaches a child.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, testServer } from '../helpers/database.js';
import { databaseConfigLines } from '../helpers/config-lines.js';
import { createGitRepo } from '../helpers/git-repo.js';
import { runCli } from '../helpers/run-cli.js';
import { SERVICE_MANAGER_SCRIPT, createTestServices } from '../helpers/services.js';
import { createTempDir } from '../helpers/temp-dir.js';

const HOST = 'r19.example.org';

/** The path `sh` finds for `program`, or '' when there is none. */
function programPath(program: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Writes `lines` as the config in `dir` and returns its path. */
async function writeConfig(dir: string, lines: readonly string[]): Promise<string> {
  const file = join(dir, 'schema_backup.conf');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** A config whose first line is `first`, then a host name and a real database. */
async function configWith(dir: string, first: readonly string[]): Promise<string> {
  const database = await createTestDatabase('r19');
  await database.exec('CREATE TABLE settings (k INT PRIMARY KEY)');
  return writeConfig(dir, [...first, `hostname: ${HOST}`, ...databaseConfigLines(database.name)]);
}

/** The run is refused as a config error at `config:line: key`, with one error line. */
function expectConfigError(
  result: { code: number; stderr: string },
  config: string,
  line: number,
  key: string,
): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toContain(`error: ${config}:${String(line)}: ${key}: `);
  expect(result.stderr.match(/^error:/gm)).toHaveLength(1);
}

describe('issue 19: a backup directory inside .git is refused', () => {
  for (const inside of ['.git', '.git/inner']) {
    it(`csv2_backup_dir: <repo>/${inside}`, async () => {
      const repo = await createGitRepo('r19-repo');
      const before = (await readdir(join(repo, '.git'))).sort();
      const config = await configWith(repo, [`csv2_backup_dir: ${join(repo, inside)}`]);
      const result = await runCli(['--config', config]);
      expectConfigError(result, config, 1, 'csv2_backup_dir');
      expect(result.stderr).toContain('.git');
      expect((await readdir(join(repo, '.git'))).sort()).toEqual(before);
    });
  }

  it('also under its alias backup_dir, and for user_data_backup_dir and dump.dir', async () => {
    const repo = await createGitRepo('r19-repo');
    const alias = await configWith(repo, [`backup_dir: ${join(repo, '.git/x')}`]);
    expectConfigError(await runCli(['check', '--config', alias]), alias, 1, 'backup_dir');

    const dir = await createTempDir('r19');
    const userData = await configWith(dir, [
      'csv2_backup_dir: backups',
      `user_data_backup_dir: ${join(repo, '.git', 'user')}`,
    ]);
    expectConfigError(
      await runCli(['check', '--config', userData]),
      userData,
      2,
      'user_data_backup_dir',
    );

    const dump = await configWith(dir, [
      'csv2_backup_dir: backups',
      'dump:',
      `  dir: ${join(repo, '.git/dumps')}`,
    ]);
    expectConfigError(await runCli(['check', '--config', dump]), dump, 3, 'dump.dir');
  });
});

describe('issue 19: user data and dumps stay out of the git directory', () => {
  const cases: readonly { name: string; lines: string[]; line: number; key: string }[] = [
    {
      name: 'user_data_backup_dir equal to csv2_backup_dir',
      lines: ['csv2_backup_dir: backups', 'user_data_backup_dir: ./backups/'],
      line: 2,
      key: 'user_data_backup_dir',
    },
    {
      name: 'user_data_backup_dir inside csv2_backup_dir',
      lines: ['csv2_backup_dir: backups', 'user_data_backup_dir: backups/user_data'],
      line: 2,
      key: 'user_data_backup_dir',
    },
    {
      name: 'user_data_backup_dir inside the host directory',
      lines: ['csv2_backup_dir: backups', `user_data_backup_dir: backups/${HOST}/user`],
      line: 2,
      key: 'user_data_backup_dir',
    },
    {
      name: 'csv2_backup_dir inside user_data_backup_dir',
      lines: ['csv2_backup_dir: user_data/git', 'user_data_backup_dir: user_data'],
      line: 2,
      key: 'user_data_backup_dir',
    },
    {
      name: 'dump.dir inside the host directory',
      lines: ['csv2_backup_dir: backups', 'dump:', `  dir: backups/${HOST}/dumps`],
      line: 3,
      key: 'dump.dir',
    },
  ];
  for (const { name, lines, line, key } of cases) {
    it(name, async () => {
      const dir = await createTempDir('r19');
      const config = await configWith(dir, lines);
      const result = await runCli(['--config', config]);
      expectConfigError(result, config, line, key);
      expect(existsSync(join(dir, 'backups'))).toBe(false);
      expect(existsSync(join(dir, 'user_data'))).toBe(false);
    });
  }

  it('the same directory reached through a symbolic link is refused too', async () => {
    const dir = await createTempDir('r19');
    await mkdir(join(dir, 'backups'));
    execFileSync('ln', ['-s', 'backups', join(dir, 'alias')]);
    const config = await configWith(dir, [
      'csv2_backup_dir: backups',
      'user_data_backup_dir: alias/user',
    ]);
    expectConfigError(
      await runCli(['check', '--config', config]),
      config,
      2,
      'user_data_backup_dir',
    );
  });
});

describe('issue 19: --ephemeral-directory stays apart too', () => {
  it('is refused inside .git, the backup directory or the user-data directory (exit 2)', async () => {
    const repo = await createGitRepo('r19-repo');
    const database = await createTestDatabase('r19');
    await database.exec('CREATE TABLE sessions (id INT PRIMARY KEY)');
    await database.exec('INSERT INTO sessions VALUES (1)');
    const config = await writeConfig(repo, [
      'csv2_backup_dir: backups',
      'user_data_backup_dir: user_data',
      `hostname: ${HOST}`,
      ...databaseConfigLines(database.name),
      'ephemeral: [sessions]',
    ]);
    for (const dir of [
      join(repo, '.git/ephemeral'),
      join(repo, 'backups', HOST),
      join(repo, 'user_data/rows'),
    ]) {
      const result = await runCli(['--config', config, '-e', dir]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`error: --ephemeral-directory ${dir} is inside `);
      expect(existsSync(join(repo, 'backups'))).toBe(false);
      expect(existsSync(dir)).toBe(false);
    }
    const apart = join(repo, 'ephemeral');
    const result = await runCli(['--config', config, '-e', apart]);
    expect(result.code, result.stderr).toBe(0);
    expect(await readdir(apart)).toEqual(['sessions.sql']);
  });
});

describe('issue 19: every host-name problem is a config error with its line', () => {
  for (const [yamlValue, problem] of [
    ['"a\\nb"', 'control character'],
    ['"tab\\there"', 'control character'],
    ['"del\\x7f"', 'control character'],
    ['".."', ''],
    ['"a/b"', ''],
    ['.git', ''],
    ['.schema_backup', ''],
    ['""', ''],
  ] as const) {
    it(`hostname: ${yamlValue}`, async () => {
      const dir = await createTempDir('r19');
      const database = await createTestDatabase('r19');
      const config = await writeConfig(dir, [
        'csv2_backup_dir: backups',
        ...databaseConfigLines(database.name),
        `hostname: ${yamlValue}`,
      ]);
      const result = await runCli(['--config', config]);
      expectConfigError(result, config, 7, 'hostname');
      expect(result.stderr).toContain(problem);
      expect(existsSync(join(dir, 'backups'))).toBe(false);
    });
  }

  it('--host and --against-host are checked the same way (exit 2, before git runs)', async () => {
    const dir = await createTempDir('r19');
    const database = await createTestDatabase('r19');
    const config = await writeConfig(dir, [
      'csv2_backup_dir: backups',
      `hostname: ${HOST}`,
      ...databaseConfigLines(database.name),
    ]);
    for (const argv of [
      ['log', '--backup-host', '..'],
      ['restore', '--backup-host', 'a\nb', '--target', `${database.name}_x`],
      ['diff', '--backup-host', '.git'],
      ['diff', '--against-host', '../x'],
    ]) {
      const result = await runCli([...argv, '--config', config]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(
        /^error: --(against-|backup-)?host ".*" cannot name a host directory/,
      );
      expect(result.stderr).not.toContain('bug');
    }
  });
});

describe('issue 19: the password variable never reaches a child process', () => {
  it('git, zstd, service commands and the notifier run without it', async () => {
    const dir = await createTempDir('r19');
    const bin = join(dir, 'bin');
    await mkdir(bin);
    const record = join(dir, 'children');
    // Each wrapped program notes whether its own environment (as the kernel shows it) holds a
    // password variable, then runs the real program.
    const recorder = join(bin, 'record-env');
    await writeFile(
      recorder,
      [
        '#!/bin/sh',
        'label=$1; shift',
        "if tr '\\0' '\\n' </proc/$$/environ | grep -Eq '^(SCHEMA_BACKUP_DB_PASSWORD|MYSQL_PWD)='",
        'then state=leaked; else state=clean; fi',
        `printf '%s %s %s\\n' "$label" "$state" "$(printf '%s ' "$@" | tr '\\n' ' ')" >>'${record}'`,
        'exec "$@"',
        '',
      ].join('\n'),
    );
    // zstd is a child only where node:zlib has no zstd (before Node 22.15) and it is installed.
    const zstdChild = !('createZstdCompress' in zlib) && programPath('zstd') !== '';
    for (const program of zstdChild ? ['git', 'zstd'] : ['git']) {
      const real = programPath(program);
      await writeFile(
        join(bin, program),
        `#!/bin/sh\nexec '${recorder}' ${program} '${real}' "$@"\n`,
      );
      await chmod(join(bin, program), 0o755);
    }
    await chmod(recorder, 0o755);

    const services = await createTestServices(['web']);
    const template = (action: string): string =>
      `  ${action}: "'${recorder}' service '${SERVICE_MANAGER_SCRIPT}' '${services.dir}' ${action} {service}"`;
    const database = await createTestDatabase('r19');
    await database.exec('CREATE TABLE settings (k INT PRIMARY KEY)');
    await database.exec('INSERT INTO settings VALUES (1), (2)');
    const config = await writeConfig(dir, [
      'csv2_backup_dir: backups',
      `hostname: ${HOST}`,
      ...databaseConfigLines(database.name),
      'git:',
      '  init: true',
      'global: [settings]',
      'consumers: [web]',
      'service_manager:',
      template('stop'),
      template('start'),
      template('restart'),
      template('status'),
      'notify:',
      `  command: ['${recorder}', notify, 'true']`,
      '  on_success: true',
      'dump:',
      `  compression: ${zstdChild ? 'zstd' : 'gzip'}`,
    ]);
    const env = {
      SCHEMA_BACKUP_DB_PASSWORD: testServer().password,
      MYSQL_PWD: testServer().password,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    };
    const runs = [
      ['snapshot', '-m'],
      ['log'],
      ['status'],
      ['diff', '--live'],
      ['dump', '--no-encrypt'],
      ['services', 'status'],
    ];
    for (const argv of runs) {
      const result = await runCli([...argv, '--config', config], env);
      expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(0);
    }

    const children = (await readFile(record, 'utf8')).split('\n').filter((line) => line !== '');
    for (const label of zstdChild
      ? ['git', 'zstd', 'service', 'notify']
      : ['git', 'service', 'notify'])
      expect(children.some((line) => line.startsWith(`${label} `))).toBe(true);
    expect(children.filter((line) => line.split(' ')[1] !== 'clean')).toEqual([]);

    // Taken out of the environment, the variable is still the password used to connect.
    const wrong = await runCli(['check', '--config', config], {
      SCHEMA_BACKUP_DB_PASSWORD: 'wrong-password-r19',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('access denied');
    expect(wrong.stderr).not.toContain('wrong-password-r19');
  });
});

describe('issue 19: a backup directory that is a file', () => {
  for (const [name, value] of [
    ['is the file itself', 'backups'],
    ['is below a file', 'backups/inner'],
  ] as const) {
    it(`${name}: one error, exit 2, before the run starts`, async () => {
      const dir = await createTempDir('r19');
      await writeFile(join(dir, 'backups'), 'not a directory\n');
      const config = await configWith(dir, [`csv2_backup_dir: ${value}`]);
      const result = await runCli(['--config', config]);
      expectConfigError(result, config, 1, 'csv2_backup_dir');
      expect(result.stderr).toContain(`${join(dir, 'backups')} is a file`);
      expect(result.stderr).not.toContain('run state');
      expect(await readFile(join(dir, 'backups'), 'utf8')).toBe('not a directory\n');
    });
  }

  it('a run that fails where the run state lives reports its cause once', async () => {
    const dir = await createTempDir('r19');
    await mkdir(join(dir, 'backups'));
    // The work directory (locks, run state) cannot be made: the snapshot and the run state
    // fail for the same reason, which is said once.
    await writeFile(join(dir, 'backups/.schema_backup'), '');
    const config = await configWith(dir, ['csv2_backup_dir: backups']);
    const result = await runCli(['--config', config]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr.match(/^error:/gm), result.stderr).toHaveLength(1);
    expect(result.stderr).toContain(join(dir, 'backups/.schema_backup'));
    expect(result.stderr).toContain('the run state is not recorded either');
  });
});
