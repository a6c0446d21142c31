/** The git-ignored work directory beside the host directories, where run state and locks live. */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WORK_DIR_NAME } from '../snapshot/layout.js';
import { writeFileAtomic } from '../support/atomic-write.js';

/** `<backupDir>/.schema_backup`, created 0700 with a `.gitignore` of `*` (as a snapshot makes it). */
export async function ensureWorkDirectory(backupDir: string): Promise<string> {
  const workDir = join(backupDir, WORK_DIR_NAME);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const ignoreFile = join(workDir, '.gitignore');
  if (!existsSync(ignoreFile)) await writeFileAtomic(ignoreFile, '*\n');
  return workDir;
}

/** The default run state file: `<backupDir>/.schema_backup/<host>.state.json`. */
export function defaultStateFile(backupDir: string, host: string): string {
  return join(backupDir, WORK_DIR_NAME, `${host}.state.json`);
}

/** The lock every run of `host` takes: the one `snapshot` takes. */
export function hostLockFile(backupDir: string, host: string): string {
  return join(backupDir, WORK_DIR_NAME, `${host}.lock`);
}
