/**
 * The PostgreSQL engine: its dialect, its script format and how it connects. Not in the
 * registry yet: the workflows take it once the engine interface carries per-engine object
 * kinds and schema-qualified names (#16).
 */
import type { Engine } from '../engine.js';
import { openPostgresqlSession } from './open-session.js';
import { postgresqlDialect } from './postgresql-dialect.js';
import { postgresqlScriptFormat } from './script-format.js';

export const postgresqlEngine: Engine = {
  name: 'postgresql',
  dialect: postgresqlDialect,
  script: postgresqlScriptFormat,
  openSession: (options) => openPostgresqlSession(options),
};
