/**
 * `schema_backup log` and `schema_backup diff` on the command line, over a history made by
 * the CLI's own snapshots (helpers/schema-history.ts: one snapshot commit after each schema
 * or row change, each on a day of its own): what they print, their options, their exit codes,
 * and that `diff --live` writes nothing.
 */
import { readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { git } from '../helpers/git-repo.js';
import { runBuiltCli, runCli } from '../helpers/run-cli.js';
import { buildHistory, HISTORY_CATEGORIES, stepDate } from '../helpers/schema-history.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { databaseConfigLines } from '../helpers/config-lines.js';

const HOST = 'cli.example.org';
const AUTHOR = 'schema_backup';

interface CliHistory {
  readonly database: TestDatabase;
  readonly dir: string;
  readonly backupDir: string;
  readonly hostDir: string;
  readonly config: string;
  /** Commit ids, step by step (helpers/schema-history.ts). */
  readonly commits: readonly string[];
}

async function writeConfig(dir: string, database: string): Promise<string> {
  const file = join(dir, 'schema_backup.conf');
  await writeFile(
    file,
    [
      'csv2_backup_dir: backups',
      `hostname: ${HOST}`,
      ...databaseConfigLines(database),
      'git:',
      '  init: true',
      `global: [${HISTORY_CATEGORIES.global.join(', ')}]`,
      `ephemeral: [${HISTORY_CATEGORIES.ephemeral.join(', ')}]`,
      '',
    ].join('\n'),
  );
  return file;
}

async function snapshot(config: string): Promise<void> {
  const result = await runCli(['snapshot', '--config', config, '--quiet']);
  // Tables of the config that a step has not created yet (or has dropped) are only warned about.
  const unexpected = result.stderr
    .split('\n')
    .filter(
      (line) =>
        line !== '' &&
        !/^warning: table \w+ \(ephemeral\) is in the config but not in database /.test(line),
    );
  expect(unexpected).toEqual([]);
  expect(result.code).toBe(0);
}

/** The whole history, every snapshot taken by the CLI. */
async function cliHistory(): Promise<CliHistory> {
  const database = await createTestDatabase('difflog');
  const dir = await createTempDir('difflog');
  const config = await writeConfig(dir, database.name);
  const backupDir = join(dir, 'backups');
  const commits = await buildHistory(database, async () => {
    await snapshot(config);
    return git(backupDir, 'rev-parse', 'HEAD').trim();
  });
  expect(git(backupDir, 'rev-list', '--count', 'HEAD').trim()).toBe(String(commits.length));
  return { database, dir, backupDir, hostDir: join(backupDir, HOST), config, commits };
}

/** `log` text of step `step`: the commit line, then one line per change. */
function logBlock(commits: readonly string[], step: number, subject: string, changes: string[]) {
  const date = stepDate(step).replace('T', ' ').replace('Z', '');
  return [
    `${(commits[step] ?? '').slice(0, 12)} ${date} ${AUTHOR}: snapshot ${HOST}: ${subject}`,
    ...changes.map((change) => `  ${change}`),
  ];
}

/** The log of the whole history, step by step (oldest first). */
function expectedLog(commits: readonly string[]): string[][] {
  return [
    logBlock(commits, 0, '3 tables added', [
      'table orders: added',
      'table settings: added',
      'table users: added',
    ]),
    logBlock(commits, 1, '1 structure changed', ['table users: structure changed']),
    logBlock(commits, 2, '1 structure changed', ['table users: structure changed']),
    logBlock(commits, 3, '1 structure changed', ['table users: structure changed']),
    logBlock(commits, 4, '1 structure changed', ['table users: structure changed']),
    logBlock(commits, 5, '1 table added', ['table audit: added']),
    logBlock(commits, 6, '1 table removed', ['table orders: removed']),
    logBlock(commits, 7, 'rows +0 -0 ~1 in 1 table', ['table settings: rows +0 -0 ~1']),
    logBlock(commits, 8, 'rows +1 -0 ~0 in 1 table', ['table settings: rows +1 -0 ~0']),
    logBlock(commits, 9, 'rows +0 -1 ~0 in 1 table', ['table settings: rows +0 -1 ~0']),
    logBlock(commits, 10, '1 structure changed', ['table users: structure changed']),
    logBlock(commits, 11, '2 other objects changed', [
      'trigger trg_audit: added',
      'view v_users: added',
    ]),
  ];
}

const text = (blocks: string[][], steps: number[]): string =>
  `${steps.flatMap((step) => blocks[step] ?? []).join('\n')}\n`;

/** The summary part of diff's output: from the `A -> B` line to the first empty line. */
function summaryOf(stdout: string): string[] {
  const lines = stdout.split('\n');
  const end = lines.indexOf('');
  return lines.slice(0, end === -1 ? lines.length : end);
}

/** The whole first-to-last summary. */
const ALL_CHANGES = [
  '  table audit: added',
  '  table orders: removed',
  '  table settings: rows +1 -1 ~1',
  '  table users: structure changed',
  '    column nickname added: varchar(30) DEFAULT NULL',
  '    column email added: varchar(100) DEFAULT NULL',
  '    column age removed (was int(11) DEFAULT NULL)',
  '    column old_name removed (was varchar(30) DEFAULT NULL)',
  "    column name changed (type, nullability, default): varchar(20) NOT NULL -> varchar(40) DEFAULT 'anon'",
  '    index idx_email added: KEY `idx_email` (`email`)',
  '    hint: old_name -> nickname may be a rename (same type)',
  '  trigger trg_audit: added',
  '  view v_users: added',
];

describe('schema_backup log', () => {
  it('lists every snapshot newest first with what changed; --table, -n, --since and --json', async () => {
    const history = await cliHistory();
    const { config, commits } = history;
    const blocks = expectedLog(commits);
    const newestFirst = [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];

    const all = await runCli(['log', '--config', config]);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(all.stdout).toBe(text(blocks, newestFirst));

    // The history of one table: only its commits, only its line in each.
    const users = await runCli(['log', '--table', 'users', '--config', config]);
    expect(users.code).toBe(0);
    expect(users.stdout).toBe(
      `${[
        ...logBlock(commits, 10, '1 structure changed', ['table users: structure changed']),
        ...logBlock(commits, 4, '1 structure changed', ['table users: structure changed']),
        ...logBlock(commits, 3, '1 structure changed', ['table users: structure changed']),
        ...logBlock(commits, 2, '1 structure changed', ['table users: structure changed']),
        ...logBlock(commits, 1, '1 structure changed', ['table users: structure changed']),
        ...logBlock(commits, 0, '3 tables added', ['table users: added']),
      ].join('\n')}\n`,
    );
    const settings = await runCli(['log', '-t', 'settings', '--config', config]);
    expect(settings.stdout).toBe(
      `${[
        ...blocks[9]!,
        ...blocks[8]!,
        ...blocks[7]!,
        ...logBlock(commits, 0, '3 tables added', ['table settings: added']),
      ].join('\n')}\n`,
    );

    // -n / --max-count: the newest n.
    expect((await runCli(['log', '-n', '2', '--config', config])).stdout).toBe(
      text(blocks, [11, 10]),
    );
    expect((await runCli(['log', '--max-count', '1', '--config', config])).stdout).toBe(
      text(blocks, [11]),
    );
    expect((await runCli(['log', '-t', 'users', '-n', '1', '--config', config])).stdout).toBe(
      text(blocks, [10]),
    );

    // --since: step 7 is dated 2026-01-08 00:00, steps 8..11 the days after.
    expect(
      (await runCli(['log', '--since', '2026-01-08T12:00:00Z', '--config', config])).stdout,
    ).toBe(text(blocks, [11, 10, 9, 8]));
    expect(
      (await runCli(['log', '--since', '2026-01-06 12:00 +0000', '--config', config])).stdout,
    ).toBe(text(blocks, [11, 10, 9, 8, 7, 6]));
    expect(
      (
        await runCli([
          'log',
          '--since',
          '2026-01-08T12:00:00Z',
          '-t',
          'settings',
          '--config',
          config,
        ])
      ).stdout,
    ).toBe(text(blocks, [9, 8]));
    const future = await runCli(['log', '--since', '2027-01-01', '--config', config]);
    expect(future.code).toBe(0);
    expect(future.stdout).toBe(`no snapshots of ${HOST} in ${history.backupDir}\n`);

    // --json: ids, dates, authors, subjects, changes.
    const json = await runCli(['log', '--json', '--config', config]);
    expect(json.code).toBe(0);
    const entries = JSON.parse(json.stdout) as {
      id: string;
      date: string;
      author: string;
      subject: string;
      changes: {
        kind: string;
        name: string;
        change: string;
        structureChanged: boolean;
        rowsAdded: number;
        rowsRemoved: number;
        rowsChanged: number;
      }[];
    }[];
    expect(entries.map((entry) => entry.id)).toEqual([...commits].reverse());
    expect(entries.map((entry) => entry.date)).toEqual(
      newestFirst.map((step) => stepDate(step).replace('Z', '+00:00')),
    );
    expect(new Set(entries.map((entry) => entry.author))).toEqual(new Set([AUTHOR]));
    expect(entries.map((entry) => entry.subject)).toEqual(
      newestFirst.map((step) =>
        git(history.backupDir, 'log', '-1', '--format=%s', commits[step]!).trim(),
      ),
    );
    expect(entries[0]?.changes).toEqual([
      {
        kind: 'trigger',
        name: 'trg_audit',
        change: 'added',
        structureChanged: true,
        rowsAdded: 0,
        rowsRemoved: 0,
        rowsChanged: 0,
      },
      {
        kind: 'view',
        name: 'v_users',
        change: 'added',
        structureChanged: true,
        rowsAdded: 0,
        rowsRemoved: 0,
        rowsChanged: 0,
      },
    ]);
    expect(entries[4]?.changes).toEqual([
      {
        kind: 'table',
        name: 'settings',
        change: 'changed',
        structureChanged: false,
        rowsAdded: 0,
        rowsRemoved: 0,
        rowsChanged: 1,
      },
    ]);
    expect(
      entries.at(-1)?.changes.map((change) => [change.name, change.change, change.rowsAdded]),
    ).toEqual([
      ['orders', 'added', 0],
      ['settings', 'added', 3],
      ['users', 'added', 0],
    ]);
    const jsonTable = JSON.parse(
      (await runCli(['log', '--json', '-t', 'settings', '-n', '2', '--config', config])).stdout,
    ) as { id: string }[];
    expect(jsonTable.map((entry) => entry.id)).toEqual([commits[9], commits[8]]);
  });
});

describe('schema_backup diff between revisions', () => {
  it('summarizes by table and column, then the unified diff; --stat, --json and --table', async () => {
    const history = await cliHistory();
    const { config, commits } = history;
    const [first, last] = [commits[0]!, commits[11]!];

    const full = await runCli(['diff', first, last, '--config', config]);
    expect(full.stderr).toBe('');
    expect(full.code).toBe(0);
    expect(summaryOf(full.stdout)).toEqual([`${HOST}@${first} -> ${HOST}@${last}`, ...ALL_CHANGES]);
    const patchLines = full.stdout.split('\n');
    for (const line of [
      `--- a/settings.sql\t${HOST}@${first}`,
      `+++ b/settings.sql\t${HOST}@${last}`,
      "-INSERT INTO `settings` (`k`,`v`) VALUES ('a','one');",
      "-INSERT INTO `settings` (`k`,`v`) VALUES ('b','two');",
      "+INSERT INTO `settings` (`k`,`v`) VALUES ('a','ONE');",
      "+INSERT INTO `settings` (`k`,`v`) VALUES ('d','four');",
      " INSERT INTO `settings` (`k`,`v`) VALUES ('c','three');",
      '-  `age` int(11) DEFAULT NULL,',
      '+  `email` varchar(100) DEFAULT NULL,',
      '+  KEY `idx_email` (`email`)',
      `+++ b/v_users.view.sql\t${HOST}@${last}`,
      `--- a/orders.sql\t${HOST}@${first}`,
      `+++ /dev/null\t${HOST}@${last}`,
    ])
      expect(patchLines).toContain(line);
    expect(full.stdout).not.toContain('manifest.json');
    expect(full.stdout).not.toContain('\x1b[');

    // Relative revisions name the same commits.
    const relative = await runCli(['diff', 'HEAD~11', 'HEAD', '--stat', '--config', config]);
    expect(relative.stdout).toBe(
      `${[`${HOST}@HEAD~11 -> ${HOST}@HEAD`, ...ALL_CHANGES].join('\n')}\n`,
    );

    // --stat: the summary only, no patch.
    const stat = await runCli(['diff', first, last, '--stat', '--config', config]);
    expect(stat.code).toBe(0);
    expect(stat.stdout).toBe(`${summaryOf(full.stdout).join('\n')}\n`);
    expect(stat.stdout).not.toMatch(/^(@@|\+\+\+|---)/m);

    // One step at a time.
    const step = async (from: number, to: number): Promise<string> =>
      (await runCli(['diff', commits[from]!, commits[to]!, '--stat', '--config', config])).stdout
        .split('\n')
        .slice(1)
        .join('\n');
    expect(await step(2, 3)).toBe(
      "  table users: structure changed\n    column name changed (type, nullability, default): varchar(20) NOT NULL -> varchar(40) DEFAULT 'anon'\n",
    );
    expect(await step(3, 4)).toBe(
      '  table users: structure changed\n    index idx_email added: KEY `idx_email` (`email`)\n',
    );
    expect(await step(6, 7)).toBe('  table settings: rows +0 -0 ~1\n');
    expect(await step(7, 9)).toBe('  table settings: rows +1 -1 ~0\n');
    expect(await step(9, 10)).toBe(
      '  table users: structure changed\n    column nickname added: varchar(30) DEFAULT NULL\n    column old_name removed (was varchar(30) DEFAULT NULL)\n    hint: old_name -> nickname may be a rename (same type)\n',
    );
    expect(await step(4, 6)).toBe('  table audit: added\n  table orders: removed\n');
    expect(await step(11, 11)).toBe('  no differences\n');
    // Backwards: added becomes removed.
    expect(await step(6, 4)).toBe('  table audit: removed\n  table orders: added\n');

    // --json: the result, without the patches.
    const json = await runCli(['diff', first, last, '--json', '--config', config]);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as {
      from: string;
      to: string;
      tables: {
        name: string;
        change: string;
        rows?: { added: number; removed: number; changed: number };
        structure?: {
          columnsAdded: { name: string }[];
          columnsRemoved: { name: string }[];
          columnsChanged: { name: string; aspects: string[] }[];
          indexes: { name: string; from?: string; to?: string }[];
          renameHints: { from: string; to: string }[];
        };
      }[];
      objects: { kind: string; name: string; change: string }[];
      patches?: unknown;
    };
    expect(result.from).toBe(`${HOST}@${first}`);
    expect(result.to).toBe(`${HOST}@${last}`);
    expect(result.patches).toBeUndefined();
    expect(result.tables.map((table) => [table.name, table.change])).toEqual([
      ['audit', 'added'],
      ['orders', 'removed'],
      ['settings', 'changed'],
      ['users', 'changed'],
    ]);
    expect(result.tables[2]?.rows).toEqual({ added: 1, removed: 1, changed: 1 });
    const users = result.tables[3]?.structure;
    expect(users?.columnsAdded.map((column) => column.name)).toEqual(['nickname', 'email']);
    expect(users?.columnsRemoved.map((column) => column.name)).toEqual(['age', 'old_name']);
    expect(users?.columnsChanged).toMatchObject([
      { name: 'name', aspects: ['type', 'nullability', 'default'] },
    ]);
    expect(users?.indexes).toEqual([{ name: 'idx_email', to: 'KEY `idx_email` (`email`)' }]);
    expect(users?.renameHints).toEqual([{ from: 'old_name', to: 'nickname' }]);
    expect(result.objects).toEqual([
      { kind: 'trigger', name: 'trg_audit', change: 'added' },
      { kind: 'view', name: 'v_users', change: 'added' },
    ]);

    // --table: the summary and the patch of the selected tables only.
    const onlySettings = await runCli([
      'diff',
      first,
      last,
      '--table',
      'settings',
      '--config',
      config,
    ]);
    expect(summaryOf(onlySettings.stdout)).toEqual([
      `${HOST}@${first} -> ${HOST}@${last}`,
      '  table settings: rows +1 -1 ~1',
    ]);
    expect(onlySettings.stdout).toContain('+++ b/settings.sql');
    expect(onlySettings.stdout).not.toContain('users.sql');
    const patterns = await runCli([
      'diff',
      first,
      last,
      '--stat',
      '--table',
      'a*',
      '--table',
      'o*',
      '--config',
      config,
    ]);
    expect(patterns.stdout.split('\n').slice(1)).toEqual([
      '  table audit: added',
      '  table orders: removed',
      '',
    ]);

    // Usage errors and an unknown revision.
    const three = await runCli(['diff', 'HEAD~2', 'HEAD~1', 'HEAD', '--config', config]);
    expect(three.code).toBe(2);
    expect(three.stderr).toContain('diff takes at most two revisions');
    const unknown = await runCli(['diff', 'no-such-revision', '--config', config]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error: no commit no-such-revision');
  });

  it('colours the diff on a terminal only, and never with NO_COLOR', async () => {
    const history = await cliHistory();
    const { config, commits } = history;
    const args = ['diff', commits[6]!, commits[7]!, '--config', config];

    // A real process with stdout a pipe: no escape codes at all.
    const piped = runBuiltCli(args);
    expect(piped.stderr).toBe('');
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain("+INSERT INTO `settings` (`k`,`v`) VALUES ('a','ONE');");
    expect(piped.stdout).not.toContain('\x1b');

    // In process, with stdout claiming to be a terminal.
    const descriptor = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', {
      value: true,
      configurable: true,
      writable: true,
    });
    try {
      const tty = await runCli(args, { NO_COLOR: undefined });
      expect(tty.stdout).toContain(
        "\x1b[32m+INSERT INTO `settings` (`k`,`v`) VALUES ('a','ONE');\x1b[0m",
      );
      expect(tty.stdout).toContain(
        "\x1b[31m-INSERT INTO `settings` (`k`,`v`) VALUES ('a','one');\x1b[0m",
      );
      const noColor = await runCli(args, { NO_COLOR: '1' });
      expect(noColor.stdout).not.toContain('\x1b');
      expect(noColor.stdout).toBe(piped.stdout);
    } finally {
      if (descriptor === undefined) Reflect.deleteProperty(process.stdout, 'isTTY');
      else Object.defineProperty(process.stdout, 'isTTY', descriptor);
    }
  });

  it('compares HEAD with the working tree by default, and one revision with the working tree', async () => {
    const history = await cliHistory();
    const { config, hostDir, backupDir } = history;
    const clean = await runCli(['diff', '--config', config]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe(`${HOST}@HEAD -> ${HOST} (working tree)\n  no differences\n`);

    // Edit the work tree: a row changed and one added in settings.sql, audit.sql deleted.
    const settingsFile = join(hostDir, 'settings.sql');
    const original = await readFile(settingsFile, 'utf8');
    await writeFile(
      settingsFile,
      `${original.replace("('c','three')", "('c','trois')")}INSERT INTO \`settings\` (\`k\`,\`v\`) VALUES ('e','five');\n`,
    );
    await unlink(join(hostDir, 'audit.sql'));
    await writeFile(join(hostDir, 'notes.txt'), 'not a snapshot file\n');
    const edited = await runCli(['diff', '--config', config]);
    expect(edited.code).toBe(0);
    expect(summaryOf(edited.stdout)).toEqual([
      `${HOST}@HEAD -> ${HOST} (working tree)`,
      '  table audit: removed',
      '  table settings: rows +1 -0 ~1',
    ]);
    expect(edited.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        "-INSERT INTO `settings` (`k`,`v`) VALUES ('c','three');",
        "+INSERT INTO `settings` (`k`,`v`) VALUES ('c','trois');",
        "+INSERT INTO `settings` (`k`,`v`) VALUES ('e','five');",
        `--- a/audit.sql\t${HOST}@HEAD`,
      ]),
    );
    expect(edited.stdout).not.toContain('notes.txt');

    // One revision: that revision against the working tree.
    const one = await runCli(['diff', 'HEAD~5', '--stat', '--config', config]);
    expect(one.stdout).toBe(
      `${[
        `${HOST}@HEAD~5 -> ${HOST} (working tree)`,
        '  table audit: removed',
        '  table settings: rows +2 -1 ~2',
        '  table users: structure changed',
        '    column nickname added: varchar(30) DEFAULT NULL',
        '    column old_name removed (was varchar(30) DEFAULT NULL)',
        '    hint: old_name -> nickname may be a rename (same type)',
        '  trigger trg_audit: added',
        '  view v_users: added',
      ].join('\n')}\n`,
    );

    git(backupDir, 'checkout', '--', '.');
    await rm(join(hostDir, 'notes.txt'));
    expect((await runCli(['diff', '--config', config])).stdout).toBe(clean.stdout);
  });
});

