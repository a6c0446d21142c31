import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  configCandidates,
  locateConfig,
  SYSTEM_CONFIG_PATH,
} from '../../src/config/locate-config.js';
import { ConfigError } from '../../src/errors.js';
import { createTempDir } from '../helpers/temp-dir.js';

async function touch(path: string): Promise<string> {
  await writeFile(path, '# config\n');
  return path;
}

/** A temp dir with `etc/schema_backup.conf`, `explicit.conf` and `env.conf`. */
async function fullSetup(): Promise<{
  cwd: string;
  local: string;
  explicit: string;
  fromEnv: string;
}> {
  const cwd = await createTempDir('locate');
  await mkdir(join(cwd, 'etc'));
  return {
    cwd,
    local: await touch(join(cwd, 'etc', 'schema_backup.conf')),
    explicit: await touch(join(cwd, 'explicit.conf')),
    fromEnv: await touch(join(cwd, 'env.conf')),
  };
}

describe('configCandidates', () => {
  it('is only the explicit path when one is given, resolved against cwd', () => {
    expect(
      configCandidates({ explicitPath: 'a/b.conf', environmentPath: '/env.conf', cwd: '/work' }),
    ).toEqual(['/work/a/b.conf']);
    expect(configCandidates({ explicitPath: '/abs.conf', cwd: '/work' })).toEqual(['/abs.conf']);
  });

  it('is only the environment path when no explicit path is given', () => {
    expect(configCandidates({ environmentPath: 'rel.conf', cwd: '/work' })).toEqual([
      '/work/rel.conf',
    ]);
  });

  it('ignores an empty environment path', () => {
    expect(configCandidates({ environmentPath: '', cwd: '/work' })).toEqual([
      '/work/etc/schema_backup.conf',
      SYSTEM_CONFIG_PATH,
    ]);
  });

  it('is ./etc/schema_backup.conf then the system path by default', () => {
    expect(SYSTEM_CONFIG_PATH).toBe('/etc/schema_backup/schema_backup.conf');
    expect(configCandidates({ cwd: '/work' })).toEqual([
      '/work/etc/schema_backup.conf',
      SYSTEM_CONFIG_PATH,
    ]);
  });
});

describe('locateConfig', () => {
  it('prefers the explicit path over the environment and ./etc', async () => {
    const { cwd, explicit } = await fullSetup();
    expect(
      await locateConfig({ explicitPath: 'explicit.conf', environmentPath: 'env.conf', cwd }),
    ).toBe(explicit);
  });

  it('uses the environment path when there is no explicit one', async () => {
    const { cwd, fromEnv } = await fullSetup();
    expect(await locateConfig({ environmentPath: 'env.conf', cwd })).toBe(fromEnv);
    expect(
      await locateConfig({ explicitPath: undefined, environmentPath: fromEnv, cwd: '/' }),
    ).toBe(fromEnv);
  });

  it('uses ./etc/schema_backup.conf relative to cwd when neither is given', async () => {
    const { cwd, local } = await fullSetup();
    expect(await locateConfig({ cwd })).toBe(local);
    expect(await locateConfig({ environmentPath: '', cwd })).toBe(local);
  });

  it('fails when an explicit path does not exist, even if others do', async () => {
    const { cwd } = await fullSetup();
    const promise = locateConfig({
      explicitPath: 'missing.conf',
      environmentPath: 'env.conf',
      cwd,
    });
    await expect(promise).rejects.toBeInstanceOf(ConfigError);
    await expect(promise).rejects.toMatchObject({
      exitCode: 2,
      location: { file: join(cwd, 'missing.conf') },
      message: `${join(cwd, 'missing.conf')}: config file not found`,
    });
  });

  it('fails when the environment path does not exist, even if ./etc has one', async () => {
    const { cwd } = await fullSetup();
    await expect(locateConfig({ environmentPath: 'missing.conf', cwd })).rejects.toMatchObject({
      exitCode: 2,
      location: { file: join(cwd, 'missing.conf') },
    });
  });

  it('falls back to the system path, and fails naming both when neither exists', async () => {
    const cwd = await createTempDir('locate');
    if (existsSync(SYSTEM_CONFIG_PATH)) {
      expect(await locateConfig({ cwd })).toBe(SYSTEM_CONFIG_PATH);
      return;
    }
    const promise = locateConfig({ cwd });
    await expect(promise).rejects.toBeInstanceOf(ConfigError);
    const error = (await promise.catch((caught: unknown) => caught)) as ConfigError;
    expect(error.exitCode).toBe(2);
    expect(error.location.file).toBe(
      `${join(cwd, 'etc/schema_backup.conf')} or ${SYSTEM_CONFIG_PATH}`,
    );
    expect(error.message).toContain('no config file found');
    expect(error.hint).toContain('--config');
    expect(error.hint).toContain('SCHEMA_BACKUP_CONFIG');
  });

  it('skips a config marked `example: true` in the search, and fails when it is the only one', async () => {
    const { cwd, local } = await fullSetup();
    await writeFile(local, '# the example\nexample: true\ndatabase: { name: x }\n');
    if (existsSync(SYSTEM_CONFIG_PATH)) {
      expect(await locateConfig({ cwd })).toBe(SYSTEM_CONFIG_PATH);
      return;
    }
    const error = (await locateConfig({ cwd }).catch((caught: unknown) => caught)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.exitCode).toBe(2);
    expect(error.location.file).toBe(local);
    expect(error.message).toContain('example config');
    expect(error.hint).toContain('--config');
    expect(error.hint).toContain('$SCHEMA_BACKUP_CONFIG');
    expect(error.hint).toContain('example: true');
  });

  it('uses a config whose example key is false, or whose YAML is broken (loading reports it)', async () => {
    const { cwd, local } = await fullSetup();
    await writeFile(local, 'example: false\n');
    expect(await locateConfig({ cwd })).toBe(local);
    await writeFile(local, 'example: [true\n');
    expect(await locateConfig({ cwd })).toBe(local);
  });

  it('returns an explicit path to an example (loading it refuses it)', async () => {
    const { cwd, explicit } = await fullSetup();
    await writeFile(explicit, 'example: true\n');
    expect(await locateConfig({ explicitPath: 'explicit.conf', cwd })).toBe(explicit);
  });
});
