/**
 * Issue 21 items 5, 7 and 9: the example config is never used by accident, the options
 * of the MariaDB tools (--defaults-file, --defaults-extra-file, -S, -P, -u, -h) reach the
 * connection, --host became --backup-host (the old spelling warns), and the help says so.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYSTEM_CONFIG_PATH } from '../../src/config/locate-config.js';
import { runBuiltCli, runCli } from '../helpers/run-cli.js';
import { createTempDir } from '../helpers/temp-dir.js';

const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = join(PROJECT_ROOT, 'etc', 'schema_backup.conf');

describe('issue 21 item 5: the example config is never used', () => {
  it.skipIf(existsSync(SYSTEM_CONFIG_PATH))(
    'found by the search (in a checkout of the tool, or a copy that keeps the marker): exit 2, how to point at a real config',
    async () => {
      const dir = await createTempDir('cliflags');
      await mkdir(join(dir, 'etc'));
      await copyFile(EXAMPLE, join(dir, 'etc', 'schema_backup.conf'));
      for (const [cwd, argv] of [
        [PROJECT_ROOT, ['snapshot']],
        [dir, ['check']],
        [dir, ['status']],
      ] as const) {
        const result = runBuiltCli(argv, { cwd, env: { SCHEMA_BACKUP_CONFIG: '' } });
        expect(result.code, `${cwd}: ${argv.join(' ')}: ${result.stderr}`).toBe(2);
        expect(result.stderr).toMatch(/^error: .*etc\/schema_backup\.conf: this is the example/m);
        expect(result.stderr).toMatch(/^hint: .*--config PATH or \$SCHEMA_BACKUP_CONFIG/m);
        expect(result.stderr).toContain('example: true');
      }
      // Nothing was written beside the copy.
      expect(existsSync(join(dir, 'schema_backup'))).toBe(false);
    },
  );

  it('named by --config or $SCHEMA_BACKUP_CONFIG: exit 2 too', async () => {
    const byFlag = await runCli(['check', '--config', EXAMPLE]);
    expect(byFlag.code).toBe(2);
    expect(byFlag.stderr).toContain(`error: ${EXAMPLE}: example: this is the example config`);
    expect(byFlag.stderr).toContain('delete its `example: true` line');
    const byEnv = await runCli(['status'], { SCHEMA_BACKUP_CONFIG: EXAMPLE });
    expect(byEnv.code).toBe(2);
    expect(byEnv.stderr).toContain('this is the example config');
  });
});
