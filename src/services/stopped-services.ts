/**
 * The record of services a run stopped, kept in the work directory so that a run killed
 * with `kill -9` (or a machine that lost power) can still have its services brought back:
 * by the next run, or by `services start --resume`. Written before each stop and after each
 * start, atomically.
 */
import { readFile, unlink } from 'node:fs/promises';
import { writeFileAtomic } from '../support/atomic-write.js';

export interface StoppedServicesRecord {
  readonly format: 1;
  /** The process that owns `stoppedByRun`. */
  readonly pid: number;
  readonly started: string;
  /** What the run was, e.g. `snapshot --model`, `upgrade -- apt-get upgrade`. */
  readonly command: string;
  /** Stopped by a run that is to start them again (or died before it could). */
  readonly stoppedByRun: readonly string[];
  /** Left stopped on purpose (`--target`, `--keep-stopped`, `services stop`). */
  readonly keptStopped: readonly string[];
}

export class StoppedServicesFile {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async read(): Promise<StoppedServicesRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const value = JSON.parse(text) as Record<string, unknown>;
    const names = (list: unknown): string[] =>
      Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : [];
    return {
      format: 1,
      pid: typeof value.pid === 'number' ? value.pid : 0,
      started: typeof value.started === 'string' ? value.started : '',
      command: typeof value.command === 'string' ? value.command : '',
      stoppedByRun: names(value.stoppedByRun),
      keptStopped: names(value.keptStopped),
    };
  }

  /** Writes `record`, or removes the file when it names no service. */
  async write(record: StoppedServicesRecord): Promise<void> {
    if (record.stoppedByRun.length === 0 && record.keptStopped.length === 0) {
      await unlink(this.path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
      return;
    }
    await writeFileAtomic(this.path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  }
}

/** Whether process `pid` still exists (EPERM: it does, under another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
