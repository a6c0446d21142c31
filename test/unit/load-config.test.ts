import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultBackupDir, loadConfig, parseConfig } from '../../src/config/load-config.js';
import { ConfigError, ExitCode } from '../../src/errors.js';
import { planSnapshot } from '../../src/snapshot/plan-snapshot.js';
import { mariadbEngine } from '../../src/engine/mariadb/mariadb-engine.js';
import { inventoryOf } from '../helpers/inventory.js';
import { createTempDir } from '../helpers/temp-dir.js';

const CSV2_CONFIG = '/work/shared/fixtures/csv2/etc/schema_backup.conf';
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FILE = '/srv/app/conf/schema_backup.conf';
const RECIPIENT = 'age1fv2cqer9w9ta2vd7wzszeeg5830t89vwhtj5nyuhr0gjefpt6dys0yqxrv';

/** Runs `action` and returns the ConfigError it throws (fails the test otherwise). */
function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

async function asyncConfigErrorOf(action: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** The 1-based line of the first line of `text` equal to `line` (after trimming). */
function lineNumberOf(text: string, line: string): number {
  const index = text.split('\n').findIndex((candidate) => candidate.trim() === line);
  if (index === -1) throw new Error(`no line ${line}`);
  return index + 1;
}

/** Items (`  - name`) of a block-style top-level list, comment lines included in the block. */
function listItemsOf(text: string, key: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line === `${key}:`);
  const items: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const item = /^\s+- (.+)$/.exec(line);
    if (!item) break;
    items.push((item[1] ?? '').trim());
  }
  return items;
}

