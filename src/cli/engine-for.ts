/** The one place a command chooses the engine it hands to a workflow. */
import type { Config } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import { DEFAULT_ENGINE, engineNamed } from '../engine/registry.js';
import { InternalError } from '../errors.js';

/**
 * The engine of the server `config` describes. The config has no engine key yet: every
 * server is MariaDB or MySQL, which one engine serves (their differences are capability
 * flags inside it). A key `database.engine` would be read here, and nowhere else.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- read once the config names engines
export function engineFor(config: Config): Engine {
  const engine = engineNamed(DEFAULT_ENGINE);
  if (engine === undefined) throw new InternalError(`no engine ${DEFAULT_ENGINE}`);
  return engine;
}
