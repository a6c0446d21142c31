/** The config blocks of nightly operation: retention, logging, notify, metrics, status, state_file. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { formatDuration, parseDuration } from '../../src/support/duration.js';

const FILE = '/srv/app/etc/schema_backup.conf';

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('operations config', () => {
  it('has defaults: 30/12/12, no prune after runs, info log, no notifier, 26h', () => {
    const { config, warnings } = parseConfig('', FILE);
    expect(warnings).toEqual([]);
    expect(config.retention).toEqual({ daily: 30, weekly: 12, monthly: 12, afterRun: false });
    expect(config.logging).toEqual({ file: undefined, level: 'info' });
    expect(config.notify).toEqual({
      command: [],
      url: undefined,
      onSuccess: false,
      timeoutSeconds: 10,
    });
    expect(config.metrics).toEqual({ textfile: undefined });
    expect(config.status).toEqual({ maxAgeSeconds: 26 * 3600 });
    expect(config.stateFile).toBeUndefined();
  });

  it('reads every key, with paths relative to the config', () => {
    const { config, warnings } = parseConfig(
      [
        'retention: { daily: 7, weekly: 4, monthly: 0, after_run: true }',
        'logging: { file: ../log/schema_backup.jsonl, level: debug }',
        'notify:',
        '  command: [/usr/local/bin/page-me, --json]',
        '  url: https://hooks.example.org/schema_backup',
        '  on_success: true',
        '  timeout: 3',
        'metrics: { textfile: /var/lib/prometheus/node-exporter/schema_backup.prom }',
        'status: { max_age: 1d12h }',
        'state_file: state/run.json',
      ].join('\n'),
      FILE,
    );
    expect(warnings).toEqual([]);
    expect(config.retention).toEqual({ daily: 7, weekly: 4, monthly: 0, afterRun: true });
    expect(config.logging).toEqual({ file: '/srv/app/log/schema_backup.jsonl', level: 'debug' });
    expect(config.notify).toEqual({
      command: ['/usr/local/bin/page-me', '--json'],
      url: 'https://hooks.example.org/schema_backup',
      onSuccess: true,
      timeoutSeconds: 3,
    });
    expect(config.metrics.textfile).toBe('/var/lib/prometheus/node-exporter/schema_backup.prom');
    expect(config.status.maxAgeSeconds).toBe(36 * 3600);
    expect(config.stateFile).toBe('/srv/app/etc/state/run.json');
  });

  it('names file, line and key of a bad value', () => {
    const cases: [string, string, number][] = [
      ['retention:\n  daily: -1', 'retention.daily', 2],
      ['retention:\n  weekly: 1.5', 'retention.weekly', 2],
      ['logging:\n  level: loud', 'logging.level', 2],
      ['notify:\n  command: /bin/true', 'notify.command', 2],
      ['notify:\n  url: ftp://x', 'notify.url', 2],
      ['notify:\n  timeout: 0', 'notify.timeout', 2],
      ['metrics:\n  textfile: /tmp/x.txt', 'metrics.textfile', 2],
      ['status:\n  max_age: soon', 'status.max_age', 2],
    ];
    for (const [text, key, line] of cases) {
      const error = errorOf(text);
      expect(error.location, text).toMatchObject({ file: FILE, key, line });
      expect(error.exitCode).toBe(2);
    }
  });

  it('warns about unknown keys with the nearest known one', () => {
    const { warnings } = parseConfig(
      'retention:\n  dayly: 3\nnotify:\n  on_sucess: true\nstatus:\n  maxage: 1h',
      FILE,
    );
    expect(warnings.map((warning) => [warning.line, warning.message])).toEqual([
      [2, 'unknown key retention.dayly (did you mean daily?)'],
      [4, 'unknown key notify.on_sucess (did you mean on_success?)'],
      [6, 'unknown key status.maxage (did you mean max_age?)'],
    ]);
  });
});

describe('durations', () => {
  it('parses and formats', () => {
    expect(parseDuration('26h')).toBe(93_600);
    expect(parseDuration('90m')).toBe(5400);
    expect(parseDuration('1d12h')).toBe(129_600);
    expect(parseDuration('1w')).toBe(604_800);
    expect(parseDuration('45')).toBe(45);
    expect(parseDuration(60)).toBe(60);
    expect(parseDuration('-1h')).toBeUndefined();
    expect(parseDuration('h')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(formatDuration(93_600)).toBe('1d2h');
    expect(formatDuration(61)).toBe('1m1s');
    expect(formatDuration(0)).toBe('0s');
  });
});