describe('the cloudscheduler config (real file)', () => {
  it('is rejected: ec2_regions is in both global and ephemeral, with both lines', async () => {
    const text = await readFile(CSV2_CONFIG, 'utf8');
    const lines = text.split('\n');
    // The file really has ec2_regions twice, on these lines.
    const occurrences = lines.flatMap((line, index) =>
      line.trim() === '- ec2_regions' ? [index + 1] : [],
    );
    expect(occurrences).toEqual([39, 82]);
    expect(lineNumberOf(text, 'global:')).toBe(26);
    expect(lineNumberOf(text, 'ephemeral:')).toBe(61);

    const error = await asyncConfigErrorOf(() => loadConfig(CSV2_CONFIG));
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.exitCode).toBe(2);
    expect(error.location.file).toBe(CSV2_CONFIG);
    expect(error.location.line).toBe(82);
    expect(error.location.key).toBe('ephemeral[20]');
    expect(error.message).toContain(CSV2_CONFIG);
    expect(error.message.startsWith(`${CSV2_CONFIG}:82: ephemeral[20]: `)).toBe(true);
    expect(error.message).toContain(
      'ec2_regions is listed in both global (line 39) and ephemeral (line 82)',
    );
    expect(error.hint).toMatch(/one/);
  });

  it('loads once ec2_regions is removed from ephemeral', async () => {
    const dir = await createTempDir('csv2');
    const etc = join(dir, 'etc');
    await mkdir(etc);
    const original = await readFile(CSV2_CONFIG, 'utf8');
    const lines = original.split('\n');
    expect(lines[81]).toBe('  - ec2_regions');
    const fixed = [...lines.slice(0, 81), ...lines.slice(82)].join('\n');
    const file = join(etc, 'schema_backup.conf');
    // Local tables plus user_data_backup_dir now need an age recipient (a public key only).
    await writeFile(file, `${fixed}\nencryption:\n  recipients:\n    - ${RECIPIENT}\n`);

    const { config, warnings } = await loadConfig(file);
    // The original paused its process monitor itself; here that is a pause hook to write.
    expect(warnings.map((warning) => warning.message)).toEqual([
      'pause_interval is set but pause_hooks.before is not: nothing is paused and there is no wait',
    ]);
    expect(config.file).toBe(file);

    // Counts checked against the file itself, independently of the loader.
    const expected = {
      global: listItemsOf(fixed, 'global'),
      local: listItemsOf(fixed, 'local'),
      ephemeral: listItemsOf(fixed, 'ephemeral'),
      ignore: listItemsOf(fixed, 'ignore'),
    };
    expect(expected.global).toHaveLength(17);
    expect(expected.local).toHaveLength(12);
    expect(expected.ephemeral).toHaveLength(22);
    expect(expected.ignore).toHaveLength(11);

    expect(config.categories.global).toEqual(expected.global);
    expect(config.categories.local).toEqual(expected.local);
    expect(config.categories.ephemeral).toEqual(expected.ephemeral);
    expect(config.categories.ignore).toEqual(expected.ignore);
    expect(config.categories.global).toContain('ec2_regions');
    expect(config.categories.ephemeral).not.toContain('ec2_regions');
    // The items after "# Obsolete?" still belong to ignore.
    expect(config.categories.ignore).toEqual([
      'silk_profile',
      'silk_profile_queries',
      'silk_request',
      'silk_response',
      'silk_sqlquery',
      'csv2_job_schedulers',
      'csv2_poll_times',
      'csv2_system_status',
      'csv2_timestamps',
      'archived_condor_jobs',
      'archived_condor_machines',
    ]);
    expect(config.categories.global[0]).toBe('auth_group');
    expect(config.categories.global.at(-1)).toBe('django_session');
    expect(config.categories.local[0]).toBe('auth_user');
    expect(config.categories.ephemeral[0]).toBe('apel_accounting');
    expect(config.categories.ephemeral.at(-1)).toBe('ec2_instance_types');

    expect(config.providers).toEqual(['mariadb']);
    expect(config.consumers).toHaveLength(14);
    expect(config.consumers[0]).toBe('httpd');
    expect(config.consumers).toContain('csv2-main.service');
    expect(config.consumers.at(-1)).toBe('csv2-watch.service');
    expect(config.pauseInterval).toBe(15);
    expect(config.userDataBackupDir).toBe('/var/local/cloudscheduler/schema_backups');
    // csv2_backup_dir: default -> <dir of etc>/../schema_backup
    expect(config.backupDir).toBe(join(dir, 'schema_backup'));
    expect(config.strict).toBe(false);
    expect(config.hostname).toBeUndefined();
    expect(config.git).toEqual({
      commit: true,
      init: false,
      author: undefined,
      push: undefined,
      branch: undefined,
    });
    expect(config.encryption).toEqual({
      recipients: [RECIPIENT],
      recipientsFile: undefined,
      identityFile: undefined,
    });
  });

  it('without an age recipient, the fixed copy is rejected: its local rows could not be encrypted', async () => {
    const lines = (await readFile(CSV2_CONFIG, 'utf8')).split('\n');
    const fixed = [...lines.slice(0, 81), ...lines.slice(82)].join('\n');
    const error = configErrorOf(() =>
      parseConfig(fixed, '/opt/cloudscheduler/etc/schema_backup.conf'),
    );
    expect(error.exitCode).toBe(2);
    expect(error.location.key).toBe('encryption.recipients');
    expect(error.message).toContain(
      '12 local table(s) and user_data_backup_dir are set, but no age recipient',
    );
    // Without user_data_backup_dir, local rows are not saved and no recipient is needed.
    const withoutUserData = fixed.replace(/^user_data_backup_dir: .*$/m, '');
    expect(
      parseConfig(withoutUserData, '/opt/cloudscheduler/etc/schema_backup.conf').config
        .userDataBackupDir,
    ).toBeUndefined();
    // A recipients file is enough.
    const withFile = `${fixed}\nencryption:\n  recipients_file: recipients.txt\n`;
    expect(
      parseConfig(withFile, '/opt/cloudscheduler/etc/schema_backup.conf').config.encryption
        .recipientsFile,
    ).toBe('/opt/cloudscheduler/etc/recipients.txt');
  });
});

describe('the example config of this project', () => {
  it('loads without warnings, marked as the example (which no command runs with)', async () => {
    const file = join(PROJECT_ROOT, 'etc', 'schema_backup.conf');
    const { config, warnings } = await loadConfig(file);
    expect(warnings).toEqual([]);
    expect(config.backupDir).toBe(join(PROJECT_ROOT, 'schema_backup'));
    expect(config.database.name).toBe('schema_backup_demo');
    expect(config.git.init).toBe(true);
    expect(config.example).toBe(true);
  });
});

