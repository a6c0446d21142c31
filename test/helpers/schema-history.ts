/**
 * A real snapshot history for the diff and log tests: a small database changed step by step
 * (a column added, dropped, modified, renamed; an index; a table added and dropped; rows of a
 * global table changed, added, deleted; a view and a trigger), with one real snapshot commit
 * after each step. Each step's commit gets a date of its own (day `step + 1` of January 2026),
 * set through GIT_AUTHOR_DATE and GIT_COMMITTER_DATE: isolate-git.ts pins both for every test
 * file to 2026-01-01, so the dates are moved for each snapshot and put back afterwards.
 */
import { ISOLATED_GIT_ENV } from './git-repo.js';
import type { TestDatabase } from './database.js';

export interface HistoryStep {
  /** What the step does, as the tests name it. */
  readonly name: string;
  readonly sql: string;
}

/** The categories the history is snapshotted with. */
export const HISTORY_CATEGORIES = {
  global: ['settings'],
  ephemeral: ['users', 'orders', 'audit'],
};

/** Step 0 creates the database; each later step changes it. */
export const HISTORY_STEPS: readonly HistoryStep[] = [
  {
    name: 'initial',
    sql: [
      'CREATE TABLE settings (k VARCHAR(10) NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL)',
      "INSERT INTO settings VALUES ('a', 'one'), ('b', 'two'), ('c', 'three')",
      'CREATE TABLE users (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL, age INT DEFAULT NULL, old_name VARCHAR(30) DEFAULT NULL)',
      'CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, user_id INT NOT NULL)',
    ].join(';\n'),
  },
  { name: 'add column', sql: 'ALTER TABLE users ADD COLUMN email VARCHAR(100) DEFAULT NULL' },
  { name: 'drop column', sql: 'ALTER TABLE users DROP COLUMN age' },
  {
    name: 'modify column',
    sql: "ALTER TABLE users MODIFY name VARCHAR(40) NULL DEFAULT 'anon'",
  },
  { name: 'add index', sql: 'CREATE INDEX idx_email ON users (email)' },
  { name: 'add table', sql: 'CREATE TABLE audit (id INT NOT NULL PRIMARY KEY, note TEXT)' },
  { name: 'drop table', sql: 'DROP TABLE orders' },
  { name: 'change row', sql: "UPDATE settings SET v = 'ONE' WHERE k = 'a'" },
  { name: 'add row', sql: "INSERT INTO settings VALUES ('d', 'four')" },
  { name: 'delete row', sql: "DELETE FROM settings WHERE k = 'b'" },
  { name: 'rename column', sql: 'ALTER TABLE users RENAME COLUMN old_name TO nickname' },
  {
    name: 'add view and trigger',
    sql: [
      'CREATE VIEW v_users AS SELECT id, name FROM users',
      "CREATE TRIGGER trg_audit BEFORE INSERT ON audit FOR EACH ROW SET NEW.note = COALESCE(NEW.note, '')",
    ].join(';\n'),
  },
];

/** The date of step `step`'s commit: 2026-01-01 for step 0, a day later for each step. */
export function stepDate(step: number): string {
  return `2026-01-${String(step + 1).padStart(2, '0')}T00:00:00Z`;
}

/** Runs `snapshot` with the author and committer dates set to `date`. */
export async function withGitDate<T>(date: string, snapshot: () => Promise<T>): Promise<T> {
  process.env.GIT_AUTHOR_DATE = date;
  process.env.GIT_COMMITTER_DATE = date;
  try {
    return await snapshot();
  } finally {
    process.env.GIT_AUTHOR_DATE = ISOLATED_GIT_ENV.GIT_AUTHOR_DATE;
    process.env.GIT_COMMITTER_DATE = ISOLATED_GIT_ENV.GIT_COMMITTER_DATE;
  }
}

/**
 * Applies every step to `database` and calls `snapshot` after each (under the step's date);
 * `snapshot` returns the id of the commit it made. Returns the commit ids, step by step.
 */
export async function buildHistory(
  database: TestDatabase,
  snapshot: (step: HistoryStep) => Promise<string>,
): Promise<string[]> {
  const commits: string[] = [];
  for (const [index, step] of HISTORY_STEPS.entries()) {
    await database.exec(step.sql);
    commits.push(await withGitDate(stepDate(index), () => snapshot(step)));
  }
  return commits;
}
