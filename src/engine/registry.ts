/**
 * The engines this build knows, by the name a config gives them. Adding an engine is a new
 * folder under `src/engine/` and one line here.
 *
 * Must not import git, age, YAML, the config or the CLI; only `support/` and `errors.ts`.
 */
import type { Engine } from './engine.js';
import { mariadbEngine } from './mariadb/mariadb-engine.js';
import { postgresqlEngine } from './postgresql/postgresql-engine.js';

/** The engine kinds, by name; `mariadb` also serves MySQL. */
export const ENGINES: Readonly<Record<string, Engine>> = {
  mariadb: mariadbEngine,
  postgresql: postgresqlEngine,
};

/** The engine a config names when it names none. */
export const DEFAULT_ENGINE = 'mariadb';

/** The engine called `name`; undefined for a name this build does not know. */
export function engineNamed(name: string): Engine | undefined {
  return Object.hasOwn(ENGINES, name) ? ENGINES[name] : undefined;
}
