/** The one place a command chooses its engine: `database.engine`, default mariadb. */
import { describe, expect, it } from 'vitest';
import { engineFor } from '../../src/cli/engine-for.js';
import { parseConfig } from '../../src/config/load-config.js';
import { mariadbEngine } from '../../src/engine/mariadb/mariadb-engine.js';
import { ConfigError } from '../../src/errors.js';

const FILE = '/etc/schema_backup/schema_backup.conf';

describe('engineFor', () => {
  it('is mariadb when the config names no engine, and when it names mariadb', () => {
    expect(engineFor(parseConfig('database:\n  name: app\n', FILE).config)).toBe(mariadbEngine);
    expect(engineFor(parseConfig('database:\n  name: app\n  engine: mariadb\n', FILE).config)).toBe(
      mariadbEngine,
    );
  });

  it('refuses an engine this build does not have, naming the key (exit 2)', () => {
    const { config } = parseConfig('database:\n  name: app\n  engine: oracle\n', FILE);
    expect(() => engineFor(config)).toThrow(ConfigError);
    expect(() => engineFor(config)).toThrow(
      /database\.engine.*no engine "oracle"; this build has mariadb/,
    );
  });
});
