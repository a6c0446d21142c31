/**
 * Restore and verify for tests: options with defaults, the decrypting readers of a user-data
 * copy, a look at what a database holds, and an engine that records which databases a
 * workflow created (the real MariaDB engine, observed, not replaced).
 */
import mysql from 'mysql2/promise';
import { onTestFinished } from 'vitest';
import { readIdentityFile } from '../../src/crypto/recipients.js';
import type { Engine, Session } from '../../src/engine/engine.js';
import { mariadbEngine } from '../../src/engine/mariadb/mariadb-engine.js';
import type { RestoreOptions, UserDataInput } from '../../src/restore/restore-snapshot.js';
import { openUserDataCopy } from '../../src/restore/user-data-input.js';
import { findCopy, LATEST_LINK } from '../../src/snapshot/user-data-copy.js';
import { silentLogger } from '../../src/support/logger.js';
import { connectionTo, testServer } from './database.js';

export const MARKER_TABLE = '_schema_backup_restore_incomplete';

export function restoreOptionsForTest(
  overrides: Pick<RestoreOptions, 'target' | 'source'> & Partial<RestoreOptions>,
): RestoreOptions {
  return {
    connection: connectionTo(),
    userData: undefined,
    legacy: false,
    force: false,
    forceSource: false,
    only: [],
    exclude: [],
    parallel: 3,
    logger: silentLogger,
    ...overrides,
  };
}

/** The decrypting readers of the `latest` (or `copy`) user-data copy of `host`. */
export async function userDataInput(
  userDataDir: string,
  host: string,
  identityFile: string,
  copy = LATEST_LINK,
  fingerprintKey?: Buffer,
): Promise<UserDataInput> {
  const found = await findCopy(userDataDir, host, copy);
  const identities = await readIdentityFile(identityFile);
  return openUserDataCopy(found.dir, found.manifest, identities, fingerprintKey);
}

/** A query on the server, outside any database, on a connection of its own. */
export async function serverQuery<T = Record<string, unknown>>(
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const server = testServer();
  const connection = await mysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    charset: 'utf8mb4',
  });
  try {
    const [rows] = await connection.query(sql, values);
    return rows as T[];
  } finally {
    await connection.end();
  }
}

export async function databaseExists(name: string): Promise<boolean> {
  const rows = await serverQuery(
    'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    [name],
  );
  return rows.length > 0;
}

/** Base tables of `database`, sorted. */
export async function baseTables(database: string): Promise<string[]> {
  const rows = await serverQuery<{ name: string }>(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  );
  return rows.map((row) => row.name).sort();
}

/** `kind:name` of every view, routine, trigger, event and sequence of `database`, sorted. */
export async function otherObjects(database: string): Promise<string[]> {
  const rows = await serverQuery<{ entry: string }>(
    `SELECT CONCAT('view:', TABLE_NAME) AS entry FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
     UNION ALL SELECT CONCAT('sequence:', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'SEQUENCE'
     UNION ALL SELECT CONCAT(LOWER(ROUTINE_TYPE), ':', ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
     UNION ALL SELECT CONCAT('trigger:', TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
     UNION ALL SELECT CONCAT('event:', EVENT_NAME) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
    [database, database, database, database, database],
  );
  return rows.map((row) => row.entry).sort();
}

/**
 * The MariaDB engine, recording every `CREATE DATABASE` its sessions run; each database it
 * created is dropped when the test finishes (in case the workflow under test did not).
 */
export function recordingEngine(): Engine & { readonly createdDatabases: string[] } {
  const createdDatabases: string[] = [];
  onTestFinished(async () => {
    for (const name of createdDatabases)
      await serverQuery(`DROP DATABASE IF EXISTS \`${name.replace(/`/g, '``')}\``);
  });
  const wrap = (session: Session): Session => ({
    get server() {
      return session.server;
    },
    startConsistentSnapshot: () => session.startConsistentSnapshot(),
    endConsistentSnapshot: () => session.endConsistentSnapshot(),
    listDatabases: () => session.listDatabases(),
    readDatabaseDefaults: (database) => session.readDatabaseDefaults(database),
    listObjects: (database) => session.listObjects(database),
    describeTables: (database) => session.describeTables(database),
    showCreate: (database, kind, name) => session.showCreate(database, kind, name),
    readRowBatches: (database, table) => session.readRowBatches(database, table),
    abort: () => session.abort(),
    readInsertChunks: (database, table, options) =>
      session.readInsertChunks(database, table, options),
    planRowRanges: (database, table, parts) => session.planRowRanges(database, table, parts),
    estimateTableSizes: (database) => session.estimateTableSizes(database),
    findHiddenObjects: (database) => session.findHiddenObjects(database),
    startSharedSnapshot: (readers) => session.startSharedSnapshot(readers),
    readSnapshotPosition: () => session.readSnapshotPosition(),
    readSequenceState: (database, sequence) => session.readSequenceState(database, sequence),
    executeCounting: (sql) => session.executeCounting(sql),
    async execute(sql) {
      const created = /^CREATE DATABASE `((?:[^`]|``)+)`/i.exec(sql);
      if (created?.[1] !== undefined) createdDatabases.push(created[1].replace(/``/g, '`'));
      await session.execute(sql);
    },
    close: () => session.close(),
  });
  return {
    name: mariadbEngine.name,
    dialect: mariadbEngine.dialect,
    script: mariadbEngine.script,
    objectKinds: mariadbEngine.objectKinds,
    fileNameParts: mariadbEngine.fileNameParts,
    tableNamed: mariadbEngine.tableNamed,
    createdDatabases,
    openSession: async (options) => wrap(await mariadbEngine.openSession(options)),
  };
}