/** Every path under `dir` with size and mtime (`.git/index` left out: `git status` refreshes it). */
async function stamps(dir: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      const name = relative(dir, path);
      if (name === join('backups', '.git', 'index')) continue;
      if (entry.isDirectory()) {
        result.set(`${name}/`, '');
        await walk(path);
      } else {
        const info = await stat(path);
        result.set(name, `${String(info.size)}:${String(info.mtimeMs)}`);
      }
    }
  };
  await walk(dir);
  return result;
}

describe('schema_backup diff --live', () => {
  it('compares the live database with a snapshot of file format 1 in that format: no drift by itself', async () => {
    const database = await createTestDatabase('diffold');
    await database.exec(
      "CREATE TABLE settings (k VARCHAR(10) NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO settings VALUES ('a', 'one')",
    );
    await database.exec('CREATE SEQUENCE s; DO NEXTVAL(s)');
    const dir = await createTempDir('diffold');
    const config = await writeConfig(dir, database.name);
    const backupDir = join(dir, 'backups');
    await snapshot(config);
    // The files as format 1 wrote them: no transaction lines, no sequence state, no
    // database defaults file.
    const hostDir = join(backupDir, HOST);
    git(backupDir, 'rm', '--quiet', `${HOST}/database.defaults.sql`);
    for (const file of ['settings.sql', 's.sequence.sql', 'manifest.json']) {
      const text = await readFile(join(hostDir, file), 'utf8');
      await writeFile(
        join(hostDir, file),
        text
          .split('\n')
          .filter(
            (line) =>
              !['START TRANSACTION;', 'COMMIT;'].includes(line) &&
              !line.startsWith('DO SETVAL(') &&
              !line.startsWith('-- state: '),
          )
          .join('\n')
          .replace('"format": 2', '"format": 1')
          .replace(/\n {4}"database\.defaults\.sql": "[0-9a-f]+",?/, ''),
      );
    }
    git(backupDir, '-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-qam', 'v1');
    const scratch = await createTempDir('diffold-tmp');
    const same = await runCli(['diff', '--live', '--config', config], { TMPDIR: scratch });
    expect(same.stderr).toBe('');
    expect(same.stdout).toBe(
      `${HOST}@HEAD -> ${HOST} (live database ${database.name})\n  no differences\n`,
    );
    expect(same.code).toBe(0);
  });

  it('exits 0 when the live database equals the last commit, 3 after an ALTER or a row change, and writes nothing', async () => {
    const database = await createTestDatabase('difflive');
    await database.exec(
      "CREATE TABLE settings (k VARCHAR(10) NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO settings VALUES ('a', 'one'), ('b', 'two')",
    );
    await database.exec(
      'CREATE TABLE users (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL)',
    );
    const dir = await createTempDir('difflive');
    const config = await writeConfig(dir, database.name);
    const backupDir = join(dir, 'backups');
    await snapshot(config);
    const before = await stamps(dir);
    const head = git(backupDir, 'rev-parse', 'HEAD').trim();
    // The live snapshot's scratch directory goes under TMPDIR: a directory of this test's own.
    const scratch = await createTempDir('difflive-tmp');
    const live = (...args: string[]) =>
      runCli(['diff', '--live', ...args, '--config', config], { TMPDIR: scratch });

    const same = await live();
    expect(same.stderr).toBe('');
    expect(same.code).toBe(0);
    expect(same.stdout).toBe(
      `${HOST}@HEAD -> ${HOST} (live database ${database.name})\n  no differences\n`,
    );

    await database.exec("ALTER TABLE users ADD COLUMN email VARCHAR(100) NOT NULL DEFAULT ''");
    await database.exec("UPDATE settings SET v = 'uno' WHERE k = 'a'");
    await database.exec("INSERT INTO settings VALUES ('c', 'three')");
    const drift = await live();
    expect(drift.stderr).toBe('');
    expect(drift.code).toBe(3);
    const driftSummary = [
      '  table settings: rows +1 -0 ~1',
      '  table users: structure changed',
      "    column email added: varchar(100) NOT NULL DEFAULT ''",
    ];
    expect(summaryOf(drift.stdout)).toEqual([
      `${HOST}@HEAD -> ${HOST} (live database ${database.name})`,
      ...driftSummary,
    ]);
    expect(drift.stdout).toContain("+INSERT INTO `settings` (`k`,`v`) VALUES ('c','three');");
    const stat = await live('--stat');
    expect(stat.code).toBe(3);
    expect(stat.stdout.split('\n').slice(1, -1)).toEqual(driftSummary);
    const json = await live('--json');
    expect(json.code).toBe(3);
    const driftJson = JSON.parse(json.stdout) as { tables: { name: string }[]; different: boolean };
    expect(driftJson.tables.map((table) => table.name)).toEqual(['settings', 'users']);
    expect(driftJson.different).toBe(true);
    // Against an explicit revision.
    expect((await live('HEAD')).code).toBe(3);

    // Nothing written: no file in the backup directory (nor in .git) new or touched, HEAD
    // where it was, git status clean, and the scratch directory gone.
    expect(await stamps(dir)).toEqual(before);
    expect(git(backupDir, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(git(backupDir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(await readdir(scratch)).toEqual([]);

    // The snapshot then commits exactly what --live reported.
    await snapshot(config);
    const committed = await runCli(['diff', 'HEAD~1', 'HEAD', '--stat', '--config', config]);
    expect(committed.stdout.split('\n').slice(1, -1)).toEqual(driftSummary);
    expect((await live()).code).toBe(0);

    // A structure change alone is drift.
    await database.exec('ALTER TABLE users ADD INDEX idx_name (name)');
    const alterOnly = await live('--stat');
    expect(alterOnly.code).toBe(3);
    expect(alterOnly.stdout.split('\n').slice(1, -1)).toEqual([
      '  table users: structure changed',
      '    index idx_name added: KEY `idx_name` (`name`)',
    ]);
    await snapshot(config);
    expect((await live()).code).toBe(0);

    // A row change alone is drift too.
    await database.exec("DELETE FROM settings WHERE k = 'b'");
    const rowOnly = await live('--stat');
    expect(rowOnly.code).toBe(3);
    expect(rowOnly.stdout.split('\n').slice(1, -1)).toEqual(['  table settings: rows +0 -1 ~0']);
    // An object too.
    await database.exec('CREATE VIEW v_settings AS SELECT k FROM settings');
    const withView = await live('--stat');
    expect(withView.code).toBe(3);
    expect(withView.stdout.split('\n').slice(1, -1)).toEqual([
      '  table settings: rows +0 -1 ~0',
      '  view v_settings: added',
    ]);

    // --live takes one revision at most, and no second host.
    const usage = await live('HEAD~1', 'HEAD');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--live compares the live database with one revision');
    expect(git(backupDir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it("exits 3 for a routine whose client character set changed, and for the database's defaults (issue 15)", async () => {
    const database = await createTestDatabase('diffcs');
    await database.exec('CREATE TABLE settings (k VARCHAR(10) NOT NULL PRIMARY KEY)');
    const create =
      "CREATE FUNCTION client_charset() RETURNS VARCHAR(20) DETERMINISTIC RETURN CHARSET('x')";
    await database.exec('SET NAMES latin1');
    await database.exec(create);
    await database.exec('SET NAMES utf8mb4');
    const dir = await createTempDir('diffcs');
    const config = await writeConfig(dir, database.name);
    await snapshot(config);
    const scratch = await createTempDir('diffcs-tmp');
    const live = (...args: string[]) =>
      runCli(['diff', '--live', ...args, '--config', config], { TMPDIR: scratch });
    expect((await live()).code).toBe(0);

    // The same text made again under utf8mb4: it now returns 'utf8mb4', not 'latin1'.
    await database.exec('DROP FUNCTION client_charset');
    await database.exec(create);
    const routine = await live();
    expect(routine.code).toBe(3);
    expect(summaryOf(routine.stdout).slice(1)).toEqual(['  function client_charset: changed']);
    expect(routine.stdout).toContain("-SET character_set_client = 'latin1';");
    expect(routine.stdout).toContain("+SET character_set_client = 'utf8mb4';");
    await snapshot(config);
    expect((await live()).code).toBe(0);

    await database.exec('ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_german1_ci');
    const defaults = await live();
    expect(defaults.code).toBe(3);
    expect(summaryOf(defaults.stdout).slice(1)).toEqual(['  database defaults: changed']);
    expect(defaults.stdout).toContain(
      '+ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_german1_ci;',
    );
    // log names it among what the snapshot changed.
    await snapshot(config);
    const log = await runCli(['log', '-n', '1', '--config', config]);
    expect(log.code).toBe(0);
    expect(log.stdout).toContain('database defaults: structure changed');
    expect(log.stdout).toContain('other object changed');
  });
});
