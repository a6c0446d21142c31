/** Snapshot options for tests: the test server, a host name of its own, git init on. */
import type { Categories } from '../../src/config/schema.js';
import type { SnapshotOptions } from '../../src/snapshot/take-snapshot.js';
import { silentLogger } from '../../src/support/logger.js';
import { connectionTo } from './database.js';

export type TestSnapshotOverrides = Partial<Omit<SnapshotOptions, 'categories'>> & {
  database: string;
  backupDir: string;
  categories?: Partial<Categories>;
};

export function snapshotOptionsForTest(overrides: TestSnapshotOverrides): SnapshotOptions {
  const { categories, ...rest } = overrides;
  return {
    connection: connectionTo(overrides.database),
    host: 'test.example.org',
    strict: false,
    git: {
      commit: true,
      init: true,
      author: { name: 'schema_backup', email: 'schema_backup@test.example.org' },
    },
    dryRun: false,
    lockWaitSeconds: 0,
    logger: silentLogger,
    ...rest,
    categories: { global: [], local: [], ephemeral: [], ignore: [], ...categories },
  };
}
