/** The git-ignored work directory beside the host directories, where run state and locks live. */
import { join } from 'node:path';
import { WORK_DIR_NAME } from '../snapshot/layout.js';
import { ensureWorkDir, workDirOf } from '../snapshot/work-dir.js';

/** `<backupDir>/.schema_backup`, made as a snapshot makes it (0700, ignoring itself in git). */
export async function ensureWorkDirectory(backupDir: string): Promise<string> {
  const workDir = workDirOf(backupDir);
  await ensureWorkDir(workDir);
  return workDir;
}

/** The default run state file: `<backupDir>/.schema_backup/<host>.state.json`. */
export function defaultStateFile(backupDir: string, host: string): string {
  return join(backupDir, WORK_DIR_NAME, `${host}.state.json`);
}
