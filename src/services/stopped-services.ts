/**
 * The record of services a run stopped, kept in the work directory so that a run killed
 * with `kill -9` (or a machine that lost power) can still have its services brought back:
 * by the next run, or by `services start --resume`. Written before each stop and after each
 * start, atomically. The owner is recorded with its process start time and boot id, so a
 * pid reused by another process (pid 1 in every container) is not taken for the owner.
 */
import { readFile, unlink } from 'node:fs/promises';
import { ServiceError } from '../errors.js';
import { writeFileAtomic } from '../support/atomic-write.js';
import type { ProcessIdentity } from '../support/process-identity.js';

export interface StoppedServicesRecord {
  readonly format: 1;
  /** The process that owns `stoppedByRun`. */
  readonly owner: ProcessIdentity;
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

  /** The record, or undefined when there is none. A damaged one is a ServiceError naming it. */
  async read(): Promise<StoppedServicesRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new ServiceError(`the record of stopped services ${this.path} is damaged`, {
        hint: 'It lists services an earlier run stopped. Start what is stopped by hand (schema_backup services start starts every consumer), then remove the file.',
      });
    const record = value as Record<string, unknown>;
    const owner = (record.owner ?? {}) as Record<string, unknown>;
    const names = (list: unknown): string[] =>
      Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : [];
    const text_ = (field: unknown): string | undefined =>
      typeof field === 'string' ? field : undefined;
    return {
      format: 1,
      owner: {
        pid: typeof owner.pid === 'number' ? owner.pid : 0,
        startTicks: text_(owner.startTicks),
        bootId: text_(owner.bootId),
      },
      started: text_(record.started) ?? '',
      command: text_(record.command) ?? '',
      stoppedByRun: names(record.stoppedByRun),
      keptStopped: names(record.keptStopped),
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
