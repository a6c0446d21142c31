/**
 * `status --all-hosts`: the last snapshot commit of every host directory of a shared
 * repository, read from git alone (no database, no run state), and which hosts are stale:
 * their last snapshot is older than the maximum age, or they have none. Works from any clone.
 */
import type { Repository } from '../git/repository.js';
import { listHostDirectoriesAt } from '../snapshot/known-hosts.js';

export interface FleetStatusOptions {
  readonly repository: Repository;
  readonly backupDir: string;
  /** Seconds. */
  readonly maxAgeSeconds: number;
  readonly now?: Date | undefined;
}

export interface HostSnapshotStatus {
  readonly host: string;
  /** The newest commit touching the host directory; undefined when none did. */
  readonly lastCommit?:
    | {
        readonly id: string;
        /** When the host committed it (the author date, which a replayed push keeps). */
        readonly date: string;
        readonly author: string;
        readonly subject: string;
      }
    | undefined;
  /** Seconds since `lastCommit.date`; undefined without a commit. */
  readonly ageSeconds?: number | undefined;
  /** No commit, or older than the maximum age. */
  readonly stale: boolean;
}

export interface FleetStatusResult {
  readonly backupDir: string;
  readonly repository: string;
  readonly now: string;
  readonly maxAgeSeconds: number;
  /** Sorted by host name. */
  readonly hosts: readonly HostSnapshotStatus[];
  /** Names of the stale hosts. */
  readonly stale: readonly string[];
}

/**
 * The snapshot status of every host directory committed at HEAD in `backupDir`. Creates
 * nothing and contacts no remote (pull first to see what the hosts pushed). Throws GitError
 * when git fails.
 */
export async function readFleetStatus(options: FleetStatusOptions): Promise<FleetStatusResult> {
  const now = options.now ?? new Date();
  const { repository } = options;
  const hosts = await listHostDirectoriesAt(repository, options.backupDir, 'HEAD');
  const commits = await repository.lastCommitsUnder(options.backupDir, hosts);
  const statuses = hosts.map((host): HostSnapshotStatus => {
    const lastCommit = commits.get(host);
    if (lastCommit === undefined) return { host, stale: true };
    const ageSeconds = Math.round((now.getTime() - Date.parse(lastCommit.date)) / 1000);
    return { host, lastCommit, ageSeconds, stale: ageSeconds > options.maxAgeSeconds };
  });
  return {
    backupDir: options.backupDir,
    repository: repository.root,
    now: now.toISOString(),
    maxAgeSeconds: options.maxAgeSeconds,
    hosts: statuses,
    stale: statuses.filter((status) => status.stale).map((status) => status.host),
  };
}
