/**
 * Issue 21, item 2: commits whose push failed are pushed by the next run, even one that has
 * nothing to commit, and `status` and the metrics count them meanwhile.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../helpers/database.js';
import { databaseConfigLines } from '../../helpers/config-lines.js';
import { git } from '../../helpers/git-repo.js';
import { runCli } from '../../helpers/run-cli.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'unpushed.example.org';

describe('commits a failed push left behind (issue 21)', () => {
  it('an unreachable remote: runs fail and count the waiting commits; once back, the next run pushes them', async () => {
    const database = await createTestDatabase('unpushed');
    await database.exec('CREATE TABLE settings (k INT PRIMARY KEY, v INT NOT NULL)');
    await database.exec('INSERT INTO settings VALUES (1, 1)');
    const dir = await createTempDir('unpushed');
    const bare = join(dir, 'remote.git');
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
    const clone = join(dir, 'clone');
    execFileSync('git', ['clone', '--quiet', bare, clone], { stdio: 'pipe' });
    git(clone, 'symbolic-ref', 'HEAD', 'refs/heads/main');
    const config = join(dir, 'schema_backup.conf');
    await writeFile(
      config,
      [
        `csv2_backup_dir: ${clone}`,
        `hostname: ${HOST}`,
        ...databaseConfigLines(database.name),
        'git: { push: true }',
        'global: [settings]',
        'metrics: { textfile: node.prom }',
      ].join('\n'),
    );
    const snapshot = (): ReturnType<typeof runCli> => runCli(['--config', config, '--quiet']);
    const status = async (): Promise<{ unpushed?: { commits: number } }> =>
      JSON.parse((await runCli(['status', '--config', config, '--json'])).stdout) as {
        unpushed?: { commits: number };
      };
    const metric = async (): Promise<string | undefined> =>
      /^schema_backup_unpushed_commits\{[^}]*\} (\d+)$/m.exec(
        await readFile(join(dir, 'node.prom'), 'utf8'),
      )?.[1];

    const first = await snapshot();
    expect(first.code, first.stderr).toBe(0);
    expect(git(bare, 'rev-parse', 'main')).toBe(git(clone, 'rev-parse', 'HEAD'));
    expect((await status()).unpushed).toEqual({ remote: 'origin', commits: 0 });

    // The remote goes away; two runs commit and cannot push.
    await rename(bare, `${bare}.away`);
    for (const value of [2, 3]) {
      await database.exec(`UPDATE settings SET v = ${String(value)}`);
      const failed = await snapshot();
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/cannot push to origin .*commits? waits? to be pushed$/m);
      expect(failed.stderr).toMatch(/the next run pushes/i);
    }
    expect((await status()).unpushed).toEqual({ remote: 'origin', commits: 2 });
    expect((await runCli(['status', '--config', config])).stdout).toMatch(
      /^unpushed commits: 2 \(the remote origin lacks them/m,
    );
    expect(await metric()).toBe('2');

    // Back again: a run with nothing to commit pushes both waiting commits.
    await rename(`${bare}.away`, bare);
    const back = await runCli(['--config', config]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(
      /no changes: nothing committed \(pushed 2 waiting commit\(s\) to origin\)/,
    );
    expect(git(bare, 'rev-parse', 'main')).toBe(git(clone, 'rev-parse', 'HEAD'));
    expect(git(bare, 'rev-list', '--count', 'main').trim()).toBe('3');
    expect((await status()).unpushed).toEqual({ remote: 'origin', commits: 0 });
    expect(await metric()).toBe('0');

    // Nothing waits: the next run does not even contact the remote.
    await rename(bare, `${bare}.away`);
    const idle = await snapshot();
    expect(idle.code, idle.stderr).toBe(0);
  });
});
