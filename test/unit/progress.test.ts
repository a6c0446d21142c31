/**
 * Progress of snapshot, restore, dump and load (issue 21 item 3): the tracker's counts and
 * estimate under a clock of the test's, and how the display shows them: a bar on a terminal,
 * a log line every interval otherwise, nothing with --quiet.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PROGRESS_INTERVAL_VARIABLE, progressDisplay } from '../../src/cli/output/progress-bar.js';
import { createMemoryLogger } from '../../src/support/logger.js';
import { ProgressTracker, type Progress } from '../../src/support/progress.js';

/** What starts each redraw of the bar: back to the line's start, and clear it. */
const CLEAR_LINE = '\r\x1b[K';

/** A clock the test moves by hand, in milliseconds. */
function manualClock(): { now: () => number; advance: (seconds: number) => void } {
  let time = 1_000_000;
  return {
    now: () => time,
    advance: (seconds) => {
      time += seconds * 1000;
    },
  };
}

async function* asAsync<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield await Promise.resolve(item);
}

/** A non-terminal stream that must never be written to (lines go through the logger). */
const pipe = {
  isTTY: false,
  columns: 0,
  write: (): boolean => {
    throw new Error('a pipe gets log lines, not a bar');
  },
};

/** A terminal `columns` wide that records what is written to it. */
function terminal(columns = 100): typeof pipe & { readonly written: string[] } {
  const written: string[] = [];
  return {
    isTTY: true,
    columns,
    written,
    write: (chunk: string): boolean => {
      written.push(chunk);
      return true;
    },
  } as unknown as typeof pipe & { readonly written: string[] };
}

/** 30 s over one table of 3,000,000 rows: 100,000 rows and 10 MB every second. */
function longRun(onProgress: ((progress: Progress) => void) | undefined): void {
  const clock = manualClock();
  const tracker = new ProgressTracker(1, 3_000_000, onProgress, undefined, clock.now);
  tracker.start('events');
  for (let second = 1; second <= 30; second += 1) {
    clock.advance(1);
    tracker.addRows(100_000, 10_000_000);
  }
  tracker.itemDone('db', 'events', 3_000_000);
  tracker.finish();
}

describe('ProgressTracker', () => {
  it('reports at most every 200 ms, with the rate and the time left at that rate', () => {
    const clock = manualClock();
    const seen: Progress[] = [];
    const tracker = new ProgressTracker(
      2,
      1000,
      (progress) => seen.push(progress),
      undefined,
      clock.now,
    );
    // Naming the table in hand reports nothing by itself (a dump reacts to its first report).
    tracker.start('a');
    expect(seen).toEqual([]);
    clock.advance(0.1);
    tracker.addRows(50, 500);
    clock.advance(0.15);
    tracker.addRows(200, 2000);
    clock.advance(0.1);
    tracker.addRows(0, 0);
    expect(seen.map((progress) => progress.rows)).toEqual([50, 250]);
    const last = seen.at(-1);
    expect(last?.current).toBe('a');
    expect(last?.seconds).toBeCloseTo(0.35);
    expect(last?.bytesPerSecond).toBeCloseTo(2500 / 0.35);
    // 750 rows left at 250 rows in 0.35 s.
    expect(last?.etaSeconds).toBeCloseTo((750 * 0.35) / 250);
    tracker.finish();
    expect(seen.at(-1)).toMatchObject({ done: true, etaSeconds: 0, current: undefined });
  });

  it('counts a table done once all of its pieces are (a local table: structure, then user data)', () => {
    const tracker = new ProgressTracker(2, 0, undefined);
    tracker.expect('db', 'secrets', 2);
    tracker.itemDone('db', 'plain', 10);
    tracker.itemDone('db', 'secrets', 0);
    expect(tracker.snapshot().tablesDone).toBe(1);
    tracker.itemDone('db', 'secrets', 5);
    expect(tracker.snapshot().tablesDone).toBe(2);
    expect(tracker.rowsOf('db', 'secrets')).toBe(5);
  });

  it('counts the rows and text of chunks passing through', async () => {
    const tracker = new ProgressTracker(1, 0, undefined);
    const chunks = [
      { rows: 2, text: 'ab\ncd\n' },
      { rows: 1, text: 'e\n' },
    ];
    const passed: string[] = [];
    for await (const chunk of tracker.counting(asAsync(chunks))) passed.push(chunk.text);
    expect(passed).toEqual(['ab\ncd\n', 'e\n']);
    expect(tracker.snapshot()).toMatchObject({ rows: 3, bytes: 8 });
  });
});

