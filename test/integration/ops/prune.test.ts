/** prune on real directories: user-data copies, dumps by series, `.keep` sidecars, `latest`. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listDumps, markManual, prune } from '../../../src/ops/prune.js';
import { silentLogger } from '../../../src/support/logger.js';
import { copyTimestamp, findCopy, listCopies } from '../../../src/snapshot/user-data-copy.js';
import { runCli } from '../../helpers/run-cli.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const DAY = 86_400_000;
const HOST = 'prune.example.org';

/** Timestamps of one run a day at 02:30 UTC for `days` days ending 2026-11-24. */
function nightlyTimes(days: number): Date[] {
  const end = new Date('2026-11-24T02:30:00Z').getTime();
  return Array.from({ length: days }, (_, index) => new Date(end - index * DAY));
}

/** A user-data host directory with one complete copy per time, `latest` at `latest`. */
async function makeCopies(root: string, times: readonly Date[], latest: Date): Promise<string> {
  const hostDir = join(root, HOST);
  await mkdir(hostDir, { recursive: true });
  for (const time of times) {
    const dir = join(hostDir, copyTimestamp(time));
    await mkdir(dir);
    await writeFile(join(dir, 'users.sql.age'), 'x'.repeat(100));
    await writeFile(join(dir, 'manifest.json'), '{}\n');
  }
  await symlink(copyTimestamp(latest), join(hostDir, 'latest'));
  return hostDir;
}

