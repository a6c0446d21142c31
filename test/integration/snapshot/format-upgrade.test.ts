/**
 * Snapshots of the previous file format (1: rows without a transaction, sequences without
 * their state) keep restoring, manifest checks included; the first snapshot over them
 * rewrites the files in one commit whose message says why, and calls no table reordered.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mariadbEngine } from '../../../src/engine/mariadb/mariadb-engine.js';
import { restoreSnapshot } from '../../../src/restore/restore-snapshot.js';
import { directorySource } from '../../../src/restore/snapshot-source.js';
import { verifySnapshot } from '../../../src/restore/verify-snapshot.js';
import { MANIFEST_FILE, type SnapshotManifest } from '../../../src/snapshot/manifest.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { silentLogger } from '../../../src/support/logger.js';
import { OBJECTS_SQL } from '../../fixtures/schema-objects.js';
import { connectionTo, createTestDatabase } from '../../helpers/database.js';
import { git } from '../../helpers/git-repo.js';
import { restoreOptionsForTest } from '../../helpers/restore.js';
import { snapshotOptionsForTest } from '../../helpers/snapshot-options.js';
import { createTempDir } from '../../helpers/temp-dir.js';

const HOST = 'test.example.org';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Rewrites a host directory as the writer of format 1 wrote it: no transaction lines, no
 * sequence state, no client character set around objects, no database defaults file, and the
 * manifest's checksums of that text.
 */
async function rewriteAsFormat1(hostDir: string): Promise<void> {
  const manifest = JSON.parse(
    await readFile(join(hostDir, MANIFEST_FILE), 'utf8'),
  ) as SnapshotManifest;
  const tables = { ...manifest.tables };
  const objects = { ...manifest.objects };
  delete objects['database.defaults.sql'];
  await rm(join(hostDir, 'database.defaults.sql'));
  for (const file of await readdir(hostDir)) {
    if (!file.endsWith('.sql')) continue;
    let names = 0;
    const text = (await readFile(join(hostDir, file), 'utf8'))
      .split('\n')
      .filter(
        (line) =>
          line !== 'START TRANSACTION;' &&
          line !== 'COMMIT;' &&
          !line.startsWith('DO SETVAL(') &&
          !line.startsWith('-- state: ') &&
          // The client character set around an object's CREATE (the preamble's SET NAMES stays).
          !line.startsWith('SET character_set_client = ') &&
          !line.startsWith('SET collation_connection = ') &&
          !line.startsWith('-- created under client character set ') &&
          !(line === 'SET NAMES utf8mb4;' && (names += 1) > 1),
      )
      .join('\n');
    await writeFile(join(hostDir, file), text);
    if (file in objects) objects[file] = sha256(text);
    const table = file.replace(/\.sql$/, '');
    const entry = tables[table];
    if (entry?.sha256 !== undefined) {
      // The rows part: everything after the line that ends the CREATE TABLE.
      const end = text.indexOf('\n', text.indexOf(';\n', text.indexOf('CREATE TABLE')) + 1) + 1;
      tables[table] = { ...entry, sha256: sha256(text.slice(end)) };
    }
  }
  await writeFile(
    join(hostDir, MANIFEST_FILE),
    `${JSON.stringify({ format: 1, tables, objects }, null, 2)}\n`,
  );
}

describe('file format 1 to 2', () => {
  it('restores a format 1 snapshot, and its first snapshot after says why every file changed', async () => {
    const source = await createTestDatabase('fmt');
    for (const statement of OBJECTS_SQL) await source.exec(statement);
    const backupDir = await createTempDir('fmt');
    const options = snapshotOptionsForTest({
      database: source.name,
      backupDir,
      categories: { global: ['nopk', 'parent', 'child', 'uniq', 'audit'] },
    });
    const first = await takeSnapshot(mariadbEngine, options);
    expect(first.git).toBe('committed');
    const formatTwo = await readFile(join(first.hostDir, 'parent.sql'), 'utf8');
    expect(formatTwo).toContain('\nSTART TRANSACTION;\nINSERT INTO `parent`');
    expect(formatTwo.endsWith(');\nCOMMIT;\n')).toBe(true);

    await rewriteAsFormat1(first.hostDir);
    git(
      backupDir,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@example.org',
      'commit',
      '-q',
      '-am',
      'a snapshot of format 1',
    );
    expect(await readFile(join(first.hostDir, 'parent.sql'), 'utf8')).not.toContain('COMMIT');

    // The old files restore, every file checked against the old manifest.
    const target = await createTestDatabase('fmtdst');
    const mismatches: unknown[] = [];
    await restoreSnapshot(
      mariadbEngine,
      restoreOptionsForTest({
        target: target.name,
        source: directorySource(first.hostDir),
        onMismatch: (mismatch) => mismatches.push(mismatch),
      }),
    );
    expect(mismatches).toEqual([]);
    expect(await target.checksums()).toEqual(await source.checksums());

    // And verify, restored and live: compared with files of their own format, no difference.
    for (const mode of ['restore', 'live'] as const) {
      const verified = await verifySnapshot(mariadbEngine, {
        connection: connectionTo(source.name),
        source: directorySource(first.hostDir),
        mode,
        liveDatabase: source.name,
        fallbackCategories: { global: [], local: [], ephemeral: [], ignore: [] },
        host: HOST,
        parallel: 2,
        logger: silentLogger,
      });
      expect(verified.differences, mode).toEqual([]);
    }

    // The first snapshot of format 2: one commit, and a message that says why.
    const second = await takeSnapshot(mariadbEngine, options);
    expect(second.git).toBe('committed');
    const message = git(backupDir, 'log', '-1', '--format=%B');
    // Every object file gains its client character set, and the defaults file comes.
    expect(message.split('\n')[0]).toBe(
      'snapshot test.example.org: file format 1 -> 2, 8 other objects changed',
    );
    expect(message).toContain(`Database defaults added: ${source.name}\n`);
    expect(message).toContain('File format: 1 -> 2.');
    expect(message).not.toContain('reordered');
    expect(await readFile(join(second.hostDir, 'parent.sql'), 'utf8')).toBe(formatTwo);

    // And after that, no change, no commit.
    const third = await takeSnapshot(mariadbEngine, options);
    expect(third.git).toBe('no-changes');
  });
});
