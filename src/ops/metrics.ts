/**
 * The Prometheus textfile-collector file (node_exporter `--collector.textfile.directory`):
 * rendered from the run state, so it holds every command's last run, and replaced
 * atomically so the collector never reads half a file.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../support/atomic-write.js';
import { pathExists } from '../support/path-exists.js';
import type { RunState } from './run-state.js';

interface MetricSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly samples: readonly MetricSample[];
}

/** The exposition text of `state` (gauges, one sample per command, labelled by host and command). */
export function renderMetrics(state: RunState): string {
  const commands = Object.entries(state.commands).sort(([a], [b]) => (a < b ? -1 : 1));
  const perCommand = (
    name: string,
    help: string,
    value: (command: RunState['commands'][string]) => number | undefined,
  ): Metric => ({
    name,
    help,
    samples: commands.flatMap(([key, entry]) => {
      const sample = value(entry);
      // A command with series (dump) has one sample per series, labelled by it.
      const series = entry.lastRun.series;
      const labels: Readonly<Record<string, string>> =
        series === undefined
          ? { host: state.host, command: key }
          : { host: state.host, command: entry.lastRun.command, series };
      return sample === undefined ? [] : [{ labels, value: sample }];
    }),
  });
  const seconds = (iso: string | undefined): number | undefined =>
    iso === undefined ? undefined : Date.parse(iso) / 1000;
  const metrics: Metric[] = [
    perCommand(
      'schema_backup_last_run_timestamp_seconds',
      'When the last run ended (Unix time).',
      (entry) => seconds(entry.lastRun.finishedAt),
    ),
    perCommand(
      'schema_backup_last_success_timestamp_seconds',
      'When the last successful run ended (Unix time); 0 if none ever succeeded.',
      (entry) => seconds(entry.lastSuccess?.finishedAt) ?? 0,
    ),
    perCommand(
      'schema_backup_last_run_duration_seconds',
      'How long the last run took.',
      (entry) => entry.lastRun.durationSeconds,
    ),
    perCommand(
      'schema_backup_last_exit_code',
      'Exit code of the last run (0 success, 1 failure, 2 usage or config).',
      (entry) => entry.lastRun.exitCode,
    ),
    perCommand(
      'schema_backup_consecutive_failures',
      'Failed runs since the last successful one.',
      (entry) => entry.consecutiveFailures,
    ),
    perCommand(
      'schema_backup_tables',
      'Tables handled by the last successful run.',
      (entry) => entry.lastSuccess?.summary.tables,
    ),
    perCommand(
      'schema_backup_bytes',
      'Bytes written by the last successful run (snapshot files and user-data copy, or dump).',
      (entry) => entry.lastSuccess?.summary.bytes,
    ),
    perCommand(
      'schema_backup_unpushed_commits',
      'Local commits the remote lacked after the last run (only with git.push).',
      (entry) => entry.lastRun.summary.unpushedCommits,
    ),
    perCommand(
      'schema_backup_offsite_failed',
      'Whether the off-site part of the last run (upload, check, remote retention) failed: 1, or 0 when it succeeded (only with offsite:).',
      (entry) => {
        const offsite = entry.lastRun.summary.offsite;
        if (offsite === 'uploaded') return 0;
        return offsite === 'failed' || offsite === 'prune-failed' ? 1 : undefined;
      },
    ),
    perCommand(
      'schema_backup_offsite_last_upload_timestamp_seconds',
      'When the last run whose upload to the off-site remote was checked ended (Unix time).',
      (entry) =>
        [entry.lastRun, entry.lastSuccess]
          .filter((run) => run !== undefined)
          .filter((run) => ['uploaded', 'prune-failed'].includes(String(run.summary.offsite)))
          .map((run) => seconds(run.finishedAt))[0],
    ),
    {
      name: 'schema_backup_uncategorized_tables',
      help: 'Tables in no category at the last snapshot.',
      samples:
        state.uncategorized === undefined
          ? []
          : [{ labels: { host: state.host }, value: state.uncategorized.tables.length }],
    },
  ];
  const lines: string[] = [];
  for (const metric of metrics) {
    if (metric.samples.length === 0) continue;
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`);
    for (const sample of metric.samples) {
      const labels = Object.entries(sample.labels)
        .map(([key, value]) => `${key}="${escapeLabelValue(value)}"`)
        .join(',');
      lines.push(`${metric.name}{${labels}} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes `state`'s metrics to `file` atomically (mode 0644: the collector reads it). Creates
 * the file's directory when its parent exists (one level only: a mistyped path deeper down
 * is an error, not a new tree). Throws when the file cannot be written.
 */
export async function writeMetrics(file: string, state: RunState): Promise<void> {
  try {
    await mkdir(dirname(file));
  } catch (error) {
    // EEXIST is the usual case; any other problem shows in the write's own error.
    if (
      (error as NodeJS.ErrnoException).code !== 'EEXIST' &&
      !(await pathExists(dirname(dirname(file))))
    )
      throw new Error(`its directory ${dirname(file)} does not exist, nor its parent`, {
        cause: error,
      });
  }
  await writeFileAtomic(file, renderMetrics(state), { mode: 0o644 });
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  return Number.isFinite(value) ? String(value) : 'NaN';
}
