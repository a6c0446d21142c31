/**
 * Takes a user-data copy or a dump back from the off-site store for `restore`, `decrypt` and
 * `load`: downloaded into a private temporary directory (0700), checked against the store
 * by size and hash, used by the caller, and removed by {@link FetchedItem.remove}. What is
 * downloaded is what was uploaded: ciphertext, which the caller decrypts as it streams.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { Logger } from '../support/logger.js';
import type { OffsiteStore } from './offsite-store.js';
import { listRemoteItems, type RemoteItem } from './remote-items.js';
import { remoteDumpDir, remoteUserDataDir } from './upload.js';

export interface FetchedItem {
  /** The copy's or dump's name on the store. */
  readonly name: string;
  /** Its local path: the copy's directory, or the dump file or directory. */
  readonly path: string;
  /** Deletes the temporary directory and everything in it. */
  remove(): Promise<void>;
}

export interface FetchCopyOptions {
  readonly host: string;
  /** A copy's timestamp name; undefined or empty = the newest complete copy (see `madeBy`). */
  readonly name?: string | undefined;
  /** Without a name: the newest complete copy made by this time (that of a git revision). */
  readonly madeBy?: Date | undefined;
  readonly logger: Logger;
}

/** Downloads a user-data copy of `options.host`. Throws UsageError when there is none such. */
export async function fetchUserDataCopy(
  store: OffsiteStore,
  options: FetchCopyOptions,
): Promise<FetchedItem> {
  const copies = (await listRemoteItems(store, options.host)).userData.filter(
    (item) => item.complete,
  );
  const where = `${store.description}/${remoteUserDataDir(options.host)}`;
  let chosen: RemoteItem | undefined;
  if (options.name !== undefined && options.name !== '') {
    chosen = copies.find((item) => item.id === options.name);
    if (chosen === undefined)
      throw new UsageError(`no complete user-data copy ${options.name} in ${where}`, {
        hint: available(copies),
      });
  } else {
    const limit = options.madeBy?.getTime();
    chosen = copies.find((item) => limit === undefined || item.time.getTime() <= limit);
    if (chosen === undefined)
      throw new UsageError(
        `no complete user-data copy in ${where}${limit === undefined ? '' : ` made by ${options.madeBy?.toISOString() ?? ''}`}`,
        { hint: available(copies) },
      );
  }
  return download(
    store,
    `${remoteUserDataDir(options.host)}/${chosen.id}`,
    chosen,
    true,
    options.logger,
  );
}

/**
 * Downloads a dump of `host`: `name` is a dump's name or the timestamp in it; undefined or
 * empty = the newest dump. Throws UsageError when none matches, or several do.
 */
export async function fetchDump(
  store: OffsiteStore,
  options: { host: string; name?: string | undefined; logger: Logger },
): Promise<FetchedItem> {
  const dumps = [...(await listRemoteItems(store, options.host)).dumps.values()]
    .flat()
    .filter((item) => item.complete)
    .sort((a, b) => b.time.getTime() - a.time.getTime());
  const where = `${store.description}/${remoteDumpDir(options.host)}`;
  const name = options.name ?? '';
  const matching =
    name === ''
      ? dumps.slice(0, 1)
      : dumps.filter((item) => item.id === name || item.id.includes(`_${name}`));
  const exact = matching.find((item) => item.id === name);
  const chosen = exact ?? (matching.length === 1 ? matching[0] : undefined);
  if (chosen === undefined)
    throw new UsageError(
      matching.length > 1
        ? `${name} matches ${String(matching.length)} dumps in ${where}: ${matching.map((item) => item.id).join(', ')}`
        : `no dump${name === '' ? '' : ` ${name}`} in ${where}`,
      { hint: available(dumps) },
    );
  if (name === '') options.logger.info(`the newest dump in ${where} is ${chosen.id}`);
  const remotePath = chosen.isDir
    ? `${remoteDumpDir(options.host)}/${chosen.id}`
    : remoteDumpDir(options.host);
  return download(store, remotePath, chosen, chosen.isDir, options.logger);
}

async function download(
  store: OffsiteStore,
  remotePath: string,
  item: RemoteItem,
  wholeDirectory: boolean,
  logger: Logger,
): Promise<FetchedItem> {
  // mkdtemp makes the directory 0700: nobody else reads what is downloaded.
  const dir = await mkdtemp(join(tmpdir(), 'schema_backup-offsite-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const path = join(dir, item.id);
    logger.info(
      `downloading ${store.description}/${remotePath}${wholeDirectory ? '' : `/${item.id}`}`,
    );
    if (wholeDirectory) {
      await store.download(remotePath, path);
      await store.check('download', path, remotePath);
    } else {
      await store.download(remotePath, dir, [item.id]);
      await store.check('download', dir, remotePath, [item.id]);
    }
    return { name: item.id, path, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

function available(items: readonly RemoteItem[]): string {
  if (items.length === 0)
    return 'There is none there: has an upload ever succeeded? See `schema_backup status`.';
  const names = items.slice(0, 5).map((item) => item.id);
  return `The newest there: ${names.join(', ')}${items.length > 5 ? ', ...' : ''}.`;
}
