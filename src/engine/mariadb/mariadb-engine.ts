/**
 * The MariaDB/MySQL engine over mysql2. Its connections are opened by `open-session.ts`, loaded
 * on the first connection: a run that connects to PostgreSQL, or none, does not load mysql2.
 */
import type { Engine } from '../engine.js';
import { mariadbDialect } from './mariadb-dialect.js';
import { mariadbScriptFormat } from './script-format.js';

export const mariadbEngine: Engine = {
  name: 'mariadb',
  dialect: mariadbDialect,
  script: mariadbScriptFormat,
  objectKinds: ['table', 'sequence', 'view', 'function', 'procedure', 'trigger', 'event'],
  // A MariaDB database has no schemas: every name is whole.
  fileNameParts: (_kind, name) => [name],
  tableNamed: (configName) => configName,
  openSession: async (options) => (await import('./open-session.js')).openMariadbSession(options),
};
