/** What a snapshot run tells the run journal: per-table events and the run's summary. */
import type { RunJournal } from '../ops/run-journal.js';
import type { SnapshotResult } from '../snapshot/take-snapshot.js';

/** Logs one `table` event per table and sets the summary (tables, bytes, commit, copy, uncategorized, pushed and unpushed commits). */
export function journalSnapshot(journal: RunJournal, result: SnapshotResult): void {
  for (const table of result.tables)
    journal.event('info', 'table', {
      table: table.name,
      category: table.category,
      change: table.change,
      rows: table.rows,
    });
  const userData = result.userData;
  journal.summarize({
    database: result.database,
    tables: result.tables.length,
    bytes: result.bytesWritten + (userData.outcome === 'created' ? userData.newBytes : 0),
    commit: result.commit?.id,
    git: result.git,
    userDataCopy:
      userData.outcome === 'created'
        ? userData.timestamp
        : userData.outcome === 'unchanged'
          ? userData.latest
          : undefined,
    userData: userData.outcome,
    uncategorized: [...result.plan.uncategorized],
    pushedCommits: result.pushedCommits,
    unpushedCommits: result.unpushedCommits,
  });
}