describe('defaultBackupDir', () => {
  it('puts schema_backup/ beside an etc/ directory', () => {
    expect(defaultBackupDir('/opt/cloudscheduler/etc')).toBe('/opt/cloudscheduler/schema_backup');
  });
  it('puts schema_backup/ inside any other directory', () => {
    expect(defaultBackupDir('/srv/app/conf')).toBe('/srv/app/conf/schema_backup');
    expect(defaultBackupDir('/srv/etcetera')).toBe('/srv/etcetera/schema_backup');
  });
  it('is used when csv2_backup_dir is absent or `default`', () => {
    expect(parseConfig('', '/opt/cs/etc/x.conf').config.backupDir).toBe('/opt/cs/schema_backup');
    expect(parseConfig('csv2_backup_dir: default\n', '/opt/cs/etc/x.conf').config.backupDir).toBe(
      '/opt/cs/schema_backup',
    );
    expect(parseConfig('csv2_backup_dir: default\n', FILE).config.backupDir).toBe(
      '/srv/app/conf/schema_backup',
    );
  });
});

describe('parseConfig: YAML and types', () => {
  it('reports malformed YAML with its line number', () => {
    const text = 'pause_interval: 1\nglobal:\n  - a\n  - [b\nlocal:\n  - c\n';
    const error = configErrorOf(() => parseConfig(text, FILE));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('malformed YAML');
    expect(error.location.file).toBe(FILE);
    expect(error.location.line).toBeGreaterThanOrEqual(4);
    expect(error.location.line).toBeLessThanOrEqual(5);
  });

  it('reports a bad indentation with the line it is on', () => {
    const text = 'global:\n  - a\n  - b\n    c: 1\n';
    const error = configErrorOf(() => parseConfig(text, FILE));
    expect(error.message).toMatch(/malformed YAML/);
    expect(error.location.line).toBe(4);
  });

  it('reports a duplicate key as malformed YAML, with the line', () => {
    const error = configErrorOf(() =>
      parseConfig('strict: true\nglobal: []\nstrict: false\n', FILE),
    );
    expect(error.message).toContain('malformed YAML');
    expect(error.location.line).toBe(3);
  });

  it('rejects a category that is not a list, naming key and line', () => {
    const text = 'pause_interval: 1\n\nglobal: auth_user\n';
    const error = configErrorOf(() => parseConfig(text, FILE));
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file: FILE, line: 3, key: 'global' });
    expect(error.message).toBe(
      `${FILE}:3: global: must be a list (lines starting with "- "), not string "auth_user"`,
    );
  });

  it('rejects a category that is a mapping', () => {
    const error = configErrorOf(() => parseConfig('local:\n  a: 1\n', FILE));
    expect(error.location.key).toBe('local');
    expect(error.location.line).toBe(1);
    expect(error.message).toContain('not a mapping');
  });

  it('rejects a list item that is not a string, naming the item and its line', () => {
    const text = 'global:\n  - a\n  - b\nlocal:\n  - c\n  - {x: 1}\n';
    const error = configErrorOf(() => parseConfig(text, FILE));
    expect(error.location).toEqual({ file: FILE, line: 6, key: 'local[1]' });
    expect(error.message).toContain('list items must be names, not a mapping');
  });

  it('rejects boolean, empty and blank list items', () => {
    expect(configErrorOf(() => parseConfig('ignore:\n  - a\n  - true\n', FILE)).location).toEqual({
      file: FILE,
      line: 3,
      key: 'ignore[1]',
    });
    expect(configErrorOf(() => parseConfig('ephemeral:\n  -\n', FILE)).message).toContain(
      'not nothing',
    );
    expect(configErrorOf(() => parseConfig("global:\n  - '  '\n", FILE)).location.key).toBe(
      'global[0]',
    );
    expect(configErrorOf(() => parseConfig('providers:\n  - [a]\n', FILE)).message).toContain(
      'not a list',
    );
  });

  // Issue 20 item 8c: names were trimmed, so a table whose name starts with a space could
  // never be categorized.
  it('accepts numeric list items as names and keeps names exactly as written', () => {
    const { config } = parseConfig(
      "global:\n  - 2024\n  - ' padded'\nignore: ['  two', \"tab\\there\"]\n",
      FILE,
    );
    expect(config.categories.global).toEqual(['2024', ' padded']);
    expect(config.categories.ignore).toEqual(['  two', 'tab\there']);
    const plan = planSnapshot(
      inventoryOf({ tables: [' padded', 'padded', '  two'] }),
      config.categories,
      mariadbEngine,
    );
    expect(plan.tables.map((table) => [table.name, table.category])).toEqual([
      [' padded', 'global'],
      ['padded', 'uncategorized'],
    ]);
    expect(plan.ignored).toEqual(['  two']);
  });

  it('keeps the arguments of notify.command exactly as written', () => {
    const { config } = parseConfig("notify:\n  command: [logger, ' -t x ']\n", FILE);
    expect(config.notify.command).toEqual(['logger', ' -t x ']);
  });

  it('accepts flow-style lists and an empty category', () => {
    const { config } = parseConfig('global: [a, b]\nlocal: []\nephemeral:\nignore: [c]\n', FILE);
    expect(config.categories).toEqual({
      global: ['a', 'b'],
      local: [],
      ephemeral: [],
      ignore: ['c'],
    });
  });

  it('rejects a document that is not a mapping', () => {
    const error = configErrorOf(() => parseConfig('- a\n- b\n', FILE));
    expect(error.message).toContain('must be a mapping of keys, not a list');
  });

  it('treats an empty file (or comments only) as all defaults', () => {
    for (const text of ['', '\n', '# nothing here\n', '---\n']) {
      const { config, warnings } = parseConfig(text, FILE);
      expect(warnings).toEqual([]);
      expect(config).toEqual({
        file: FILE,
        backupDir: '/srv/app/conf/schema_backup',
        userDataBackupDir: undefined,
        providers: [],
        consumers: [],
        categories: { global: [], local: [], ephemeral: [], ignore: [] },
        categoryLines: new Map(),
        pauseInterval: 0,
        database: {
          passwordFile: undefined,
          defaultsFile: undefined,
          sslCa: undefined,
          sslCert: undefined,
          sslKey: undefined,
        },
        hostname: undefined,
        strict: false,
        encryption: { recipients: [] },
        git: { commit: true, init: false, author: undefined, push: undefined, branch: undefined },
        serviceManager: {
          stop: ['systemctl', 'stop', '{service}'],
          start: ['systemctl', 'start', '{service}'],
          restart: ['systemctl', 'restart', '{service}'],
          status: ['systemctl', 'is-active', '--quiet', '{service}'],
          timeoutSeconds: 120,
          readyTimeoutSeconds: 120,
        },
        pauseHooks: { before: [], after: [] },
        retention: { daily: 30, weekly: 12, monthly: 12, afterRun: false },
        logging: { file: undefined, level: 'info' },
        notify: { command: [], url: undefined, onSuccess: false, timeoutSeconds: 10 },
        metrics: { textfile: undefined },
        status: { maxAgeSeconds: 93_600 },
        stateFile: undefined,
        dump: {
          dir: '/srv/app/conf/dumps',
          compression: undefined,
          encrypt: undefined,
          threads: 2,
          chunkRows: 100_000,
        },
      });
    }
  });

  it('rejects a negative pause_interval and a non-number one', () => {
    expect(configErrorOf(() => parseConfig('pause_interval: -1\n', FILE)).location).toEqual({
      file: FILE,
      line: 1,
      key: 'pause_interval',
    });
    expect(configErrorOf(() => parseConfig('pause_interval: soon\n', FILE)).message).toContain(
      'must be a number',
    );
  });

  it('rejects strict that is not a boolean', () => {
    const error = configErrorOf(() => parseConfig('strict: yes\n', FILE));
    expect(error.location.key).toBe('strict');
    expect(error.message).toContain('must be true or false');
    expect(parseConfig('strict: true\n', FILE).config.strict).toBe(true);
  });

  it('warns (without failing) when a table is listed twice in the same category', () => {
    const { config, warnings } = parseConfig('global:\n  - a\n  - b\n  - a\n', FILE);
    expect(config.categories.global).toEqual(['a', 'b']);
    expect(warnings).toEqual([{ message: 'global: a is listed twice', line: 4 }]);
  });

  it('names every conflict, the error at the first one found', () => {
    const text = 'global:\n  - a\n  - b\nlocal:\n  - b\nignore:\n  - a\n';
    const error = configErrorOf(() => parseConfig(text, FILE));
    expect(error.location).toEqual({ file: FILE, line: 5, key: 'local[0]' });
    expect(error.message).toContain('b is listed in both global (line 3) and local (line 5)');
    expect(error.message).toContain('a is listed in both global (line 2) and ignore (line 7)');
  });
});

