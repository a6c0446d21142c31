/** Which user-data copy a restore of an older revision uses. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseCopy } from '../../src/cli/commands/restore.js';
import type { Config } from '../../src/config/schema.js';
import { createTempDir } from '../helpers/temp-dir.js';

describe('chooseCopy', () => {
  it('takes the named copy, else the newest made by the commit time, else latest', async () => {
    const dir = await createTempDir('copies');
    for (const name of ['2026-01-01T00-00-00Z', '2026-02-01T00-00-00Z', '2026-03-01T12-30-00Z']) {
      await mkdir(join(dir, 'h.example.org', name), { recursive: true });
    }
    const config = { userDataBackupDir: dir } as Config;
    expect(
      await chooseCopy(config, 'h.example.org', '2026-01-01T00-00-00Z', new Date('2026-03-05')),
    ).toBe('2026-01-01T00-00-00Z');
    expect(
      await chooseCopy(config, 'h.example.org', undefined, new Date('2026-02-15T00:00:00Z')),
    ).toBe('2026-02-01T00-00-00Z');
    expect(
      await chooseCopy(config, 'h.example.org', undefined, new Date('2026-03-01T12:30:00Z')),
    ).toBe('2026-03-01T12-30-00Z');
    expect(await chooseCopy(config, 'h.example.org', undefined, new Date('2025-12-31'))).toBe(
      'latest',
    );
    expect(await chooseCopy(config, 'h.example.org', undefined, undefined)).toBe('latest');
  });
});
