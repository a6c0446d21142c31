import { describe, expect, it } from 'vitest';
import { renderMetrics } from '../../src/ops/metrics.js';
import type { RunRecord } from '../../src/ops/run-journal.js';
import { withRun } from '../../src/ops/run-state.js';

function record(overrides: Partial<RunRecord>): RunRecord {
  return {
    id: 'r',
    command: 'snapshot',
    host: 'db1.example.org',
    startedAt: '2026-11-24T02:30:00.000Z',
    finishedAt: '2026-11-24T02:30:12.500Z',
    durationSeconds: 12.5,
    outcome: 'success',
    exitCode: 0,
    phases: [],
    summary: { tables: 42, bytes: 123_456, uncategorized: ['stray'] },
    warnings: [],
    ...overrides,
  };
}

describe('run state and metrics', () => {
  it('counts consecutive failures per command and keeps the last success', () => {
    let state = withRun(undefined, record({}));
    state = withRun(
      state,
      record({
        outcome: 'failure',
        exitCode: 1,
        finishedAt: '2026-11-25T02:30:00.000Z',
        summary: {},
      }),
    );
    state = withRun(
      state,
      record({ command: 'dump', finishedAt: '2026-11-25T03:00:00.000Z', summary: { bytes: 9 } }),
    );
    state = withRun(
      state,
      record({
        outcome: 'failure',
        exitCode: 2,
        finishedAt: '2026-11-26T02:30:00.000Z',
        summary: {},
      }),
    );
    expect(state.commands.snapshot?.consecutiveFailures).toBe(2);
    expect(state.commands.snapshot?.lastSuccess?.finishedAt).toBe('2026-11-24T02:30:12.500Z');
    expect(state.commands.dump?.consecutiveFailures).toBe(0);
    expect(state.uncategorized).toEqual({ tables: ['stray'], seenAt: '2026-11-24T02:30:12.500Z' });
    expect(renderMetrics(state)).toBe(
      [
        '# HELP schema_backup_last_run_timestamp_seconds When the last run ended (Unix time).',
        '# TYPE schema_backup_last_run_timestamp_seconds gauge',
        'schema_backup_last_run_timestamp_seconds{host="db1.example.org",command="dump"} 1795575600',
        'schema_backup_last_run_timestamp_seconds{host="db1.example.org",command="snapshot"} 1795660200',
        '# HELP schema_backup_last_success_timestamp_seconds When the last successful run ended (Unix time); 0 if none ever succeeded.',
        '# TYPE schema_backup_last_success_timestamp_seconds gauge',
        'schema_backup_last_success_timestamp_seconds{host="db1.example.org",command="dump"} 1795575600',
        'schema_backup_last_success_timestamp_seconds{host="db1.example.org",command="snapshot"} 1795487412.5',
        '# HELP schema_backup_last_run_duration_seconds How long the last run took.',
        '# TYPE schema_backup_last_run_duration_seconds gauge',
        'schema_backup_last_run_duration_seconds{host="db1.example.org",command="dump"} 12.5',
        'schema_backup_last_run_duration_seconds{host="db1.example.org",command="snapshot"} 12.5',
        '# HELP schema_backup_last_exit_code Exit code of the last run (0 success, 1 failure, 2 usage or config).',
        '# TYPE schema_backup_last_exit_code gauge',
        'schema_backup_last_exit_code{host="db1.example.org",command="dump"} 0',
        'schema_backup_last_exit_code{host="db1.example.org",command="snapshot"} 2',
        '# HELP schema_backup_consecutive_failures Failed runs since the last successful one.',
        '# TYPE schema_backup_consecutive_failures gauge',
        'schema_backup_consecutive_failures{host="db1.example.org",command="dump"} 0',
        'schema_backup_consecutive_failures{host="db1.example.org",command="snapshot"} 2',
        '# HELP schema_backup_tables Tables handled by the last successful run.',
        '# TYPE schema_backup_tables gauge',
        'schema_backup_tables{host="db1.example.org",command="snapshot"} 42',
        '# HELP schema_backup_bytes Bytes written by the last successful run (snapshot files and user-data copy, or dump).',
        '# TYPE schema_backup_bytes gauge',
        'schema_backup_bytes{host="db1.example.org",command="dump"} 9',
        'schema_backup_bytes{host="db1.example.org",command="snapshot"} 123456',
        '# HELP schema_backup_uncategorized_tables Tables in no category at the last snapshot.',
        '# TYPE schema_backup_uncategorized_tables gauge',
        'schema_backup_uncategorized_tables{host="db1.example.org"} 1',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values and reports 0 for a command that never succeeded', () => {
    const state = withRun(
      undefined,
      record({ host: 'a"b\\c\nd', outcome: 'failure', exitCode: 1, summary: {} }),
    );
    const text = renderMetrics(state);
    expect(text).toContain(
      'schema_backup_last_success_timestamp_seconds{host="a\\"b\\\\c\\nd",command="snapshot"} 0\n',
    );
    expect(text).not.toContain('schema_backup_tables');
  });
});

describe('off-site metrics', () => {
  it('say whether the last off-site part failed, and when the last checked upload was', () => {
    let state = withRun(
      undefined,
      record({ summary: { offsite: 'uploaded', offsiteItem: 'b:x/h/user-data/t' } }),
    );
    state = withRun(
      state,
      record({
        outcome: 'failure',
        exitCode: 1,
        finishedAt: '2026-11-25T02:30:00.000Z',
        summary: { offsite: 'failed', offsiteError: 'the upload failed' },
      }),
    );
    const text = renderMetrics(state);
    expect(text).toContain(
      'schema_backup_offsite_failed{host="db1.example.org",command="snapshot"} 1',
    );
    // The last checked upload is the last success's, a day earlier.
    expect(text).toContain(
      `schema_backup_offsite_last_upload_timestamp_seconds{host="db1.example.org",command="snapshot"} ${String(Date.parse('2026-11-24T02:30:12.500Z') / 1000)}`,
    );
    expect(renderMetrics(withRun(undefined, record({})))).not.toContain('offsite');
  });
});