describe('parseConfig: unknown keys', () => {
  it('warns about a misspelt top-level key, suggesting the nearest', () => {
    const { config, warnings } = parseConfig('strict: false\nglobl:\n  - a\n', FILE);
    expect(warnings).toEqual([{ message: 'unknown key globl (did you mean global?)', line: 2 }]);
    expect(config.categories.global).toEqual([]);
  });

  it('warns about a misspelt database key with its path', () => {
    const { config, warnings } = parseConfig('database:\n  name: db\n  hots: example.org\n', FILE);
    expect(warnings).toEqual([
      { message: 'unknown key database.hots (did you mean host?)', line: 3 },
    ]);
    expect(config.database.host).toBeUndefined();
    expect(config.database.name).toBe('db');
  });

  it('suggests database for databse', () => {
    const { warnings } = parseConfig('databse:\n  hots: x\n', FILE);
    expect(warnings).toEqual([
      { message: 'unknown key databse (did you mean database?)', line: 1 },
    ]);
  });

  it('warns without a suggestion when nothing is close', () => {
    const { warnings } = parseConfig('colour: blue\n', FILE);
    expect(warnings).toEqual([{ message: 'unknown key colour', line: 1 }]);
  });

  it('warns about unknown keys in git and encryption', () => {
    const { warnings } = parseConfig('git:\n  comit: true\nencryption:\n  recipient: [x]\n', FILE);
    expect(warnings).toHaveLength(2);
    expect(warnings).toContainEqual({
      message: 'unknown key git.comit (did you mean commit?)',
      line: 2,
    });
    expect(warnings).toContainEqual({
      message: 'unknown key encryption.recipient (did you mean recipients?)',
      line: 4,
    });
  });
});

