/** Options for dump and load workflows in tests: the test server, a temp dump dir, silence. */
import { dumpDatabase, type DumpOptions, type DumpResult } from '../../src/dump/dump-database.js';
import type { LoadOptions } from '../../src/dump/load-dump.js';
import type { ConnectionOptions } from '../../src/engine/engine.js';
import { postgresqlEngine } from '../../src/engine/postgresql/postgresql-engine.js';
import { silentLogger } from '../../src/support/logger.js';
import { connectionTo } from './database.js';
import { createTempDir } from './temp-dir.js';

export function dumpOptionsForTest(
  overrides: Partial<DumpOptions> & Pick<DumpOptions, 'databases' | 'dumpDir'>,
): DumpOptions {
  return {
    connection: connectionTo(),
    allDatabases: false,
    only: [],
    exclude: [],
    host: 'test.example.org',
    form: 'file',
    compression: 'none',
    recipients: [],
    threads: 2,
    chunkRows: 500_000,
    keep: false,
    logger: silentLogger,
    ...overrides,
  };
}

export function loadOptionsForTest(
  overrides: Partial<LoadOptions> & Pick<LoadOptions, 'path'>,
): LoadOptions {
  return {
    connection: connectionTo(),
    identities: [],
    threads: 2,
    force: false,
    logger: silentLogger,
    ...overrides,
  };
}

/** A PostgreSQL dump of `database` into a new temporary directory, `options` over the defaults. */
export async function pgDumpForTest(
  connection: ConnectionOptions,
  database: string,
  options: Partial<DumpOptions> = {},
): Promise<DumpResult> {
  return dumpDatabase(
    postgresqlEngine,
    dumpOptionsForTest({
      connection,
      databases: [database],
      dumpDir: await createTempDir('sbpgdump'),
      ...options,
    }),
  );
}
