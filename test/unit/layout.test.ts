import { describe, expect, it } from 'vitest';
import type { ObjectKind } from '../../src/engine/engine.js';
import {
  fileNameForObject,
  hostDirectory,
  isValidHostName,
  objectForFileName,
  SNAPSHOT_FILE_SUFFIX,
  WORK_DIR_NAME,
} from '../../src/snapshot/layout.js';

const FILE_KINDS = [
  'table',
  'sequence',
  'view',
  'procedure',
  'function',
  'event',
] as const satisfies readonly ObjectKind[];

const AWKWARD_NAMES = [
  'auth_user',
  'a.view',
  'a.b.c',
  'x.sql',
  'dir/name',
  '../escape',
  'back\\slash',
  'with space',
  ' leading and trailing ',
  '100%',
  '%41',
  '%',
  '%%zz',
  'tab\there',
  'new\nline',
  'café',
  'Ωμέγα',
  '日本語のテーブル',
  'emoji😀',
  'we`ird',
  "quote'd",
  'star*?',
  'colon:semi;',
  'UPPER_lower-dash$dollar',
  '.hidden',
  '-dash-first',
  'CON',
  '123',
];

describe('fileNameForObject', () => {
  it('names a table <name>.sql and other objects <name>.<kind>.sql', () => {
    expect(SNAPSHOT_FILE_SUFFIX).toBe('.sql');
    expect(fileNameForObject('table', 'auth_user')).toBe('auth_user.sql');
    expect(fileNameForObject('view', 'active_users')).toBe('active_users.view.sql');
    expect(fileNameForObject('sequence', 'seq1')).toBe('seq1.sequence.sql');
    expect(fileNameForObject('procedure', 'p')).toBe('p.procedure.sql');
    expect(fileNameForObject('function', 'f')).toBe('f.function.sql');
    expect(fileNameForObject('event', 'nightly')).toBe('nightly.event.sql');
    expect(fileNameForObject('trigger', 'trg')).toBe('trg.trigger.sql');
  });

  it('keeps A-Z a-z 0-9 _ $ - and percent-encodes every other byte (upper-case hex)', () => {
    expect(fileNameForObject('table', 'Az09_$-')).toBe('Az09_$-.sql');
    expect(fileNameForObject('table', 'a.view')).toBe('a%2Eview.sql');
    expect(fileNameForObject('table', 'a/b')).toBe('a%2Fb.sql');
    expect(fileNameForObject('table', 'a b')).toBe('a%20b.sql');
    expect(fileNameForObject('table', '100%')).toBe('100%25.sql');
    expect(fileNameForObject('table', 'é')).toBe('é.sql'); // letters of any script stay readable
    expect(fileNameForObject('table', '😀')).toBe('%F0%9F%98%80.sql');
    expect(fileNameForObject('table', '\0')).toBe('%00.sql');
    expect(fileNameForObject('view', '..')).toBe('%2E%2E.view.sql');
  });

  it('gives file names that are a single, safe path segment', () => {
    for (const kind of FILE_KINDS) {
      for (const name of AWKWARD_NAMES) {
        const file = fileNameForObject(kind, name);
        expect(file).toMatch(/^[\p{L}\p{N}_$%-]*(\.[a-z]+)?\.sql$/u);
        expect(file.startsWith('.')).toBe(false);
      }
    }
  });

  // Regression (fixed): MariaDB allows 64-character identifiers; percent-encoding multiplies a
  // non-ASCII name by up to 9, so e.g. 64 x 'é' gives a 388-byte file name and the write fails
  // with ENAMETOOLONG on file systems limited to 255 bytes (ext4, xfs, btrfs).
  it('fits any 64-character identifier in 255 bytes', () => {
    for (const kind of FILE_KINDS) {
      for (const name of ['é'.repeat(64), 'ж'.repeat(64), '日'.repeat(64)]) {
        expect(Buffer.byteLength(fileNameForObject(kind, name))).toBeLessThanOrEqual(255);
      }
    }
  });
});