describe('prune', () => {
  it('keeps 30/12/12 of 400 nightly user-data copies, plus manual ones and what latest points at', async () => {
    const root = await createTempDir('prune');
    const times = nightlyTimes(400);
    const oldLatest = new Date('2026-02-15T02:30:00Z'); // as after a restore-and-relink
    const hostDir = await makeCopies(root, times, oldLatest);
    await markManual(join(hostDir, copyTimestamp(new Date('2025-11-01T02:30:00Z'))));
    await mkdir(join(hostDir, '.incomplete-2026-11-24T03-00-00Z-abcd'));
    await mkdir(join(hostDir, '.pruning-2020-01-01T00-00-00Z')); // a deletion cut short

    const dry = await prune({
      host: HOST,
      userDataDir: root,
      policy: { daily: 30, weekly: 12, monthly: 12 },
      dryRun: true,
      logger: silentLogger,
    });
    expect(dry.toDelete).toBe(400 - 47 - 2);
    expect(dry.bytesToFree).toBe(dry.toDelete * 103);
    // Nothing is deleted in a dry run (issue 21: it said `deleted: 351`).
    expect(dry).toMatchObject({ deleted: 0, bytesFreed: 0 });
    expect(await listCopies(hostDir)).toHaveLength(400);

    const result = await prune({
      host: HOST,
      userDataDir: root,
      policy: { daily: 30, weekly: 12, monthly: 12 },
      dryRun: false,
      logger: silentLogger,
    });
    expect(result.deleted).toBe(351);
    const left = await listCopies(hostDir);
    expect(left).toHaveLength(49);
    expect(left).toContain('2026-02-15T02-30-00Z');
    expect(left).toContain('2025-11-01T02-30-00Z');
    expect(left.at(-1)).toBe('2026-11-24T02-30-00Z');
    expect(left[0]).toBe('2025-11-01T02-30-00Z');
    const reasons = Object.fromEntries(
      (result.sets[0]?.keep ?? []).map((item) => [item.name, item.reasons]),
    );
    expect(reasons['2026-02-15T02-30-00Z']).toEqual(['protected']);
    expect(reasons['2025-11-01T02-30-00Z']).toEqual(['manual']);
    // The hidden copy in progress, the sidecar and latest are untouched.
    const names = await readdir(hostDir);
    expect(names).toContain('.incomplete-2026-11-24T03-00-00Z-abcd');
    expect(names).toContain('2025-11-01T02-30-00Z.keep');
    expect(names).toContain('latest');
    expect(names).not.toContain('.pruning-2020-01-01T00-00-00Z');
    expect(names.filter((name) => name.startsWith('.'))).toEqual([
      '.incomplete-2026-11-24T03-00-00Z-abcd',
    ]);

    // A second prune has nothing left to do.
    const again = await prune({
      host: HOST,
      userDataDir: root,
      policy: { daily: 30, weekly: 12, monthly: 12 },
      dryRun: false,
      logger: silentLogger,
    });
    expect(again.deleted).toBe(0);
  });

  it('listCopies and findCopy ignore .keep sidecars', async () => {
    const root = await createTempDir('prune');
    const times = nightlyTimes(2);
    const hostDir = await makeCopies(root, times, times[0]!);
    await markManual(join(hostDir, copyTimestamp(times[1]!)));
    expect(await listCopies(hostDir)).toEqual(['2026-11-23T02-30-00Z', '2026-11-24T02-30-00Z']);
    expect((await findCopy(root, HOST, 'latest')).dir).toBe(join(hostDir, '2026-11-24T02-30-00Z'));
    await expect(findCopy(root, HOST, '2026-11-23T02-30-00Z.keep')).rejects.toThrow(
      /no user-data copy/,
    );
  });

  it('never deletes the newest complete copy, even when an incomplete one is newer', async () => {
    const root = await createTempDir('prune');
    const times = nightlyTimes(3);
    const hostDir = await makeCopies(root, times, times[2]!);
    // The newest has no manifest (damaged): the newest complete one is kept as well.
    const damaged = join(hostDir, copyTimestamp(new Date('2026-11-25T02:30:00Z')));
    await mkdir(damaged);
    const result = await prune({
      host: HOST,
      userDataDir: root,
      policy: { daily: 1, weekly: 0, monthly: 0 },
      dryRun: false,
      logger: silentLogger,
    });
    expect(await listCopies(hostDir)).toEqual([
      '2026-11-22T02-30-00Z', // latest
      '2026-11-24T02-30-00Z', // newest complete
      '2026-11-25T02-30-00Z', // newest (daily)
    ]);
    expect(result.deleted).toBe(1);
  });

  it('prunes dumps per series, only of this host, never hidden entries or .keep sidecars', async () => {
    const dumpDir = await createTempDir('dumps');
    const times = nightlyTimes(40);
    const made: string[] = [];
    for (const time of times) {
      const stamp = copyTimestamp(time);
      for (const name of [
        `${HOST}_csv2_${stamp}.sql.zst.age`,
        `${HOST}_csv2_audit_${stamp}.sql.gz`,
        `other.example.org_csv2_${stamp}.sql`,
      ]) {
        await writeFile(join(dumpDir, name), 'dump');
        made.push(name);
      }
    }
    // A directory dump, a dump in progress and a manual one.
    await mkdir(join(dumpDir, `${HOST}_csv2_2020-01-01T00-00-00Z`));
    await writeFile(join(dumpDir, `.${HOST}_csv2_2026-11-24T05-00-00Z.sql.tmp`), 'partial');
    const manual = `${HOST}_csv2_audit_${copyTimestamp(times[39]!)}.sql.gz`;
    await markManual(join(dumpDir, manual));

    const series = await listDumps(dumpDir, HOST);
    expect([...series.keys()].sort()).toEqual([`${HOST}_csv2`, `${HOST}_csv2_audit`]);
    expect(series.get(`${HOST}_csv2`)).toHaveLength(41);

    const result = await prune({
      host: HOST,
      dumpDir,
      policy: { daily: 7, weekly: 0, monthly: 0 },
      dryRun: false,
      logger: silentLogger,
    });
    expect(result.sets.map((set) => [set.series, set.keep.length, set.drop.length])).toEqual([
      [`${HOST}_csv2`, 7, 34],
      [`${HOST}_csv2_audit`, 8, 32],
    ]);
    const left = await readdir(dumpDir);
    expect(left.filter((name) => name.startsWith('other.'))).toHaveLength(40);
    expect(left).toContain(`.${HOST}_csv2_2026-11-24T05-00-00Z.sql.tmp`);
    expect(left).toContain(manual);
    expect(left).toContain(`${manual}.keep`);
    expect(existsSync(join(dumpDir, `${HOST}_csv2_2020-01-01T00-00-00Z`))).toBe(false);
  });

  it('prune --dry-run and prune from the command line, with the retention block of the config', async () => {
    const dir = await createTempDir('prune-cli');
    const root = join(dir, 'user_data');
    const hostDir = await makeCopies(root, nightlyTimes(20), nightlyTimes(1)[0]!);
    const config = join(dir, 'schema_backup.conf');
    await writeFile(
      config,
      [
        'csv2_backup_dir: backups',
        `hostname: ${HOST}`,
        'user_data_backup_dir: user_data',
        'retention:',
        '  daily: 5',
        '  weekly: 0',
        '  monthly: 0',
      ].join('\n'),
    );
    const dry = await runCli(['prune', '--config', config, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('keep 5, would delete 15');
    expect(dry.stdout).toContain('would delete 2026-11-05T02-30-00Z');
    // Each once, on stdout only (issue 21: also on stderr, also with --json).
    expect(dry.stdout.match(/would delete 2026-11-05T02-30-00Z/g)).toHaveLength(1);
    expect(dry.stderr).toBe('');
    const dryJson = await runCli(['prune', '--config', config, '--dry-run', '--json']);
    expect(dryJson.stderr).toBe('');
    expect(JSON.parse(dryJson.stdout)).toMatchObject({ dryRun: true, deleted: 0, toDelete: 15 });
    expect(await listCopies(hostDir)).toHaveLength(20);

    const json = await runCli(['prune', '--config', config, '--json']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { deleted: number; dryRun: boolean };
    expect(result).toMatchObject({ deleted: 15, dryRun: false });
    expect(await listCopies(hostDir)).toEqual(
      nightlyTimes(5)
        .map((time) => copyTimestamp(time))
        .sort(),
    );
    expect(existsSync(join(dir, 'backups/.schema_backup/.gitignore'))).toBe(true);
  });
});
