/**
 * Diff and log over a real history: a database changed step by step (see
 * helpers/schema-history.ts), snapshotted by the real workflow into a real repository after
 * each step; then the history read back (readSnapshotLog) and revisions compared
 * (diffSnapshots over revisionTree and directoryTree), each step's changes checked one by one.
 * Then the CSV2 fixture snapshotted as two hosts, a few tables changed in between, and
 * `schema_backup diff --host a --against-host b`.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summaryLines } from '../../../src/cli/output/diff-summary.js';
import { parseConfig } from '../../../src/config/load-config.js';
import type { Categories } from '../../../src/config/schema.js';
import {
  diffSnapshots,
  directoryTree,
  gitBlobId,
  revisionTree,
  type SnapshotTree,
} from '../../../src/diff/diff-snapshots.js';
import { readSnapshotLog, type LoggedChange } from '../../../src/diff/snapshot-log.js';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { Repository } from '../../../src/git/repository.js';
import { fileNameForObject } from '../../../src/snapshot/layout.js';
import { takeSnapshot, type SnapshotOptions } from '../../../src/snapshot/take-snapshot.js';
import {
  createTestDatabase,
  loadWithStockClient,
  type TestDatabase,
} from '../../helpers/database.js';
import { git } from '../../helpers/git-repo.js';
import { runCli } from '../../helpers/run-cli.js';
import {
  buildHistory,
  HISTORY_CATEGORIES,
  HISTORY_STEPS,
  stepDate,
} from '../../helpers/schema-history.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';
const fileOfTable = (table: string): string => fileNameForObject('table', table);

interface History {
  readonly backupDir: string;
  readonly hostDir: string;
  readonly repository: Repository;
  readonly commits: readonly string[];
  /** The subject of each step's commit, as the snapshot made it. */
  readonly subjects: readonly string[];
  readonly database: TestDatabase;
  readonly options: SnapshotOptions;
}

async function snapshotHistory(): Promise<History> {
  const database = await createTestDatabase('hist');
  const backupDir = await createTempDir('hist');
  const options = snapshotOptionsForTest({
    database: database.name,
    backupDir,
    categories: HISTORY_CATEGORIES,
  });
  const subjects: string[] = [];
  const commits = await buildHistory(database, async (step) => {
    const result = await takeSnapshot(mariadbEngine, options);
    expect(result.git, step.name).toBe('committed');
    subjects.push(result.commit?.message.split('\n')[0] ?? '');
    return result.commit?.id ?? '';
  });
  const repository = await Repository.find(backupDir);
  expect(repository).toBeDefined();
  return {
    backupDir,
    hostDir: join(backupDir, HOST),
    repository: repository!,
    commits,
    subjects,
    database,
    options,
  };
}

const changed = (
  name: string,
  structureChanged: boolean,
  rowsAdded = 0,
  rowsRemoved = 0,
  rowsChanged = 0,
): LoggedChange => ({
  kind: 'table',
  name,
  change: 'changed',
  structureChanged,
  rowsAdded,
  rowsRemoved,
  rowsChanged,
});
const whole = (
  kind: string,
  name: string,
  change: 'added' | 'removed',
  rows = 0,
): LoggedChange => ({
  kind,
  name,
  change,
  structureChanged: true,
  rowsAdded: change === 'added' ? rows : 0,
  rowsRemoved: change === 'removed' ? rows : 0,
  rowsChanged: 0,
});

/** What the log says each step changed, step by step. */
const LOGGED_CHANGES: readonly (readonly LoggedChange[])[] = [
  [
    whole('table', 'orders', 'added'),
    whole('table', 'settings', 'added', 3),
    whole('table', 'users', 'added'),
  ],
  [changed('users', true)],
  [changed('users', true)],
  [changed('users', true)],
  [changed('users', true)],
  [whole('table', 'audit', 'added')],
  [whole('table', 'orders', 'removed')],
  [changed('settings', false, 0, 0, 1)],
  [changed('settings', false, 1, 0)],
  [changed('settings', false, 0, 1)],
  [changed('users', true)],
  [whole('trigger', 'trg_audit', 'added'), whole('view', 'v_users', 'added')],
];

