/**
 * The run state of a host: for each command that runs unattended, its last run, its last
 * successful run and the number of failures since; and the uncategorized tables the last
 * snapshot saw. A JSON file, by default `<backup dir>/.schema_backup/<host>.state.json`
 * (git-ignored), written atomically under a lock of its own.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SchemaBackupError } from '../errors.js';
import { writeFileAtomic } from '../support/atomic-write.js';
import { acquireLock } from '../support/lock.js';
import type { RunRecord } from './run-journal.js';

const STATE_FORMAT = 1;

export interface CommandState {
  readonly lastRun: RunRecord;
  readonly lastSuccess?: RunRecord | undefined;
  /** Failed runs since the last success (0 after a success). */
  readonly consecutiveFailures: number;
}

export interface RunState {
  readonly format: number;
  readonly host: string;
  /** By {@link stateKeyOf}: the command name (`snapshot`, `dump`, `upgrade`), or `dump:<series>`. */
  readonly commands: Readonly<Record<string, CommandState>>;
  /** Tables in no category at the last run that looked (with when it looked). */
  readonly uncategorized?:
    { readonly tables: readonly string[]; readonly seenAt: string } | undefined;
}

/**
 * The state in `file`: undefined when there is none yet. A file that is not valid state
 * (damaged, another format) throws, so that it is not silently overwritten.
 */
export async function readRunState(file: string): Promise<RunState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  let state: Partial<RunState> | null = null;
  try {
    state = JSON.parse(text) as Partial<RunState> | null;
  } catch {
    // Reported below, as any other content that is not run state.
  }
  if (state?.format !== STATE_FORMAT || typeof state.commands !== 'object')
    throw new SchemaBackupError(`${file} is not a schema_backup run state`, {
      hint: 'It is damaged or from another version: move it away; the next run writes a new one.',
    });
  return state as RunState;
}

/**
 * The key of `record`'s entry in {@link RunState.commands}: its command, and its series when
 * it has one (`dump:shop`), so that dumps of different databases do not overwrite each other.
 */
export function stateKeyOf(record: Pick<RunRecord, 'command' | 'series'>): string {
  return record.series === undefined ? record.command : `${record.command}:${record.series}`;
}

/** `state` with `record` added: pure. */
export function withRun(state: RunState | undefined, record: RunRecord): RunState {
  const previous = state?.commands[stateKeyOf(record)];
  const success = record.outcome === 'success';
  const uncategorized = record.summary.uncategorized;
  return {
    format: STATE_FORMAT,
    host: record.host,
    commands: {
      ...state?.commands,
      [stateKeyOf(record)]: {
        lastRun: record,
        lastSuccess: success ? record : previous?.lastSuccess,
        consecutiveFailures: success ? 0 : (previous?.consecutiveFailures ?? 0) + 1,
      },
    },
    uncategorized:
      uncategorized === undefined
        ? state?.uncategorized
        : { tables: [...uncategorized], seenAt: record.finishedAt },
  };
}

/**
 * Adds `record` to the state in `file` (read, update, atomic write, under `<file>.lock` so
 * two runs never lose each other's record). Returns the new state. A damaged state file is
 * replaced (the damage is returned as `replaced` for the caller to log).
 */
export async function recordRun(
  file: string,
  record: RunRecord,
): Promise<{ state: RunState; replaced?: string | undefined }> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const lock = await acquireLock(`${file}.lock`, { waitSeconds: 30 });
  try {
    let previous: RunState | undefined;
    let replaced: string | undefined;
    try {
      previous = await readRunState(file);
    } catch (error) {
      replaced = (error as Error).message;
    }
    const state = withRun(previous, record);
    await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    return { state, replaced };
  } finally {
    await lock.release();
  }
}
