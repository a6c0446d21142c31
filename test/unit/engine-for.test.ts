/** The one place a command chooses its engine: `database.engine`, default mariadb. */
import { describe, expect, it } from 'vitest';
import { engineFor } from '../../src/cli/engine-for.js';
import { parseConfig } from '../../src/config/load-config.js';
import { ENGINE_NAMES, type EngineName } from '../../src/config/schema.js';
import { mariadbEngine } from '../../src/engine/mariadb/mariadb-engine.js';
import { ENGINES } from '../../src/engine/registry.js';
import { ConfigError } from '../../src/errors.js';

const FILE = '/etc/schema_backup/schema_backup.conf';

describe('engineFor', () => {
  it('is mariadb when the config names no engine, and when it names mariadb', async () => {
    await expect(engineFor(parseConfig('database:\n  name: app\n', FILE).config)).resolves.toBe(
      mariadbEngine,
    );
    await expect(
      engineFor(parseConfig('database:\n  name: app\n  engine: mariadb\n', FILE).config),
    ).resolves.toBe(mariadbEngine);
  });

  it('loads the engine a config names (the PostgreSQL engine only for postgresql)', async () => {
    const { postgresqlEngine } = await import('../../src/engine/postgresql/postgresql-engine.js');
    await expect(
      engineFor(parseConfig('database:\n  name: app\n  engine: postgresql\n', FILE).config),
    ).resolves.toBe(postgresqlEngine);
  });

  it('an unknown engine is refused when the config is read, with its line (exit 2)', () => {
    const text = 'database:\n  name: app\n  engine: oracle\n';
    expect(() => parseConfig(text, FILE)).toThrow(ConfigError);
    expect(() => parseConfig(text, FILE)).toThrow(
      `${FILE}:3: database.engine: unknown engine "oracle"`,
    );
  });

  it('refuses an engine this build does not have, naming the key (exit 2)', async () => {
    const { config } = parseConfig('database:\n  name: app\n', FILE);
    const other = { ...config, database: { ...config.database, engine: 'oracle' as EngineName } };
    await expect(engineFor(other)).rejects.toThrow(ConfigError);
    await expect(engineFor(other)).rejects.toThrow(
      /database\.engine.*no engine "oracle"; this build has mariadb/,
    );
  });

  it('every engine of the registry is one the config may name', () => {
    for (const name of Object.keys(ENGINES))
      expect(ENGINE_NAMES as readonly string[]).toContain(name);
  });
});