/** The diff summary of each step against the one before (step 0: against nothing). */
const STEP_SUMMARIES: readonly (readonly string[])[] = [
  [],
  ['table users: structure changed', '  column email added: varchar(100) DEFAULT NULL'],
  ['table users: structure changed', '  column age removed (was int(11) DEFAULT NULL)'],
  [
    'table users: structure changed',
    "  column name changed (type, nullability, default): varchar(20) NOT NULL -> varchar(40) DEFAULT 'anon'",
  ],
  ['table users: structure changed', '  index idx_email added: KEY `idx_email` (`email`)'],
  ['table audit: added'],
  ['table orders: removed'],
  ['table settings: rows +0 -0 ~1'],
  ['table settings: rows +1 -0 ~0'],
  ['table settings: rows +0 -1 ~0'],
  [
    'table users: structure changed',
    '  column nickname added: varchar(30) DEFAULT NULL',
    '  column old_name removed (was varchar(30) DEFAULT NULL)',
    '  hint: old_name -> nickname may be a rename (same type)',
  ],
  ['trigger trg_audit: added', 'view v_users: added'],
];

/** A tree that counts which files were read. */
function counting(tree: SnapshotTree, reads: string[]): SnapshotTree {
  return {
    label: tree.label,
    ids: tree.ids,
    read: async (name) => {
      reads.push(`${tree.label}:${name}`);
      return tree.read(name);
    },
  };
}

describe('readSnapshotLog over a real snapshot history', () => {
  it('lists every snapshot commit newest first, with its date, author, subject and what changed', async () => {
    const history = await snapshotHistory();
    expect(HISTORY_STEPS).toHaveLength(LOGGED_CHANGES.length);
    const entries = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
    );
    expect(entries.map((entry) => entry.id)).toEqual([...history.commits].reverse());
    const expected = HISTORY_STEPS.map((step, index) => ({
      id: history.commits[index],
      date: stepDate(index).replace('Z', '+00:00'),
      author: 'schema_backup',
      subject: history.subjects[index],
      changes: LOGGED_CHANGES[index],
    })).reverse();
    expect(entries).toEqual(expected);
    // The subjects are the snapshot's own, e.g. for the rows steps.
    expect(entries.map((entry) => entry.subject)).toContain(
      `snapshot ${HOST}: rows +0 -0 ~1 in 1 table`,
    );
  });

  it("counts a table's first rows and its last as rows, not as a structure change (the transaction lines come and go with them)", async () => {
    const database = await createTestDatabase('histtx');
    await database.exec('CREATE TABLE t (id INT PRIMARY KEY)');
    const backupDir = await createTempDir('histtx');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: { global: ['t'] },
    });
    expect((await takeSnapshot(mariadbEngine, options)).git).toBe('committed');
    await database.exec('INSERT INTO t VALUES (1), (2)');
    const filled = await takeSnapshot(mariadbEngine, options);
    expect(filled.commit?.message.split('\n')[0]).toBe(
      `snapshot ${HOST}: rows +2 -0 ~0 in 1 table`,
    );
    await database.exec('DELETE FROM t');
    expect((await takeSnapshot(mariadbEngine, options)).git).toBe('committed');
    const repository = await Repository.find(backupDir);
    const entries = await readSnapshotLog(
      mariadbEngine,
      repository!,
      join(backupDir, HOST),
      fileOfTable,
    );
    expect(entries.map((entry) => entry.changes)).toEqual([
      [changed('t', false, 0, 2)],
      [changed('t', false, 2, 0)],
      [whole('table', 't', 'added')],
    ]);
  });

  it('gives the history of one table, at most n commits, and commits since a date', async () => {
    const history = await snapshotHistory();
    const ids = (entries: readonly { id: string }[]): string[] => entries.map((entry) => entry.id);
    const at = (...steps: number[]): string[] => steps.map((step) => history.commits[step] ?? '');

    const users = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
      {
        table: 'users',
      },
    );
    expect(ids(users)).toEqual(at(10, 4, 3, 2, 1, 0));
    // Only the table's own file: the first commit added three tables, the log of users shows one.
    expect(users.at(-1)?.changes).toEqual([whole('table', 'users', 'added')]);
    expect(users.every((entry) => entry.changes.every((change) => change.name === 'users'))).toBe(
      true,
    );

    const settings = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
      {
        table: 'settings',
      },
    );
    expect(ids(settings)).toEqual(at(9, 8, 7, 0));
    expect(settings.map((entry) => entry.changes)).toEqual([
      [changed('settings', false, 0, 1)],
      [changed('settings', false, 1, 0)],
      [changed('settings', false, 0, 0, 1)],
      [whole('table', 'settings', 'added', 3)],
    ]);

    const lastThree = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
      {
        maxCount: 3,
      },
    );
    expect(ids(lastThree)).toEqual(at(11, 10, 9));

    // Step 7 is dated 2026-01-08: commits after noon that day are steps 8 to 11.
    const since = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
      {
        since: '2026-01-08T12:00:00Z',
      },
    );
    expect(ids(since)).toEqual(at(11, 10, 9, 8));
    const sinceForTable = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
      {
        since: '2026-01-08T12:00:00Z',
        table: 'settings',
        maxCount: 1,
      },
    );
    expect(ids(sinceForTable)).toEqual(at(9));

    const none = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
      {
        table: 'no_such_table',
      },
    );
    expect(none).toEqual([]);
  });

  it('leaves out commits of other hosts and counts only this host directory', async () => {
    const history = await snapshotHistory();
    // Another host in the same repository, with a change of its own.
    await history.database.exec("INSERT INTO settings VALUES ('z', 'other host')");
    const other = await takeSnapshot(mariadbEngine, {
      ...history.options,
      host: 'other.example.org',
    });
    expect(other.git).toBe('committed');
    const entries = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
    );
    expect(entries.map((entry) => entry.id)).toEqual([...history.commits].reverse());
    const otherEntries = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      join(history.backupDir, 'other.example.org'),
      fileOfTable,
    );
    expect(otherEntries.map((entry) => entry.id)).toEqual([other.commit?.id]);
    expect(otherEntries[0]?.changes.map((change) => `${change.kind} ${change.name}`)).toEqual([
      'table audit',
      'table settings',
      'trigger trg_audit',
      'table users',
      'view v_users',
    ]);
  });
});

