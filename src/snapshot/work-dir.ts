/** The work directory beside the host directories: locks, staging, keys, service records. */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../support/atomic-write.js';
import { WORK_DIR_NAME } from './layout.js';

/** `<backupDir>/.schema_backup`, made if missing. It ignores itself, so nothing in it reaches git. */
export async function ensureWorkDir(workDir: string): Promise<void> {
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const ignoreFile = join(workDir, '.gitignore');
  if (!existsSync(ignoreFile)) await writeFileAtomic(ignoreFile, '*\n');
}

export function workDirOf(backupDir: string): string {
  return join(backupDir, WORK_DIR_NAME);
}
