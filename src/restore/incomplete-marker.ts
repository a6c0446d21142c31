/**
 * The incomplete marker: a table that `restore` and `load` create in their target before they
 * write anything into it, and drop once they have finished. A target that a run left half
 * written (a failure, a kill, a crash) keeps it, so it never looks like a good copy, and a
 * later run refuses it unless forced.
 *
 * Part of the restore workflow; uses only the engine interface.
 */
import {
  namesOfKind,
  type AdminStatements,
  type Engine,
  type SchemaInventory,
  type Session,
} from '../engine/engine.js';
import { UsageError } from '../errors.js';

/** The marker's table name. */
export const INCOMPLETE_MARKER = '_schema_backup_restore_incomplete';

/**
 * True when a database's objects include the marker, as the engine names it
 * (PostgreSQL: `public._schema_backup_restore_incomplete`).
 */
export function hasIncompleteMarker(engine: Engine, inventory: SchemaInventory): boolean {
  return namesOfKind(inventory, 'table').includes(engine.tableNamed(INCOMPLETE_MARKER));
}

/**
 * Puts the marker into `database`, replacing any left by an earlier run, with `note` (cut to
 * 255 characters) as its one row. Throws what the session throws.
 */
export async function markIncomplete(
  session: Session,
  admin: AdminStatements,
  database: string,
  note: string,
): Promise<void> {
  for (const statement of admin.markerStatements(database, INCOMPLETE_MARKER, note))
    await session.execute(statement);
}

/**
 * Drops the marker from `database`, if it is there. `table`: the marker as the engine names
 * it (`Engine.tableNamed`, PostgreSQL `public._schema_backup_restore_incomplete`), as the
 * statement names no schema otherwise. Throws what the session throws.
 */
export async function clearIncompleteMarker(
  session: Session,
  admin: AdminStatements,
  database: string,
  table: string = INCOMPLETE_MARKER,
): Promise<void> {
  await session.execute(admin.dropObject(database, 'table', table, true));
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