describe('parseConfig: backup directories and paths', () => {
  it('accepts backup_dir as an alias of csv2_backup_dir', () => {
    expect(parseConfig('backup_dir: /var/backups/db\n', FILE).config.backupDir).toBe(
      '/var/backups/db',
    );
    expect(parseConfig('csv2_backup_dir: /var/backups/db\n', FILE).config.backupDir).toBe(
      '/var/backups/db',
    );
    expect(parseConfig('backup_dir: default\n', '/a/etc/c.conf').config.backupDir).toBe(
      '/a/schema_backup',
    );
  });

  it('rejects csv2_backup_dir and backup_dir together', () => {
    const error = configErrorOf(() =>
      parseConfig('csv2_backup_dir: /a\nstrict: false\nbackup_dir: /b\n', FILE),
    );
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file: FILE, line: 3, key: 'backup_dir' });
    expect(error.message).toContain('both csv2_backup_dir and its alias backup_dir are set');
  });

  it("resolves relative paths against the config's directory", () => {
    const text = [
      'backup_dir: ../backups',
      'user_data_backup_dir: user-data',
      'database:',
      '  password_file: secrets/db.password',
      '  defaults_file: ./my.cnf',
      '  ssl_ca: tls/ca.pem',
      '  ssl_cert: tls/cert.pem',
      '  ssl_key: /abs/key.pem',
      'encryption:',
      '  recipients_file: recipients.txt',
      '  identity_file: ../keys/id.txt',
      '',
    ].join('\n');
    const { config } = parseConfig(text, FILE);
    expect(config.backupDir).toBe('/srv/app/backups');
    expect(config.userDataBackupDir).toBe('/srv/app/conf/user-data');
    expect(config.database.passwordFile).toBe('/srv/app/conf/secrets/db.password');
    expect(config.database.defaultsFile).toBe('/srv/app/conf/my.cnf');
    expect(config.database.sslCa).toBe('/srv/app/conf/tls/ca.pem');
    expect(config.database.sslCert).toBe('/srv/app/conf/tls/cert.pem');
    expect(config.database.sslKey).toBe('/abs/key.pem');
    expect(config.encryption.recipientsFile).toBe('/srv/app/conf/recipients.txt');
    expect(config.encryption.identityFile).toBe('/srv/app/keys/id.txt');
  });

  it('expands ~/ and ~ to the home directory, but not ~user', () => {
    const text =
      'backup_dir: ~/backups\ndump:\n  dir: "~"\ndatabase:\n  defaults_file: ~other/x.cnf\n';
    const { config } = parseConfig(text, FILE);
    expect(config.backupDir).toBe(join(homedir(), 'backups'));
    expect(config.dump.dir).toBe(homedir());
    expect(config.database.defaultsFile).toBe('/srv/app/conf/~other/x.cnf');
  });
});

