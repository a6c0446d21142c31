/**
 * The engines this build knows, by the name a config gives them. Adding an engine is a new
 * folder under `src/engine/` and one line here.
 *
 * Each engine's modules are loaded when a command first asks for it: a MariaDB run does not
 * load the PostgreSQL engine (about 200 KB of JavaScript, 20 modules), nor the reverse.
 *
 * Must not import git, age, YAML, the config or the CLI; only `support/` and `errors.ts`.
 */
import type { Engine } from './engine.js';

/** The engine kinds, by name (each loads its engine); `mariadb` also serves MySQL. */
export const ENGINES: Readonly<Record<string, () => Promise<Engine>>> = {
  mariadb: async () => (await import('./mariadb/mariadb-engine.js')).mariadbEngine,
  postgresql: async () => (await import('./postgresql/postgresql-engine.js')).postgresqlEngine,
};

/** The engine a config names when it names none. */
export const DEFAULT_ENGINE = 'mariadb';

/** The engine called `name`; undefined for a name this build does not know. */
export async function engineNamed(name: string): Promise<Engine | undefined> {
  return Object.hasOwn(ENGINES, name) ? await ENGINES[name]?.() : undefined;
}
