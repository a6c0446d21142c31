/**
 * The incomplete marker: a table that `restore` and `load` create in their target before they
 * write anything into it, and drop once they have finished. A target that a run left half
 * written (a failure, a kill, a crash) keeps it, so it never looks like a good copy, and a
 * later run refuses it unless forced.
 *
 * Part of the restore workflow; uses only the engine interface.
 */
import type { SqlDialect, Session } from '../engine/engine.js';
import { UsageError } from '../errors.js';

/** The marker's table name. */
export const INCOMPLETE_MARKER = '_schema_backup_restore_incomplete';

/** True when a database's base tables (as `listObjects` returns them) include the marker. */
export function hasIncompleteMarker(tables: readonly string[]): boolean {
  return tables.includes(INCOMPLETE_MARKER);
}

/**
 * Puts the marker into `database`, replacing any left by an earlier run, with `note` (cut to
 * 255 characters) as its one row. Throws what the session throws.
 */
export async function markIncomplete(
  session: Session,
  dialect: SqlDialect,
  database: string,
  note: string,
): Promise<void> {
  const table = `${dialect.quoteIdentifier(database)}.${dialect.quoteIdentifier(INCOMPLETE_MARKER)}`;
  await session.execute(`DROP TABLE IF EXISTS ${table}`);
  await session.execute(
    `CREATE TABLE ${table} (note VARCHAR(255)) COMMENT 'schema_backup: restore or load in progress or failed'`,
  );
  await session.execute(`INSERT INTO ${table} VALUES (${dialect.quoteString(note.slice(0, 255))})`);
}

/** Drops the marker from `database`, if it is there. Throws what the session throws. */
export async function clearIncompleteMarker(
  session: Session,
  dialect: SqlDialect,
  database: string,
): Promise<void> {
  await session.execute(
    `DROP TABLE IF EXISTS ${dialect.quoteIdentifier(database)}.${dialect.quoteIdentifier(INCOMPLETE_MARKER)}`,
  );
}

/**
 * The refusal of a target that holds the marker: exit 2, saying that an earlier restore or
 * load into it did not finish, with the way out (`--force`, or dropping the database).
 */
export function incompleteTargetError(database: string, command: 'load' | 'restore'): UsageError {
  return new UsageError(
    `the database ${database} holds a restore or load that did not finish (it has the table ${INCOMPLETE_MARKER}): its contents are partial`,
    {
      hint: `Pass --force to ${command} over it (what the ${command === 'load' ? 'dump' : 'snapshot'} holds is replaced, and the marker removed), or drop the database and ${command} again.`,
    },
  );
}