describe('parseConfig: database block', () => {
  it('reads every key', () => {
    const text = [
      'database:',
      '  host: db.example.org',
      '  port: 3307',
      '  socket: /run/x.sock',
      '  user: backup',
      '  name: csv2',
      '  ssl: true',
      '  ssl_verify_server_cert: false',
      '  connect_timeout: 2.5',
      '',
    ].join('\n');
    const { config } = parseConfig(text, FILE);
    expect(config.database).toMatchObject({
      host: 'db.example.org',
      port: 3307,
      socket: '/run/x.sock',
      user: 'backup',
      name: 'csv2',
      ssl: true,
      sslVerifyServerCert: false,
      connectTimeout: 2.5,
    });
  });

  it.each([['0'], ['65536'], ['3306.5'], ['-1'], ['"3306"'], ['high']])(
    'rejects port %s',
    (port) => {
      const error = configErrorOf(() =>
        parseConfig(`database:\n  name: x\n  port: ${port}\n`, FILE),
      );
      expect(error.exitCode).toBe(2);
      expect(error.location).toEqual({ file: FILE, line: 3, key: 'database.port' });
    },
  );

  it('accepts ports 1 and 65535', () => {
    expect(parseConfig('database:\n  port: 1\n', FILE).config.database.port).toBe(1);
    expect(parseConfig('database:\n  port: 65535\n', FILE).config.database.port).toBe(65535);
  });

  it('keeps a numeric database name as a string', () => {
    expect(parseConfig('database:\n  name: 2024\n', FILE).config.database.name).toBe('2024');
  });

  it('rejects a database block that is not a mapping', () => {
    const error = configErrorOf(() => parseConfig('database: csv2\n', FILE));
    expect(error.location).toEqual({ file: FILE, line: 1, key: 'database' });
  });

  it('rejects a list as a string value', () => {
    const error = configErrorOf(() => parseConfig('database:\n  user: [a]\n', FILE));
    expect(error.location.key).toBe('database.user');
    expect(error.message).toContain('must be a string, not a list');
  });
});

describe('parseConfig: git block', () => {
  it('accepts an author of the form "Name <email>"', () => {
    const { config } = parseConfig('git:\n  author: "Backup Bot <bot@example.org>"\n', FILE);
    expect(config.git.author).toBe('Backup Bot <bot@example.org>');
  });

  it.each([
    ['bot@example.org'],
    ['Bot<bot@example.org>'],
    ['Bot <bot@example.org'],
    ['<bot@example.org>'],
    ['Bot <a> <b>'],
  ])('rejects the author %j', (author) => {
    const error = configErrorOf(() =>
      parseConfig(`git:\n  commit: true\n  author: ${JSON.stringify(author)}\n`, FILE),
    );
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file: FILE, line: 3, key: 'git.author' });
    expect(error.message).toContain('must look like "Name <email>"');
  });

  it('maps push: true to origin, false to no push, a name to itself', () => {
    expect(parseConfig('git:\n  push: true\n', FILE).config.git.push).toBe('origin');
    expect(parseConfig('git:\n  push: false\n', FILE).config.git.push).toBeUndefined();
    expect(parseConfig('git:\n  push: backup\n  branch: main\n', FILE).config.git).toMatchObject({
      push: 'backup',
      branch: 'main',
    });
  });

  it('reads push_attempts and push_timeout, refusing nonsense with the key', () => {
    expect(
      parseConfig('git:\n  push: true\n  push_attempts: 30\n  push_timeout: 600\n', FILE).config
        .git,
    ).toMatchObject({ pushAttempts: 30, pushTimeoutSeconds: 600 });
    expect(parseConfig('git:\n  push: true\n', FILE).config.git.pushAttempts).toBeUndefined();
    expect(configErrorOf(() => parseConfig('git:\n  push_attempts: 0\n', FILE)).location).toEqual({
      file: FILE,
      line: 2,
      key: 'git.push_attempts',
    });
    expect(configErrorOf(() => parseConfig('git:\n  push_timeout: -1\n', FILE)).location.key).toBe(
      'git.push_timeout',
    );
  });

  it('reads commit and init', () => {
    expect(parseConfig('git:\n  commit: false\n  init: true\n', FILE).config.git).toMatchObject({
      commit: false,
      init: true,
    });
    expect(configErrorOf(() => parseConfig('git:\n  init: 1\n', FILE)).location.key).toBe(
      'git.init',
    );
  });
});

