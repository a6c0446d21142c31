/**
 * What the off-site workflows need of a remote store: copy a directory's files up and down,
 * compare them by size and hash, list, delete. Paths on the store are relative to its root
 * (the configured `offsite.remote`) and use `/`. `rclone-remote.ts` implements it with the
 * rclone CLI; a native backend (S3, ...) could replace it behind this interface.
 *
 * Imports nothing but types: implementations live beside it.
 */

/** One file or directory under a listed directory. */
export interface RemoteEntry {
  /** Relative to the listed directory, `/`-separated. */
  readonly path: string;
  /** Bytes; 0 for a directory. */
  readonly size: number;
  readonly isDir: boolean;
}

/** How a check compared the files. */
export type CheckMethod = 'hash' | 'download';

export interface OffsiteStore {
  /** For messages: where the store's root is (`name:path`); never holds a credential. */
  readonly description: string;
  /**
   * Copies the files of `localDir` (all of them, recursively, or only `files`, relative
   * names) to `remoteDir`. Files already there with the same size and time are skipped.
   * Throws OffsiteError.
   */
  upload(localDir: string, remoteDir: string, files?: readonly string[]): Promise<void>;
  /** Copies `remoteDir` (or only `files` of it) into `localDir`. Throws OffsiteError. */
  download(remoteDir: string, localDir: string, files?: readonly string[]): Promise<void>;
  /**
   * Checks that every file of the source side (`localDir` after an upload, `remoteDir`
   * after a download; or only `files`) is on the other side with the same size and hash;
   * where the two sides share no hash, by reading both. Throws OffsiteError naming the files
   * that differ or are missing.
   */
  check(
    direction: 'upload' | 'download',
    localDir: string,
    remoteDir: string,
    files?: readonly string[],
  ): Promise<CheckMethod>;
  /** Everything under `remoteDir`, recursively; empty when it does not exist. */
  list(remoteDir: string): Promise<RemoteEntry[]>;
  deleteFile(remotePath: string): Promise<void>;
  /** Deletes `remoteDir` and everything in it. */
  deleteDirectory(remoteDir: string): Promise<void>;
}