describe('progressDisplay off a terminal', () => {
  afterEach(() => {
    Reflect.deleteProperty(process.env, PROGRESS_INTERVAL_VARIABLE);
  });

  it('logs a line every 10 s of a long run, naming the table, and one when it is done', () => {
    const logger = createMemoryLogger();
    const display = progressDisplay('snapshot', logger, { quiet: false, stream: pipe });
    longRun(display.onProgress);
    const lines = logger.lines.map((line) => line.message);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(
      'snapshot: tables 0/1, 1.00M rows, 95.4 MiB, 9.5 MiB/s, 0:10 ETA 0:20, events',
    );
    expect(lines[1]).toMatch(/^snapshot: tables 0\/1, 2\.00M rows, .* 0:20 ETA 0:10, events$/);
    expect(lines[2]).toMatch(/^snapshot: tables 0\/1, 3\.00M rows, .* 0:30, events$/);
    expect(lines[3]).toMatch(/^snapshot: tables 1\/1, 3\.00M rows, 286\.1 MiB, .* 0:30$/);
    expect(logger.lines.every((line) => line.level === 'info')).toBe(true);
  });

  it('says nothing of a run shorter than the interval', () => {
    const logger = createMemoryLogger();
    const display = progressDisplay('restored', logger, {
      quiet: false,
      stream: pipe,
      intervalSeconds: 60,
    });
    longRun(display.onProgress);
    expect(logger.lines).toEqual([]);
  });

  it('takes its interval from $SCHEMA_BACKUP_PROGRESS_INTERVAL', () => {
    process.env[PROGRESS_INTERVAL_VARIABLE] = '5';
    const logger = createMemoryLogger();
    longRun(progressDisplay('restored', logger, { quiet: false, stream: pipe }).onProgress);
    expect(logger.lines).toHaveLength(7);
    process.env[PROGRESS_INTERVAL_VARIABLE] = 'soon';
    const fallback = createMemoryLogger();
    longRun(progressDisplay('restored', fallback, { quiet: false, stream: pipe }).onProgress);
    expect(fallback.lines).toHaveLength(4);
  });

  it('shows nothing at all with --quiet', () => {
    const display = progressDisplay('snapshot', createMemoryLogger(), { quiet: true });
    expect(display.onProgress).toBeUndefined();
    display.close();
  });
});

describe('progressDisplay on a terminal', () => {
  it('redraws one bar in place and ends it with a newline', () => {
    const stream = terminal();
    const logger = createMemoryLogger();
    longRun(progressDisplay('snapshot', logger, { quiet: false, stream }).onProgress);
    expect(logger.lines).toEqual([]);
    expect(stream.written.length).toBeGreaterThan(30);
    expect(stream.written.every((chunk) => chunk.startsWith(`${CLEAR_LINE}[`))).toBe(true);
    expect(stream.written.slice(0, -1).some((chunk) => chunk.includes('\n'))).toBe(false);
    expect(
      stream.written.find((chunk) => chunk.includes(' 1.50M rows'))?.slice(CLEAR_LINE.length),
    ).toMatch(/^\[#+\.+\] tables 0\/1, 1\.50M rows, .*ETA 0:15, events$/);
    expect(stream.written.at(-1)).toMatch(/\[#{30}\] tables 1\/1, 3\.00M rows, .*\n$/);
  });

  it('keeps the line within the terminal, and a table name cannot drive it', () => {
    const stream = terminal(60);
    const display = progressDisplay('restored', createMemoryLogger(), { quiet: false, stream });
    const tracker = new ProgressTracker(1, 10, display.onProgress);
    tracker.start('evil\x1b]0;title\x07'.padEnd(80, 'x'));
    tracker.addRows(1, 10);
    const [line] = stream.written;
    expect(line?.slice(CLEAR_LINE.length).length).toBeLessThanOrEqual(59);
    expect(line?.slice(CLEAR_LINE.length)).not.toContain('\x1b');
  });

  it('ends an unfinished bar when the run fails, so the error starts on its own line', () => {
    const stream = terminal();
    const display = progressDisplay('restored', createMemoryLogger(), { quiet: false, stream });
    new ProgressTracker(1, 10, display.onProgress).addRows(1, 10);
    display.close();
    expect(stream.written.at(-1)).toBe('\n');
    display.close();
    expect(stream.written.filter((chunk) => chunk === '\n')).toHaveLength(1);
  });
});
