/**
 * The PostgreSQL engine: its dialect, its script format, its objects and how it connects. Its
 * connections are opened by `open-session.ts`, loaded on the first connection
 * (`load-driver.ts`): a run that connects to MariaDB, or none, does not load pg.
 */
import type { Engine } from '../engine.js';
import { PG_OBJECT_KINDS } from './definitions.js';
import { loadOpenSession } from './load-driver.js';
import { qualifiedName, splitQualifiedName } from './names.js';
import { postgresqlDialect } from './postgresql-dialect.js';
import { postgresqlScriptFormat } from './script-format.js';

export const postgresqlEngine: Engine = {
  name: 'postgresql',
  dialect: postgresqlDialect,
  script: postgresqlScriptFormat,
  objectKinds: PG_OBJECT_KINDS,
  // Extensions and schemas are database-wide; everything else is in a schema: `public.items.sql`.
  fileNameParts: (kind, name) => {
    if (kind === 'extension' || kind === 'schema') return [name];
    const { schema, name: rest } = splitQualifiedName(name);
    return [schema, rest];
  },
  tableNamed: (configName) => {
    const { schema, name } = splitQualifiedName(configName);
    return qualifiedName(schema, name);
  },
  openSession: async (options) => (await loadOpenSession()).openPostgresqlSession(options),
};
