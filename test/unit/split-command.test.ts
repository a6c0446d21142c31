import { describe, expect, it } from 'vitest';
import { fillTemplate, splitCommandLine } from '../../src/config/split-command.js';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

describe('splitCommandLine', () => {
  it.each([
    ['systemctl stop {service}', ['systemctl', 'stop', '{service}']],
    ['  rc-service   {service}  stop ', ['rc-service', '{service}', 'stop']],
    [
      "docker compose -f '/opt/my app/compose.yml' stop {service}",
      ['docker', 'compose', '-f', '/opt/my app/compose.yml', 'stop', '{service}'],
    ],
    ['say "a \\"quoted\\" word" it\\ is', ['say', 'a "quoted" word', 'it is']],
    ['a\'b\'"c"d', ['abcd']],
    ["empty '' arg", ['empty', '', 'arg']],
  ])('%s', (template, argv) => {
    expect(splitCommandLine(template)).toEqual(argv);
  });

  it.each([
    ['systemctl stop {service} | tee log', /shell syntax/],
    ['stop {service}; start {service}', /shell syntax/],
    ['echo $HOME', /shell syntax/],
    ['echo "$HOME"', /would need a shell/],
    ["echo 'unterminated", /unterminated ' quote/],
    ['   ', /empty/],
    ['trailing\\', /trailing backslash/],
  ])('refuses %s', (template, message) => {
    expect(() => splitCommandLine(template)).toThrow(message);
  });

  it('fills {service} inside a word without splitting the name', () => {
    expect(fillTemplate(['supervisorctl', 'stop', 'app:{service}'], 'a b')).toEqual([
      'supervisorctl',
      'stop',
      'app:a b',
    ]);
  });
});

describe('service_manager and pause_hooks config', () => {
  const file = '/etc/schema_backup/schema_backup.conf';

  it('defaults to systemctl', () => {
    const { config } = parseConfig('consumers: [web]\n', file);
    expect(config.serviceManager.stop).toEqual(['systemctl', 'stop', '{service}']);
    expect(config.serviceManager.status).toEqual([
      'systemctl',
      'is-active',
      '--quiet',
      '{service}',
    ]);
    expect(config.serviceManager.timeoutSeconds).toBe(120);
    expect(config.pauseHooks).toEqual({ before: [], after: [] });
  });

  it('reads templates, and names file, line and key of a bad one', () => {
    const { config } = parseConfig(
      'service_manager:\n  stop: rc-service {service} stop\n  timeout: 30\n',
      file,
    );
    expect(config.serviceManager.stop).toEqual(['rc-service', '{service}', 'stop']);
    expect(config.serviceManager.start).toEqual(['systemctl', 'start', '{service}']);
    expect(config.serviceManager.timeoutSeconds).toBe(30);
    const bad = (): unknown =>
      parseConfig('consumers: []\nservice_manager:\n  start: "pkill app && run"\n', file);
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/schema_backup\.conf:3: service_manager\.start: & is shell syntax/);
    expect(() => parseConfig('service_manager:\n  stop: systemctl stop web\n', file)).toThrow(
      /service_manager\.stop: must contain \{service\}/,
    );
  });

  it('takes a pause hook as one statement or a list', () => {
    const { config } = parseConfig(
      'pause_hooks:\n  before: UPDATE s SET pause = 1\n  after:\n    - UPDATE s SET pause = 0\n    - DO 1\n',
      file,
    );
    expect(config.pauseHooks).toEqual({
      before: ['UPDATE s SET pause = 1'],
      after: ['UPDATE s SET pause = 0', 'DO 1'],
    });
  });
});
