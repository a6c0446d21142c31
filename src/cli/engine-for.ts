/** The one place a command chooses the engine it hands to a workflow. */
import type { Config } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import { DEFAULT_ENGINE, ENGINES, engineNamed } from '../engine/registry.js';
import { ConfigError, InternalError } from '../errors.js';

/**
 * The engine `database.engine` names (default `mariadb`, which serves MySQL too: their
 * differences are capability flags inside it). Throws ConfigError (exit 2) for a name this
 * build has no engine for. The engine's modules are loaded here, on first use.
 */
export async function engineFor(config: Config): Promise<Engine> {
  const name = config.database.engine ?? DEFAULT_ENGINE;
  const engine = await engineNamed(name);
  if (engine !== undefined) return engine;
  if (config.database.engine === undefined) throw new InternalError(`no engine ${name}`);
  throw new ConfigError(
    { file: config.file, key: 'database.engine' },
    `no engine ${JSON.stringify(name)}; this build has ${Object.keys(ENGINES).join(', ')}`,
  );
}