describe('diffSnapshots over a real snapshot history', () => {
  it('says what each step changed: columns added, removed, changed, renamed, an index, tables, rows, objects', async () => {
    const history = await snapshotHistory();
    for (let step = 1; step < HISTORY_STEPS.length; step += 1) {
      const result = await diffSnapshots(
        mariadbEngine,
        await revisionTree(history.repository, history.commits[step - 1]!, history.hostDir),
        await revisionTree(history.repository, history.commits[step]!, history.hostDir),
        { only: [], patches: true },
      );
      const name = HISTORY_STEPS[step]?.name ?? '';
      expect(summaryLines(result), name).toEqual(STEP_SUMMARIES[step]);
      // One patch per changed file, never one for manifest.json (which changes with every step).
      expect(
        result.patches.map((patch) => patch.file),
        name,
      ).toHaveLength(result.tables.length + result.objects.length);
    }
  });

  it('gives the details: column aspects, keyed row changes, rename hints and the unified diff', async () => {
    const history = await snapshotHistory();
    const { repository, hostDir, commits } = history;
    const tree = (step: number): Promise<SnapshotTree> =>
      revisionTree(repository, commits[step]!, hostDir);

    const modify = await diffSnapshots(mariadbEngine, await tree(2), await tree(3), {
      only: [],
      patches: true,
    });
    expect(modify.tables).toHaveLength(1);
    expect(modify.tables[0]?.structure?.columnsChanged).toEqual([
      {
        name: 'name',
        from: 'varchar(20) NOT NULL',
        to: "varchar(40) DEFAULT 'anon'",
        aspects: ['type', 'nullability', 'default'],
      },
    ]);
    expect(modify.tables[0]?.rows).toBeUndefined();
    expect(modify.patches[0]?.patch).toContain(
      "-  `name` varchar(20) NOT NULL,\n+  `name` varchar(40) DEFAULT 'anon',",
    );

    // Everything at once, first commit to last: the row a changed, b went, d came.
    const all = await diffSnapshots(mariadbEngine, await tree(0), await tree(11), {
      only: [],
      patches: true,
    });
    expect(summaryLines(all)).toEqual([
      'table audit: added',
      'table orders: removed',
      'table settings: rows +1 -1 ~1',
      'table users: structure changed',
      '  column nickname added: varchar(30) DEFAULT NULL',
      '  column email added: varchar(100) DEFAULT NULL',
      '  column age removed (was int(11) DEFAULT NULL)',
      '  column old_name removed (was varchar(30) DEFAULT NULL)',
      "  column name changed (type, nullability, default): varchar(20) NOT NULL -> varchar(40) DEFAULT 'anon'",
      '  index idx_email added: KEY `idx_email` (`email`)',
      '  hint: old_name -> nickname may be a rename (same type)',
      'trigger trg_audit: added',
      'view v_users: added',
    ]);
    const settings = all.tables.find((table) => table.name === 'settings');
    expect(settings).toEqual({
      kind: 'table',
      name: 'settings',
      change: 'changed',
      structure: undefined,
      rows: { added: 1, removed: 1, changed: 1 },
    });
    const users = all.tables.find((table) => table.name === 'users');
    expect(users?.structure?.renameHints).toEqual([{ from: 'old_name', to: 'nickname' }]);
    expect(users?.structure?.columnsReordered).toBe(false);
    const settingsPatch = all.patches.find((patch) => patch.file === 'settings.sql')?.patch ?? '';
    for (const line of [
      "-INSERT INTO `settings` (`k`,`v`) VALUES ('a','one');",
      "-INSERT INTO `settings` (`k`,`v`) VALUES ('b','two');",
      "+INSERT INTO `settings` (`k`,`v`) VALUES ('a','ONE');",
      "+INSERT INTO `settings` (`k`,`v`) VALUES ('d','four');",
    ])
      expect(settingsPatch.split('\n')).toContain(line);
    expect(settingsPatch.split('\n')).toContain(
      " INSERT INTO `settings` (`k`,`v`) VALUES ('c','three');",
    );
    const addedPatch = all.patches.find((patch) => patch.file === 'audit.sql')?.patch ?? '';
    expect(addedPatch).toContain('--- /dev/null');
    expect(addedPatch).toContain('+++ b/audit.sql');
    expect(addedPatch).toContain('+CREATE TABLE `audit` (');

    // --table: only the selected tables (and objects), patterns allowed.
    const onlyUsers = await diffSnapshots(mariadbEngine, await tree(0), await tree(11), {
      only: ['u*'],
      patches: false,
    });
    expect(onlyUsers.tables.map((table) => table.name)).toEqual(['users']);
    expect(onlyUsers.objects).toEqual([]);
    expect(onlyUsers.patches).toEqual([]);
    const objects = await diffSnapshots(mariadbEngine, await tree(0), await tree(11), {
      only: ['v_users', 'trg_*'],
      patches: false,
    });
    expect(objects.tables).toEqual([]);
    expect(objects.objects).toEqual([
      { kind: 'trigger', name: 'trg_audit', change: 'added' },
      { kind: 'view', name: 'v_users', change: 'added' },
    ]);

    // The same revision twice: nothing.
    const same = await diffSnapshots(mariadbEngine, await tree(5), await tree(5), {
      only: [],
      patches: true,
    });
    expect(summaryLines(same)).toEqual(['no differences']);
  });

  it('reads only the files whose blob ids differ', async () => {
    const history = await snapshotHistory();
    const reads: string[] = [];
    const from = counting(
      await revisionTree(history.repository, history.commits[6]!, history.hostDir, 'A'),
      reads,
    );
    const to = counting(
      await revisionTree(history.repository, history.commits[7]!, history.hostDir, 'B'),
      reads,
    );
    const result = await diffSnapshots(mariadbEngine, from, to, { only: [], patches: false });
    expect(summaryLines(result)).toEqual(['table settings: rows +0 -0 ~1']);
    expect(reads.sort()).toEqual(['A:settings.sql', 'B:settings.sql']);
  });

  it('compares the working tree with a revision by git blob ids: a clean tree equals HEAD, an edit shows', async () => {
    const history = await snapshotHistory();
    const head = await revisionTree(history.repository, 'HEAD', history.hostDir);
    const work = await directoryTree(history.hostDir, 'work tree');
    expect(new Map(work.ids)).toEqual(new Map(head.ids));
    for (const [name, id] of work.ids)
      expect(gitBlobId(await readFile(join(history.hostDir, name)))).toBe(id);
    expect(
      git(history.backupDir, 'hash-object', join(history.hostDir, 'settings.sql')).trim(),
    ).toBe(work.ids.get('settings.sql'));
    expect(
      summaryLines(await diffSnapshots(mariadbEngine, head, work, { only: [], patches: true })),
    ).toEqual(['no differences']);

    const settingsFile = join(history.hostDir, 'settings.sql');
    await writeFile(
      settingsFile,
      (await readFile(settingsFile, 'utf8')).replace("('c','three')", "('c','drei')"),
    );
    const edited = await diffSnapshots(
      mariadbEngine,
      head,
      await directoryTree(history.hostDir, 'work tree'),
      {
        only: [],
        patches: true,
      },
    );
    expect(summaryLines(edited)).toEqual(['table settings: rows +0 -0 ~1']);
    expect(edited.patches[0]?.patch).toContain(
      "+INSERT INTO `settings` (`k`,`v`) VALUES ('c','drei');",
    );

    // A host directory that does not exist compares as empty: every file removed.
    const missing = await directoryTree(join(history.backupDir, 'nowhere'), 'nowhere');
    expect(missing.ids.size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Host against host: the CSV2 fixture.

const FIXTURE_DIR = '/work/shared/fixtures/csv2/schema_backup/stable-2.11.0.rc1';
const CONFIG_FILE = '/work/shared/fixtures/csv2/etc/schema_backup.conf';

/**
 * The shipped config's categories (as in csv2-fixture.test.ts): `ec2_regions` removed from
 * `ephemeral` (it is also `global`) and `user_data_backup_dir` left out, in memory.
 */
async function csv2Categories(): Promise<Categories> {
  const text = await readFile(CONFIG_FILE, 'utf8');
  let section = '';
  const kept = text.split('\n').filter((line) => {
    const key = /^([A-Za-z0-9_]+):/.exec(line);
    if (key) section = key[1] ?? '';
    if (section === 'ephemeral' && /^\s*-\s*ec2_regions\s*$/.test(line)) return false;
    return section !== 'user_data_backup_dir';
  });
  return parseConfig(kept.join('\n'), CONFIG_FILE).config.categories;
}

describe('host against host', () => {
  it('diff --host a --against-host b reports exactly the changes made between the two snapshots of the CSV2 database', async () => {
    const database = await createTestDatabase('csv2diff');
    const files = (await readdir(FIXTURE_DIR)).sort();
    expect(files).toHaveLength(61);
    for (const file of files) await loadWithStockClient(database.name, join(FIXTURE_DIR, file));
    const dir = await createTempDir('csv2diff');
    const backupDir = join(dir, 'backups');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: await csv2Categories(),
    });
    const a = await takeSnapshot(mariadbEngine, { ...options, host: 'a.example.org' });
    expect(a.git).toBe('committed');

    await database.exec('ALTER TABLE csv2_clouds ADD COLUMN backup_note VARCHAR(64) DEFAULT NULL');
    await database.exec(
      'ALTER TABLE django_session DROP INDEX django_session_expire_date_a5c62663',
    );
    // REPLACE, not UPDATE: the table's AFTER UPDATE trigger has the definer csv2@localhost,
    // which the test server does not have (firing it fails); REPLACE deletes and inserts.
    await database.exec(
      "REPLACE INTO csv2_configuration VALUES ('csmain', 'log_level', 'int', '30')",
    );
    const b = await takeSnapshot(mariadbEngine, { ...options, host: 'b.example.org' });
    expect(b.git).toBe('committed');

    const config = join(dir, 'schema_backup.conf');
    await writeFile(config, 'csv2_backup_dir: backups\nhostname: a.example.org\n');
    const expected = [
      'table csv2_clouds: structure changed',
      '  column backup_note added: varchar(64) DEFAULT NULL',
      'table csv2_configuration: rows +0 -0 ~1',
      'table django_session: structure changed',
      '  index django_session_expire_date_a5c62663 removed',
    ];

    // Working trees (no revision) and both at HEAD: the same summary.
    for (const [revision, from, to] of [
      [[], 'a.example.org (working tree)', 'b.example.org (working tree)'],
      [['HEAD'], 'a.example.org@HEAD', 'b.example.org@HEAD'],
    ] as const) {
      const result = await runCli([
        'diff',
        ...revision,
        '--backup-host',
        'a.example.org',
        '--against-host',
        'b.example.org',
        '--stat',
        '--config',
        config,
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(3);
      expect(result.stdout).toBe(
        `${[`${from} -> ${to}`, ...expected.map((line) => `  ${line}`)].join('\n')}\n`,
      );
    }

    const json = await runCli([
      'diff',
      '--backup-host',
      'a.example.org',
      '--against-host',
      'b.example.org',
      '--json',
      '--config',
      config,
    ]);
    expect(json.code).toBe(3);
    const parsed = JSON.parse(json.stdout) as {
      tables: {
        name: string;
        change: string;
        rows?: unknown;
        structure?: {
          columnsAdded: { name: string; type: string }[];
          indexes: { name: string; from?: string; to?: string }[];
        };
      }[];
      objects: unknown[];
    };
    expect(parsed.objects).toEqual([]);
    expect(parsed.tables.map((table) => table.name)).toEqual([
      'csv2_clouds',
      'csv2_configuration',
      'django_session',
    ]);
    expect(parsed.tables[0]?.structure?.columnsAdded).toMatchObject([
      { name: 'backup_note', type: 'varchar(64)' },
    ]);
    expect(parsed.tables[1]).toEqual({
      kind: 'table',
      name: 'csv2_configuration',
      change: 'changed',
      rows: { added: 0, removed: 0, changed: 1 },
    });
    expect(parsed.tables[2]?.structure?.indexes).toEqual([
      {
        name: 'django_session_expire_date_a5c62663',
        from: 'KEY `django_session_expire_date_a5c62663` (`expire_date`)',
      },
    ]);

    // The patch: the changed configuration row, old and new, and nothing of the 61 others.
    const patch = await runCli([
      'diff',
      '--backup-host',
      'a.example.org',
      '--against-host',
      'b.example.org',
      '--table',
      'csv2_configuration',
      '--config',
      config,
    ]);
    expect(patch.code).toBe(3);
    const changedLines = patch.stdout.split('\n').filter((line) => /^[-+][^-+]/.test(line));
    expect(changedLines).toEqual([
      "-INSERT INTO `csv2_configuration` (`category`,`config_key`,`config_type`,`config_value`) VALUES ('csmain','log_level','int','20');",
      "+INSERT INTO `csv2_configuration` (`category`,`config_key`,`config_type`,`config_value`) VALUES ('csmain','log_level','int','30');",
    ]);
  });
});

describe('readSnapshotLog whatever the names and the git config', () => {
  it('counts a table whose file name git would quote (non-ASCII name) under its own name, not under the file before it', async () => {
    const database = await createTestDatabase('quoted');
    const backupDir = await createTempDir('quoted');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: { global: ['plain', 'été'] },
    });
    await database.exec('CREATE TABLE plain (id INT PRIMARY KEY); INSERT INTO plain VALUES (1)');
    await takeSnapshot(mariadbEngine, options);
    // `été.sql` sorts after `plain.sql` (0xC3 > 'p'); git prints its path quoted, with octal escapes.
    await database.exec(
      'CREATE TABLE `été` (id INT PRIMARY KEY); INSERT INTO `été` VALUES (1), (2)',
    );
    await database.exec('INSERT INTO plain VALUES (2)');
    await takeSnapshot(mariadbEngine, options);
    expect(git(backupDir, 'log', '-1', '--name-only', '--format=')).toContain(
      '"test.example.org/\\303\\251t\\303\\251.sql"',
    );
    const repository = (await Repository.find(backupDir))!;
    const [last] = await readSnapshotLog(
      mariadbEngine,
      repository,
      join(backupDir, HOST),
      fileOfTable,
    );
    expect(last?.changes).toEqual([
      changed('plain', false, 1, 0),
      whole('table', 'été', 'added', 2),
    ]);
    const ofTable = await readSnapshotLog(
      mariadbEngine,
      repository,
      join(backupDir, HOST),
      fileOfTable,
      {
        table: 'été',
      },
    );
    expect(ofTable[0]?.changes).toEqual([whole('table', 'été', 'added', 2)]);
  });

  it('does not depend on the git config (diff.noprefix, log.showRoot=false, core.quotePath)', async () => {
    const history = await snapshotHistory();
    const plain = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
    );
    // An operator's ~/.gitconfig (here the repository's own config, as the tests isolate the global one).
    for (const [key, value] of [
      ['diff.noprefix', 'true'],
      ['log.showRoot', 'false'],
      ['core.quotePath', 'true'],
      ['color.ui', 'always'],
      ['diff.renames', 'copies'],
      ['diff.mnemonicPrefix', 'true'],
      ['log.showSignature', 'false'],
    ] as const)
      git(history.backupDir, 'config', key, value);
    const configured = await readSnapshotLog(
      mariadbEngine,
      history.repository,
      history.hostDir,
      fileOfTable,
    );
    expect(configured).toEqual(plain);
    expect(configured.at(-1)?.changes).toEqual(LOGGED_CHANGES[0]);
  });
});

// ---------------------------------------------------------------------------------------------
// Regressions: bugs found while these tests were written, fixed since.

describe('regressions (fixed)', () => {
  it('log of a repository without commits says there are no snapshots instead of failing', async () => {
    const dir = await createTempDir('nocommit');
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', join(dir, 'backups')]);
    const config = join(dir, 'schema_backup.conf');
    await writeFile(config, 'csv2_backup_dir: backups\nhostname: test.example.org\n');
    const result = await runCli(['log', '--config', config]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no snapshots of test.example.org');
  });
  it('counts rows by a unique key that is NULL in several rows as separate rows', async () => {
    const database = await createTestDatabase('nullkey');
    const backupDir = await createTempDir('nullkey');
    const options = snapshotOptionsForTest({
      database: database.name,
      backupDir,
      categories: { global: ['tags'] },
    });
    // No primary key: the row key is the first unique key, whose column allows NULL, and
    // NULLs never collide in a unique key.
    await database.exec(
      'CREATE TABLE tags (code INT NULL, label VARCHAR(10) NOT NULL, UNIQUE KEY u_code (code))',
    );
    await database.exec("INSERT INTO tags VALUES (NULL, 'x'), (NULL, 'y'), (1, 'z')");
    await takeSnapshot(mariadbEngine, options);
    await database.exec("DELETE FROM tags WHERE label = 'y'");
    await takeSnapshot(mariadbEngine, options);
    const repository = (await Repository.find(backupDir))!;
    const hostDir = join(backupDir, HOST);
    const result = await diffSnapshots(
      mariadbEngine,
      await revisionTree(repository, 'HEAD~1', hostDir),
      await revisionTree(repository, 'HEAD', hostDir),
      { only: [], patches: false },
    );
    // One row went; none changed (git log -p says the same: one line removed).
    expect(summaryLines(result)).toEqual(['table tags: rows +0 -1 ~0']);
  });

  it('diff A B of a host directory that does not exist at A shows its tables as added, instead of failing', async () => {
    const history = await snapshotHistory();
    const other = await takeSnapshot(mariadbEngine, {
      ...history.options,
      host: 'other.example.org',
    });
    expect(other.git).toBe('committed');
    const config = join(history.backupDir, '..', `${HOST}.conf`);
    await writeFile(config, `csv2_backup_dir: ${history.backupDir}\nhostname: other.example.org\n`);
    const result = await runCli(['diff', 'HEAD~1', 'HEAD', '--stat', '--config', config]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').slice(1, -1)).toEqual([
      '  table audit: added',
      '  table settings: added',
      '  table users: added',
      '  database defaults: added',
      '  trigger trg_audit: added',
      '  view v_users: added',
    ]);
  });

  it('diff A B --host h --against-host g does not silently ignore B', async () => {
    const history = await snapshotHistory();
    await history.database.exec("INSERT INTO settings VALUES ('z', 'other host')");
    const other = await takeSnapshot(mariadbEngine, {
      ...history.options,
      host: 'other.example.org',
    });
    expect(other.git).toBe('committed');
    const config = join(history.backupDir, '..', `${HOST}.conf`);
    await writeFile(config, `csv2_backup_dir: ${history.backupDir}\nhostname: ${HOST}\n`);
    const result = await runCli([
      'diff',
      'HEAD~1',
      'HEAD',
      '--backup-host',
      HOST,
      '--against-host',
      'other.example.org',
      '--stat',
      '--config',
      config,
    ]);
    // Either a usage error, or B is used for the second host; not `other@HEAD~1` (which does
    // not even exist) with B dropped.
    if (result.code !== 2) {
      expect(result.stderr).toBe('');
      expect(result.stdout.split('\n')[0]).toBe(`${HOST}@HEAD~1 -> other.example.org@HEAD`);
    }
  });
});
