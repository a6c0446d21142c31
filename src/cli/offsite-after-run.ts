/**
 * The off-site part of an unattended run (`snapshot`, `dump`): once the local part is safely
 * done, upload its user-data copy or dump, check it, and apply the remote retention. The
 * outcome goes into the run's summary (`offsite`: uploaded or failed; the state, metrics and
 * `status` show it). A failure is returned, not thrown, so that the command reports its
 * local result first and then fails with it (exit 1, notified).
 */
import type { Config } from '../config/schema.js';
import { OffsiteError, SchemaBackupError } from '../errors.js';
import type { UploadResult } from '../offsite/upload.js';
import type { RunJournal } from '../ops/run-journal.js';
import type { Interruption } from '../support/interruption.js';
import { redact } from '../support/redact.js';
import { offsiteRetentionOf, offsiteStoreOf } from './ops-config.js';

/** What a run has to upload: its user-data copy directory, or its dump. */
export type OffsiteItem =
  | { readonly kind: 'user-data'; readonly copyDir: string }
  | { readonly kind: 'dump'; readonly path: string };

/**
 * Uploads `item` to `config.offsite` (nothing when the config has none) and prunes the
 * remote when `offsite.retention.after_upload`. Returns the error that should fail the run,
 * or undefined. Throws only the InterruptedError of a signal that stopped it.
 */
export async function uploadAfterRun(
  journal: RunJournal,
  config: Config,
  host: string,
  item: OffsiteItem,
  interruption: Interruption,
): Promise<SchemaBackupError | undefined> {
  const { logger } = journal;
  const store = offsiteStoreOf(config, logger, interruption.signal);
  const offsite = config.offsite;
  if (store === undefined || offsite === undefined) return undefined;
  let uploaded: UploadResult | undefined;
  try {
    // Loaded only for a run that uploads.
    const { uploadDump, uploadUserDataCopy } = await import('../offsite/upload.js');
    uploaded = await journal.phase('offsite', () =>
      item.kind === 'user-data'
        ? uploadUserDataCopy(store, { copyDir: item.copyDir, host, logger })
        : uploadDump(store, {
            path: item.path,
            host,
            allowPlaintext: offsite.uploadPlaintextDumps,
            logger,
          }),
    );
    logger.info(
      `off-site: ${uploaded.name} (${String(uploaded.files)} file(s)) is on ${uploaded.remotePath}, checked by ${uploaded.checkedBy === 'hash' ? 'size and hash' : 'reading both sides'}`,
    );
    journal.summarize({
      offsite: 'uploaded',
      offsiteItem: uploaded.remotePath,
      offsiteBytes: uploaded.bytes,
    });
    const policy = offsiteRetentionOf(config);
    if (offsite.retention.afterUpload && policy !== undefined) {
      const { pruneOffsite } = await import('../offsite/prune-offsite.js');
      const sets = await journal.phase('offsite-prune', () =>
        pruneOffsite(store, { host, policy, dryRun: false, logger }),
      );
      journal.summarize({
        offsitePruned: sets.reduce((sum, set) => sum + set.drop.length, 0),
      });
    }
    return undefined;
  } catch (error) {
    // A signal ended rclone: the run is interrupted (128 + n), not an upload failure.
    interruption.throwIfInterrupted();
    const failure =
      error instanceof SchemaBackupError
        ? error
        : new OffsiteError(`off-site: ${(error as Error).message}`, { cause: error });
    journal.summarize({
      offsite: uploaded === undefined ? 'failed' : 'prune-failed',
      offsiteError: redact(failure.message),
    });
    logger.warn(
      `off-site: ${uploaded === undefined ? 'the upload' : 'the remote retention'} failed; the local result of this run is kept`,
    );
    return failure;
  }
}
