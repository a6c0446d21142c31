import { describe, expect, it } from 'vitest';
import {
  qualifiedName,
  quoteQualified,
  splitQualifiedName,
} from '../../src/engine/postgresql/names.js';
import { postgresqlDialect } from '../../src/engine/postgresql/postgresql-dialect.js';
import { postgresqlScriptFormat } from '../../src/engine/postgresql/script-format.js';
import {
  literalKindOf,
  quoteString,
  selectExpression,
  SESSION_SETTINGS,
  sqlLiteral,
} from '../../src/engine/postgresql/value-literals.js';
import { InternalError } from '../../src/errors.js';

describe('PostgreSQL literals', () => {
  it('writes numbers unquoted where that reads back the same, and quotes the rest', () => {
    expect(sqlLiteral('-9223372036854775808', 'integer')).toBe('-9223372036854775808');
    expect(sqlLiteral('1.50', 'numeric')).toBe('1.50');
    expect(sqlLiteral('NaN', 'numeric')).toBe("'NaN'");
    expect(sqlLiteral('-Infinity', 'numeric')).toBe("'-Infinity'");
    expect(sqlLiteral('1e+100', 'float')).toBe('1e+100');
    expect(sqlLiteral('-1.5e-10', 'float')).toBe('-1.5e-10');
    expect(sqlLiteral('-0.0001', 'float')).toBe('-0.0001');
    // Unquoted, -0 would be the integer 0 negated: +0.
    expect(sqlLiteral('-0', 'float')).toBe("'-0'");
    expect(sqlLiteral('Infinity', 'float')).toBe("'Infinity'");
    expect(sqlLiteral('t', 'boolean')).toBe('true');
    expect(sqlLiteral('f', 'boolean')).toBe('false');
    expect(sqlLiteral(null, 'text')).toBe('NULL');
    // Defensive: text that is not a number is never written unquoted.
    expect(sqlLiteral('1; DROP TABLE t', 'integer')).toBe("'1; DROP TABLE t'");
  });

  it('quotes strings as standard strings, with E-escapes only for control characters', () => {
    expect(quoteString("it's \\ fine\t")).toBe("'it''s \\ fine\t'");
    expect(quoteString("a\nb\r'\\\u0001\u007f")).toBe("E'a\\nb\\r''\\\\\\x01\\x7f'");
    expect(quoteString('\\x00ff')).toBe("'\\x00ff'");
  });

  it('writes the least interval time in units, which the server reads back (#16)', () => {
    // PostgreSQL 15 refuses its own output `-2562047788:00:54.775808` (-2^63 microseconds).
    expect(literalKindOf('interval')).toBe('interval');
    expect(sqlLiteral('-2562047788:00:54.775808', 'interval')).toBe(
      "'-2562047788 hours -54.775808 secs'",
    );
    expect(sqlLiteral('-3 mons +1 day -2562047788:00:54.775808', 'interval')).toBe(
      "'-3 mons +1 day -2562047788 hours -54.775808 secs'",
    );
    expect(sqlLiteral('-2562047788:00:54.775807', 'interval')).toBe("'-2562047788:00:54.775807'");
    expect(sqlLiteral('1 year 2 mons -3 days +04:05:06.789', 'interval')).toBe(
      "'1 year 2 mons -3 days +04:05:06.789'",
    );
    expect(sqlLiteral(null, 'interval')).toBe('NULL');
    // In an array: the element alone (unquoted) and after days (quoted).
    expect(literalKindOf('_interval')).toBe('interval-array');
    expect(
      sqlLiteral(
        '{-2562047788:00:54.775808,"1 day -2562047788:00:54.775808",NULL,"1 mon",-00:00:01}',
        'interval-array',
      ),
    ).toBe(
      `'{"-2562047788 hours -54.775808 secs","1 day -2562047788 hours -54.775808 secs",NULL,"1 mon",-00:00:01}'`,
    );
    expect(sqlLiteral('{{-2562047788:00:54.775808}}', 'interval-array')).toBe(
      `'{{"-2562047788 hours -54.775808 secs"}}'`,
    );
  });

  it('reads rows with an empty search_path: reg* values come out schema-qualified (#16)', () => {
    // regclass 'public.t' read under the default search_path is `t`, which a script (its
    // search_path empty) cannot find.
    expect(SESSION_SETTINGS).toContain("SET search_path = ''");
  });

  it('reads and writes money under the C locale, whatever the lc_monetary of either server (#16)', () => {
    // money is an integer counted in the locale's currency digits (2 in C, 0 in ja_JP): read
    // under one locale and loaded under another, it would be 100 times off.
    expect(SESSION_SETTINGS).toContain("SET lc_monetary = 'C'");
    expect(postgresqlDialect.scriptPreamble).toContain("SET lc_monetary = 'C'");
    expect(postgresqlScriptFormat.sessionReset).toContain(
      "pg_catalog.set_config('lc_monetary', 'C', false)",
    );
    // The preamble passes the checker of a restore.
    const checker = postgresqlScriptFormat.checker({ kind: 'rows', table: 'app.t' });
    for (const statement of postgresqlDialect.scriptPreamble)
      expect(checker.check(statement).kind).toBe('set');
  });

  it('reads xml as stored, its XML declaration kept (#16)', () => {
    // xml's output function drops `<?xml version="1.0"?>`; the cast to text does not.
    expect(literalKindOf('xml')).toBe('xml');
    expect(selectExpression('"x"', 'xml')).toBe('"x"::pg_catalog.text');
    expect(sqlLiteral('<?xml version="1.0"?>\n<doc/>', 'xml')).toBe(
      `E'<?xml version="1.0"?>\\n<doc/>'`,
    );
    expect(selectExpression('"m"', 'money')).toBe('"m"::pg_catalog.numeric');
    expect(selectExpression('"t"', 'text')).toBe('"t"');
  });

  it('knows numbers, booleans and money by their type name; the rest is text', () => {
    expect(['int2', 'int4', 'int8', 'oid'].map(literalKindOf)).toEqual(Array(4).fill('integer'));
    expect(literalKindOf('numeric')).toBe('numeric');
    expect(literalKindOf('float4')).toBe('float');
    expect(literalKindOf('money')).toBe('money');
    expect(literalKindOf('_int4')).toBe('text');
    expect(literalKindOf('jsonb')).toBe('text');
  });
});