describe('loadConfig', () => {
  it('reports a missing file as a ConfigError naming it', async () => {
    const dir = await createTempDir('cfg');
    const file = join(dir, 'absent.conf');
    const error = await asyncConfigErrorOf(() => loadConfig(file));
    expect(error.exitCode).toBe(2);
    expect(error.location.file).toBe(file);
    expect(error.message).toContain('cannot read the config');
  });

  it('reports a path that is a directory as a ConfigError', async () => {
    const dir = await createTempDir('cfg');
    const error = await asyncConfigErrorOf(() => loadConfig(dir));
    expect(error.location.file).toBe(dir);
    expect(error.message).toContain('cannot read the config');
  });

  it('reads a file and resolves its paths against its directory', async () => {
    const dir = await createTempDir('cfg');
    const file = join(dir, 'my.conf');
    await writeFile(file, 'backup_dir: out\nglobal: [t]\n');
    const { config } = await loadConfig(file);
    expect(config.backupDir).toBe(join(dir, 'out'));
    expect(config.categories.global).toEqual(['t']);
  });
});

// Issue 20 item 8d: an empty recipients_file failed at run time (exit 1, after the state file
// was written) where `recipients: []` is refused when the config is read.
describe('loadConfig: the recipients file of local tables', () => {
  async function configWith(recipients: string | undefined, local = 'local: [t]\n') {
    const dir = await createTempDir('cfg');
    const file = join(dir, 'schema_backup.conf');
    if (recipients !== undefined) await writeFile(join(dir, 'recipients.txt'), recipients);
    await writeFile(
      file,
      `${local}user_data_backup_dir: ud\nencryption:\n  identity_file: key.txt\n  recipients_file: recipients.txt\n`,
    );
    return { dir, file };
  }

  it('refuses a recipients file with no recipient, naming the line of the key', async () => {
    const { dir, file } = await configWith('# nobody yet\n\n');
    const error = await asyncConfigErrorOf(() => loadConfig(file));
    expect(error.exitCode).toBe(2);
    expect(error.location).toEqual({ file, line: 5, key: 'encryption.recipients_file' });
    expect(error.message).toContain(`${join(dir, 'recipients.txt')} holds no age recipient`);
    expect(error.hint).toMatch(/age1/);
  });

  it('refuses a recipients file that cannot be read', async () => {
    const { file } = await configWith(undefined);
    const error = await asyncConfigErrorOf(() => loadConfig(file));
    expect(error.location.key).toBe('encryption.recipients_file');
    expect(error.message).toMatch(/cannot read the recipients file .*ENOENT/);
  });

  it('refuses a secret key in place of recipients, without printing it', async () => {
    const secret = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';
    const { file } = await configWith(`${secret}\n`);
    const error = await asyncConfigErrorOf(() => loadConfig(file));
    expect(error.location.key).toBe('encryption.recipients_file');
    expect(error.message).toMatch(/:1 is a secret key/);
    expect(error.message).not.toContain(secret);
  });

  it('accepts a file with a recipient, and leaves the file alone without local tables', async () => {
    const good = await configWith(`# ops\n${RECIPIENT}\n`);
    expect((await loadConfig(good.file)).config.encryption.recipientsFile).toBe(
      join(good.dir, 'recipients.txt'),
    );
    const noLocal = await configWith('', 'global: [t]\n');
    expect((await loadConfig(noLocal.file)).config.categories.local).toEqual([]);
  });

  it('does not read the file when inline recipients are given', async () => {
    const dir = await createTempDir('cfg');
    const file = join(dir, 'schema_backup.conf');
    await writeFile(
      file,
      `local: [t]\nuser_data_backup_dir: ud\nencryption:\n  recipients: [${RECIPIENT}]\n  recipients_file: absent.txt\n`,
    );
    expect((await loadConfig(file)).config.encryption.recipients).toEqual([RECIPIENT]);
  });
});

