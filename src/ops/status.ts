/**
 * `status`: how the unattended runs of a host are doing, from the run state and the disk:
 * the last run and its age, the last success, consecutive failures, the last commit of the
 * host directory and the commits not yet pushed, the last user-data copy and dump, the disk each directory uses, and the
 * uncategorized tables last seen. `fresh` says whether the last successful snapshot is
 * younger than the maximum age (a freshness check for monitoring).
 */
import { existsSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Repository } from '../git/repository.js';
import { hostDirectory } from '../snapshot/layout.js';
import { LATEST_LINK } from '../snapshot/layout.js';
import { diskUsage } from './disk-usage.js';
import { listDumps, listUserDataCopies } from './prune.js';
import { parseCopyTimestamp } from './retention.js';
import type { RunRecord } from './run-journal.js';
import { readRunState } from './run-state.js';

/** The command whose last success decides freshness. */
export const NIGHTLY_COMMAND = 'snapshot';

export interface StatusOptions {
  readonly host: string;
  readonly backupDir: string;
  readonly stateFile: string;
  readonly userDataDir?: string | undefined;
  readonly dumpDir?: string | undefined;
  /** Seconds. */
  readonly maxAgeSeconds: number;
  /** `git.push` and `git.branch`: count the commits that remote lacks. */
  readonly push?: { readonly remote: string; readonly branch?: string | undefined } | undefined;
  readonly now?: Date | undefined;
}

export interface RunOverview {
  readonly outcome: RunRecord['outcome'];
  readonly exitCode: number;
  readonly finishedAt: string;
  readonly ageSeconds: number;
  readonly durationSeconds: number;
  readonly error?: RunRecord['error'];
  readonly summary: RunRecord['summary'];
}

export interface CommandStatus {
  readonly lastRun: RunOverview;
  readonly lastSuccess?: RunOverview | undefined;
  readonly consecutiveFailures: number;
}

export interface TimestampedEntry {
  readonly name: string;
  readonly path: string;
  readonly time: string;
  readonly ageSeconds: number;
}

export interface DirectoryUsage {
  readonly path: string;
  readonly bytes: number;
}

export interface StatusResult {
  readonly host: string;
  readonly now: string;
  /** The last successful snapshot is younger than `maxAgeSeconds`. */
  readonly fresh: boolean;
  readonly maxAgeSeconds: number;
  /** Why the status is not fresh (empty when it is). */
  readonly problems: readonly string[];
  readonly stateFile: string;
  /** By command: `snapshot`, and `dump`, `upgrade` once they ran. */
  readonly commands: Readonly<Record<string, CommandStatus>>;
  readonly lastCommit?: { id: string; date: string; subject: string } | undefined;
  /**
   * With `git.push`: local commits the remote lacked when last seen (by the last push or
   * fetch; status contacts no remote).
   */
  readonly unpushed?: { readonly remote: string; readonly commits: number } | undefined;
  readonly lastUserDataCopy?: TimestampedEntry | undefined;
  readonly lastDump?: TimestampedEntry | undefined;
  readonly disk: {
    readonly hostDir: DirectoryUsage;
    readonly userData?: DirectoryUsage | undefined;
    readonly dumps?: DirectoryUsage | undefined;
  };
  readonly uncategorized?:
    { readonly tables: readonly string[]; readonly seenAt: string } | undefined;
}

/**
 * Reads the status of `options.host`. Creates nothing. Throws when the state file exists
 * but is not valid state, or git fails on an existing repository.
 */
export async function readStatus(options: StatusOptions): Promise<StatusResult> {
  const now = options.now ?? new Date();
  const age = (iso: string): number => Math.round((now.getTime() - Date.parse(iso)) / 1000);
  const overview = (record: RunRecord): RunOverview => ({
    outcome: record.outcome,
    exitCode: record.exitCode,
    finishedAt: record.finishedAt,
    ageSeconds: age(record.finishedAt),
    durationSeconds: record.durationSeconds,
    error: record.error,
    summary: record.summary,
  });
  const state = await readRunState(options.stateFile);
  const commands: Record<string, CommandStatus> = {};
  for (const [name, entry] of Object.entries(state?.commands ?? {}))
    commands[name] = {
      lastRun: overview(entry.lastRun),
      lastSuccess: entry.lastSuccess === undefined ? undefined : overview(entry.lastSuccess),
      consecutiveFailures: entry.consecutiveFailures,
    };

  const problems: string[] = [];
  const nightly = commands[NIGHTLY_COMMAND];
  if (nightly === undefined)
    problems.push(`no ${NIGHTLY_COMMAND} run recorded in ${options.stateFile}`);
  else if (nightly.lastSuccess === undefined)
    problems.push(`no successful ${NIGHTLY_COMMAND} recorded`);
  else if (nightly.lastSuccess.ageSeconds > options.maxAgeSeconds)
    problems.push(
      `the last successful ${NIGHTLY_COMMAND} is ${String(nightly.lastSuccess.ageSeconds)} s old, more than ${String(options.maxAgeSeconds)} s`,
    );

  const hostDir = hostDirectory(options.backupDir, options.host);
  let lastCommit: StatusResult['lastCommit'];
  let unpushed: StatusResult['unpushed'];
  if (existsSync(hostDir)) {
    const repository = await Repository.find(hostDir);
    lastCommit = await repository?.lastCommit(hostDir);
    const commits =
      options.push === undefined
        ? undefined
        : await repository?.countUnpushed(options.push.remote, options.push.branch);
    if (options.push !== undefined && commits !== undefined)
      unpushed = { remote: options.push.remote, commits };
  }

  let lastUserDataCopy: TimestampedEntry | undefined;
  let userDataUsage: DirectoryUsage | undefined;
  if (options.userDataDir !== undefined) {
    const dir = join(options.userDataDir, options.host);
    const latest = await readlink(join(dir, LATEST_LINK)).catch(() => undefined);
    const latestTime = latest === undefined ? undefined : parseCopyTimestamp(latest);
    const newest = (await listUserDataCopies(dir)).sort(
      (a, b) => b.time.getTime() - a.time.getTime(),
    )[0];
    const name = latestTime !== undefined ? latest : newest?.id;
    const time = latestTime ?? newest?.time;
    if (name !== undefined && time !== undefined)
      lastUserDataCopy = {
        name,
        path: join(dir, name),
        time: time.toISOString(),
        ageSeconds: age(time.toISOString()),
      };
    userDataUsage = { path: dir, bytes: await diskUsage(dir) };
  }

  let lastDump: TimestampedEntry | undefined;
  let dumpUsage: DirectoryUsage | undefined;
  if (options.dumpDir !== undefined) {
    const all = [...(await listDumps(options.dumpDir, options.host)).values()].flat();
    const newest = all.sort((a, b) => b.time.getTime() - a.time.getTime())[0];
    if (newest !== undefined)
      lastDump = {
        name: newest.id,
        path: join(options.dumpDir, newest.id),
        time: newest.time.toISOString(),
        ageSeconds: age(newest.time.toISOString()),
      };
    dumpUsage = { path: options.dumpDir, bytes: await diskUsage(options.dumpDir) };
  }

  return {
    host: options.host,
    now: now.toISOString(),
    fresh: problems.length === 0,
    maxAgeSeconds: options.maxAgeSeconds,
    problems,
    stateFile: options.stateFile,
    commands,
    lastCommit,
    unpushed,
    lastUserDataCopy,
    lastDump,
    disk: {
      hostDir: { path: hostDir, bytes: await diskUsage(hostDir) },
      userData: userDataUsage,
      dumps: dumpUsage,
    },
    uncategorized: state?.uncategorized,
  };
}