describe('objectForFileName', () => {
  it('round-trips every file kind and awkward names', () => {
    for (const kind of FILE_KINDS) {
      for (const name of AWKWARD_NAMES) {
        expect(
          objectForFileName(fileNameForObject(kind, name)),
          `${kind} ${JSON.stringify(name)}`,
        ).toEqual({ kind, name });
      }
    }
  });

  it('keeps a table called a.view apart from the view a', () => {
    const table = fileNameForObject('table', 'a.view');
    const view = fileNameForObject('view', 'a');
    expect(table).not.toBe(view);
    expect(objectForFileName(table)).toEqual({ kind: 'table', name: 'a.view' });
    expect(objectForFileName(view)).toEqual({ kind: 'view', name: 'a' });
    expect(fileNameForObject('table', 'a.event')).not.toBe(fileNameForObject('event', 'a'));
  });

  it('gives distinct file names to distinct names', () => {
    const files = new Set<string>();
    for (const kind of FILE_KINDS)
      for (const name of AWKWARD_NAMES) files.add(fileNameForObject(kind, name));
    expect(files.size).toBe(FILE_KINDS.length * AWKWARD_NAMES.length);
  });

  it('returns undefined for files that are not ours', () => {
    expect(objectForFileName('README.md')).toBeUndefined();
    expect(objectForFileName('t.sql.bak')).toBeUndefined();
    expect(objectForFileName('a.table.sql')).toBeUndefined();
    expect(objectForFileName('a.view.view.sql')).toBeUndefined();
    expect(objectForFileName('bad%zz.sql')).toBeUndefined();
    expect(objectForFileName('bad%E9.sql')).toBeUndefined();
  });

  it('names an object of a schema <schema>.<name>[.<kind>].sql, a part that reads as a kind encoded', () => {
    const cases: [ObjectKind, readonly string[], string][] = [
      ['table', ['public', 'items'], 'public.items.sql'],
      ['view', ['app', 'recent'], 'app.recent.view.sql'],
      ['table', ['app', 'view'], 'app.%76iew.sql'],
      ['table', ['app', 'table'], 'app.%74able.sql'],
      ['trigger', ['app', 'orders.touch'], 'app.orders%2Etouch.trigger.sql'],
      ['function', ['app', 'add(a integer)'], 'app.add%28a%20integer%29.function.sql'],
      ['schema', ['app'], 'app.schema.sql'],
      ['foreign-keys', ['app', 'orders'], 'app.orders.foreign-keys.sql'],
      ['row-security', ['app', 'orders'], 'app.orders.row-security.sql'],
      ['table', ['app', 'row-security'], 'app.%72ow-security.sql'],
      ['materialized-view', ['app', 'totals'], 'app.totals.materialized-view.sql'],
    ];
    for (const [kind, parts, file] of cases) {
      expect(fileNameForObject(kind, parts)).toBe(file);
      expect(objectForFileName(file)).toEqual({ kind, name: parts.join('.') });
    }
    // Table b of schema a, and table `a.b` of a database without schemas, are one name.
    expect(objectForFileName('a.b.sql')).toEqual({ kind: 'table', name: 'a.b' });
    expect(objectForFileName('a%2Eb.sql')).toEqual({ kind: 'table', name: 'a.b' });
  });

  it('reads plain names written by hand', () => {
    expect(objectForFileName('settings.sql')).toEqual({ kind: 'table', name: 'settings' });
    expect(objectForFileName('x.procedure.sql')).toEqual({ kind: 'procedure', name: 'x' });
  });
});

describe('host directories', () => {
  it('joins backup dir and host', () => {
    expect(hostDirectory('/var/backups', 'db1.example.org')).toBe('/var/backups/db1.example.org');
    expect(hostDirectory('/var/backups/', 'localhost')).toBe('/var/backups/localhost');
  });

  it.each([
    [''],
    ['.'],
    ['..'],
    ['.schema_backup'],
    ['.hidden'],
    ['a/b'],
    ['/abs'],
    ['a\\b'],
    ['a\0b'],
    ['a\nb'],
    ['a\rb'],
    ['tab\there'],
    ['del\x7f'],
    ['c1\u0085'],
    ['line\u2028sep'],
    [' padded'],
    ['padded '],
    ['x'.repeat(256)],
  ])('rejects the host name %j', (host) => {
    expect(isValidHostName(host)).toBe(false);
    expect(() => hostDirectory('/var/backups', host)).toThrow(/not a usable host directory name/);
  });

  it('accepts ordinary host names', () => {
    for (const host of [
      'db1',
      'db1.example.org',
      'DB-2_x',
      'host..double',
      'a.',
      'hôte-ü',
      'x'.repeat(255),
    ])
      expect(isValidHostName(host)).toBe(true);
  });

  it('keeps the work directory out of the host names', () => {
    expect(WORK_DIR_NAME).toBe('.schema_backup');
    expect(isValidHostName(WORK_DIR_NAME)).toBe(false);
  });
});
