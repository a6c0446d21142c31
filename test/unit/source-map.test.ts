import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { mapYamlSource } from '../../src/config/source-map.js';

describe('mapYamlSource', () => {
  it('maps top-level keys, nested keys and list items to their lines', () => {
    const text = [
      '# comment', // 1
      'csv2_backup_dir: default', // 2
      '', // 3
      'database:', // 4
      '  name: csv2 # trailing comment', // 5
      '  host: localhost', // 6
      'global:', // 7
      '  - a', // 8
      '  # comment inside', // 9
      '  - b', // 10
      'local:', // 11
      '- c', // 12  (sequence at the key's own indent)
      '- d', // 13
      'git:', // 14
      '  push: origin', // 15
    ].join('\n');
    const map = mapYamlSource(text);
    expect(map.lineOf(['csv2_backup_dir'])).toBe(2);
    expect(map.lineOf(['database'])).toBe(4);
    expect(map.lineOf(['database', 'name'])).toBe(5);
    expect(map.lineOf(['database', 'host'])).toBe(6);
    expect(map.lineOf(['global'])).toBe(7);
    expect(map.lineOf(['global', 0])).toBe(8);
    expect(map.lineOf(['global', 1])).toBe(10);
    expect(map.lineOf(['local', 0])).toBe(12);
    expect(map.lineOf(['local', 1])).toBe(13);
    expect(map.lineOf(['git', 'push'])).toBe(15);
  });

  it('falls back to the nearest mapped ancestor', () => {
    const map = mapYamlSource('global: [a, b, c]\ndatabase:\n  name: x\n');
    expect(map.lineOf(['global', 2])).toBe(1);
    expect(map.lineOf(['database', 'port'])).toBe(2);
    expect(map.lineOf(['database', 'name', 'deeper'])).toBe(3);
  });

  it('returns undefined for a path with no mapped ancestor and for the empty path', () => {
    const map = mapYamlSource('global:\n  - a\n');
    expect(map.lineOf(['local'])).toBeUndefined();
    expect(map.lineOf(['local', 0])).toBeUndefined();
    expect(map.lineOf([])).toBeUndefined();
  });

  it('keeps items after a column-0 comment in the same list', () => {
    const map = mapYamlSource('ignore:\n  - a\n\n# Obsolete?\n  - b\n  - c\nnext: 1\n');
    expect(map.lineOf(['ignore', 0])).toBe(2);
    expect(map.lineOf(['ignore', 1])).toBe(5);
    expect(map.lineOf(['ignore', 2])).toBe(6);
    expect(map.lineOf(['next'])).toBe(7);
  });

  it('handles CRLF line ends, a document marker and quoted keys', () => {
    const map = mapYamlSource('---\r\n"global":\r\n  - a\r\n\'local\': []\r\n');
    expect(map.lineOf(['global'])).toBe(2);
    expect(map.lineOf(['global', 0])).toBe(3);
    expect(map.lineOf(['local'])).toBe(4);
  });

  it('does not carry a nested key over to a sibling block', () => {
    const map = mapYamlSource('database:\n  name: a\nencryption:\n  name: b\n');
    expect(map.lineOf(['database', 'name'])).toBe(2);
    expect(map.lineOf(['encryption', 'name'])).toBe(4);
  });

  it('maps the items of the cloudscheduler config', async () => {
    const text = await readFile('/work/shared/fixtures/csv2/etc/schema_backup.conf', 'utf8');
    const map = mapYamlSource(text);
    expect(map.lineOf(['global', 12])).toBe(39); // ec2_regions
    expect(map.lineOf(['ephemeral', 20])).toBe(82); // ec2_regions
    expect(map.lineOf(['ignore', 5])).toBe(95); // csv2_job_schedulers, after "# Obsolete?"
    expect(map.lineOf(['ignore', 10])).toBe(100);
    expect(map.lineOf(['consumers', 13])).toBe(23);
  });
});
