/**
 * The published package works on plain Node: `npm pack`, install the tarball into an empty
 * project, run `schema_backup --help`. Catches files missing from `files`, a dependency
 * listed as a devDependency, and a bin that is not executable. Slow (an npm install).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTempDir } from '../helpers/temp-dir.js';

const ROOT = join(import.meta.dirname, '../..');

describe('the npm package', { tags: ['slow'] }, () => {
  it('installs from its tarball and runs schema_backup --help', { timeout: 300_000 }, async () => {
    const dir = await createTempDir('pack');
    const npmEnv = {
      ...process.env,
      npm_config_loglevel: 'error',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
    // The dist/ the suite runs (`npm run build` first, as for every e2e test): npm pack's
    // `prepare` would rebuild it, emptying dist/ under the tests that run it meanwhile.
    expect(existsSync(join(ROOT, 'dist/cli/main.js'))).toBe(true);
    const pack = ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir];
    const tarball = execFileSync('npm', pack, {
      cwd: ROOT,
      env: npmEnv,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .at(-1);
    expect(tarball).toMatch(/^schema_backup-.*\.tgz$/);
    const project = join(dir, 'project');
    execFileSync('mkdir', [project]);
    await writeFile(join(project, 'package.json'), '{"name":"pack-test","private":true}\n');
    execFileSync('npm', ['install', '--no-save', '--prefer-offline', join(dir, tarball ?? '')], {
      cwd: project,
      env: npmEnv,
      stdio: 'pipe',
    });
    const bin = join(project, 'node_modules/.bin/schema_backup');
    expect(existsSync(bin)).toBe(true);
    const help = execFileSync(bin, ['--help'], { cwd: project, encoding: 'utf8' });
    expect(help).toContain('schema_backup [command] [options]');
    expect(help).toContain('keygen');
  });
});
