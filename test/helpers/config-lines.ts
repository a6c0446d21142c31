/** Lines of a test config: the `database:` block that points at the test server. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testServer } from './database.js';

export function databaseConfigLines(database: string): string[] {
  const server = testServer();
  return [
    'database:',
    `  name: ${database}`,
    `  host: ${server.host}`,
    `  port: ${String(server.port)}`,
    `  user: ${server.user}`,
  ];
}

/**
 * Writes `<dir>/schema_backup.conf` for a CLI test: snapshots of `database` into
 * `<dir>/backups` (a repository the first run creates) under host directory `host`, then
 * `lines` (categories, services, …). Returns the config's path.
 */
export async function writeTestConfig(
  dir: string,
  host: string,
  database: string,
  lines: readonly string[],
): Promise<string> {
  const config = join(dir, 'schema_backup.conf');
  await writeFile(
    config,
    [
      'csv2_backup_dir: backups',
      `hostname: ${host}`,
      ...databaseConfigLines(database),
      'git:',
      '  init: true',
      ...lines,
      '',
    ].join('\n'),
  );
  return config;
}