describe('PostgreSQL names', () => {
  it('carries schema.name, quoting only a schema with a dot, and splits it back', () => {
    expect(qualifiedName('app', 'settings')).toBe('app.settings');
    expect(qualifiedName('app', 'a.b')).toBe('app.a.b');
    expect(qualifiedName('my.schema', 't')).toBe('"my.schema".t');
    expect(qualifiedName('"q', 't')).toBe('"""q".t');
    for (const [schema, name] of [
      ['app', 'settings'],
      ['app', 'a.b'],
      ['my.schema', 'x.y'],
      ['"q"', 't'],
      ['Upper', 'f(integer, text)'],
    ] as const)
      expect(splitQualifiedName(qualifiedName(schema, name))).toEqual({ schema, name });
    expect(splitQualifiedName('settings')).toEqual({ schema: 'public', name: 'settings' });
    expect(quoteQualified('"my.schema".we"ird')).toBe('"my.schema"."we""ird"');
    expect(() => splitQualifiedName('"open')).toThrow(InternalError);
  });
});

describe('PostgreSQL dialect', () => {
  it('writes row lines and INSERTs into qualified tables, overriding identity values', () => {
    const line = postgresqlDialect.rowLineWriter('app.t', ['id', 'Note']);
    expect(line(['1', "'x'"])).toBe(
      'INSERT INTO "app"."t" ("id", "Note") OVERRIDING SYSTEM VALUE VALUES (1, \'x\');\n',
    );
    expect(postgresqlDialect.insertStatement('t', ['a'], [['1'], ['2']])).toBe(
      'INSERT INTO "public"."t" ("a") OVERRIDING SYSTEM VALUE VALUES (1), (2)',
    );
  });

  it('sets a sequence so that nextval gives its next value, or none when it is used up', () => {
    expect(postgresqlDialect.sequenceStateStatement('app.s', { next: '-5', round: '0' })).toBe(
      `SELECT pg_catalog.setval('"app"."s"', -5, false)`,
    );
    expect(
      postgresqlDialect.sequenceStateStatement('app.s', { next: '9', round: '0', exhausted: true }),
    ).toBe(`SELECT pg_catalog.setval('"app"."s"', 9, true)`);
    expect(() =>
      postgresqlDialect.sequenceStateStatement('app.s', { next: '1; x', round: '0' }),
    ).toThrow(InternalError);
  });

  it('keeps a comment on its line', () => {
    expect(postgresqlDialect.comment('a\nDROP TABLE t')).toBe('-- a\\x0ADROP TABLE t');
  });
});