describe('the dump: block', () => {
  it('reads dir (relative to the config), compression, encrypt, threads and chunk_rows', () => {
    const { config, warnings } = parseConfig(
      'dump:\n  dir: ../dumps\n  compression: gzip\n  encrypt: false\n  threads: 4\n  chunk_rows: 50000\n',
      FILE,
    );
    expect(warnings).toEqual([]);
    expect(config.dump).toEqual({
      dir: '/srv/app/dumps',
      compression: 'gzip',
      encrypt: false,
      threads: 4,
      chunkRows: 50_000,
    });
  });

  it('names the file, line and key of a bad value, and warns about unknown keys', () => {
    expect(configErrorOf(() => parseConfig('dump:\n  compression: lz4\n', FILE)).message).toMatch(
      /:2: dump\.compression: must be zstd, gzip or none/,
    );
    expect(configErrorOf(() => parseConfig('dump:\n  threads: 0\n', FILE)).location).toEqual({
      file: FILE,
      line: 2,
      key: 'dump.threads',
    });
    const { warnings } = parseConfig('dump:\n  thread: 3\n', FILE);
    expect(warnings[0]?.message).toMatch(/unknown key dump\.thread \(did you mean threads\?\)/);
  });
});

describe('the offsite: block', () => {
  it('reads remote, rclone_config (relative to the config), timeout; retention defaults to the local one', () => {
    const { config, warnings } = parseConfig(
      'retention: { daily: 7, weekly: 4 }\noffsite:\n  remote: "backup:schema backups/x"\n  rclone_config: rclone.conf\n  timeout: 2h\n  retention: { monthly: 24 }\n',
      FILE,
    );
    expect(warnings).toEqual([]);
    expect(config.offsite).toEqual({
      remote: 'backup:schema backups/x',
      rcloneConfig: '/srv/app/conf/rclone.conf',
      uploadPlaintextDumps: false,
      retention: { daily: 7, weekly: 4, monthly: 24, afterUpload: true },
      timeoutSeconds: 7200,
    });
    expect(parseConfig('global: []\n', FILE).config.offsite).toBeUndefined();
  });

  it('refuses inline remotes and connection strings (credentials would be in our config and argv), with file:line', () => {
    for (const remote of [':sftp,host=x,pass=y:dir', 'backup,pass=y:dir', '/mnt/backups', '-x:y']) {
      const error = configErrorOf(() =>
        parseConfig(`offsite:\n  remote: ${JSON.stringify(remote)}\n`, FILE),
      );
      expect(error.exitCode).toBe(ExitCode.Usage);
      expect(error.location).toEqual({ file: FILE, line: 2, key: 'offsite.remote' });
      expect(error.message).not.toContain('pass=y');
    }
    expect(configErrorOf(() => parseConfig('offsite:\n  timeout: 1h\n', FILE)).message).toMatch(
      /offsite\.remote: is needed/,
    );
    expect(
      configErrorOf(() =>
        parseConfig('offsite:\n  remote: b:x\n  retention: { daily: -1 }\n', FILE),
      ).location,
    ).toEqual({ file: FILE, line: 3, key: 'offsite.retention.daily' });
    const { warnings } = parseConfig('offsite:\n  remote: b:x\n  upload_plaintext: true\n', FILE);
    expect(warnings[0]?.message).toMatch(
      /unknown key offsite\.upload_plaintext \(did you mean upload_plaintext_dumps\?\)/,
    );
  });
});

describe('user_data_compression', () => {
  it('reads zstd, gzip or none; absent is undefined (zstd where available)', () => {
    expect(parseConfig('', FILE).config.userDataCompression).toBeUndefined();
    for (const value of ['zstd', 'gzip', 'none'] as const) {
      const { config, warnings } = parseConfig(`user_data_compression: ${value}\n`, FILE);
      expect(warnings).toEqual([]);
      expect(config.userDataCompression).toBe(value);
    }
  });

  it('names the line and key of a bad value', () => {
    expect(
      configErrorOf(() => parseConfig('database:\n  name: x\nuser_data_compression: xz\n', FILE))
        .message,
    ).toMatch(/:3: user_data_compression: must be zstd, gzip or none, not "xz"/);
  });
});
