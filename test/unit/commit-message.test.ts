import { describe, expect, it } from 'vitest';
import { composeCommitMessage, type ObjectChange } from '../../src/snapshot/commit-message.js';

function change(
  kind: string,
  name: string,
  what: ObjectChange['change'],
  details: Partial<
    Pick<
      ObjectChange,
      'structureChanged' | 'rowsAdded' | 'rowsRemoved' | 'rowsChanged' | 'rowsCounted'
    >
  > = {},
): ObjectChange {
  return {
    kind,
    name,
    change: what,
    structureChanged: true,
    rowsAdded: 0,
    rowsRemoved: 0,
    rowsChanged: 0,
    ...details,
  };
}

const subjectOf = (message: string): string => message.split('\n')[0] ?? '';

describe('composeCommitMessage', () => {
  it('says so when this run made no change itself', () => {
    expect(composeCommitMessage('db1.example.org', 'csv2', [])).toBe(
      'snapshot db1.example.org: changes left by an earlier run\n\nDatabase: csv2\n',
    );
  });

  it('counts and names every kind of change', () => {
    const message = composeCommitMessage('db1', 'csv2', [
      change('table', 'a', 'added', { rowsAdded: 5 }),
      change('table', 'r1', 'removed'),
      change('table', 'r2', 'removed'),
      change('table', 's', 'changed', { structureChanged: true }),
      change('table', 'd1', 'changed', { structureChanged: false, rowsAdded: 3, rowsRemoved: 1 }),
      change('table', 'd2', 'changed', { structureChanged: true, rowsAdded: 1 }),
      change('view', 'v', 'added'),
      change('procedure', 'p', 'removed'),
    ]);
    expect(message).toBe(
      [
        'snapshot db1: 1 table added, 2 tables removed, 2 structures changed, rows +4 -1 ~0 in 2 tables, 2 other objects changed',
        '',
        'Database: csv2',
        '',
        'Tables added: a',
        'Tables removed: r1, r2',
        'Structure changed: s, d2',
        'Rows changed: d1 (+3 -1 ~0), d2 (+1 -0 ~0)',
        'View added: v',
        'Procedure removed: p',
        '',
      ].join('\n'),
    );
  });

  it('uses the singular for one', () => {
    const message = composeCommitMessage('h', 'db', [
      change('table', 't', 'changed', { structureChanged: true, rowsRemoved: 2 }),
      change('event', 'e', 'changed'),
    ]);
    expect(subjectOf(message)).toBe(
      'snapshot h: 1 structure changed, rows +0 -2 ~0 in 1 table, 1 other object changed',
    );
    expect(message).toContain('\nEvent changed: e\n');
  });

  it('reports row changes alone', () => {
    const message = composeCommitMessage('h', 'db', [
      change('table', 'settings', 'changed', {
        structureChanged: false,
        rowsAdded: 1,
        rowsRemoved: 1,
      }),
    ]);
    expect(message).toBe(
      'snapshot h: rows +1 -1 ~0 in 1 table\n\nDatabase: db\n\nRows changed: settings (+1 -1 ~0)\n',
    );
  });

  it('has a one-line subject, a blank line, and ends with a newline', () => {
    const message = composeCommitMessage('h', 'db', [change('table', 'x', 'added')]);
    const lines = message.split('\n');
    expect(lines[0]).toBe('snapshot h: 1 table added');
    expect(lines[1]).toBe('');
    expect(message.endsWith('\n')).toBe(true);
    expect(message.endsWith('\n\n')).toBe(false);
  });

  // Regression (fixed): a table whose file changed without a structure or counted row change
  // (rows reordered, a duplicate row removed: see compare-table-file) gives the empty subject
  // "snapshot h: ".
  it('never gives an empty subject', () => {
    const message = composeCommitMessage('h', 'db', [
      change('table', 't', 'changed', { structureChanged: false, rowsAdded: 0, rowsRemoved: 0 }),
    ]);
    expect(subjectOf(message)).not.toBe('snapshot h: ');
    expect(subjectOf(message)).toMatch(/^snapshot h: \S/);
  });

  // Regression (issue 20): a large table whose rows changed but could not be compared one by
  // one was committed as "rows reordered".
  it('says rows changed, not reordered, where they were too many to count', () => {
    const message = composeCommitMessage('h', 'db', [
      change('table', 'big', 'changed', {
        structureChanged: false,
        rowsAdded: 0,
        rowsRemoved: 0,
        rowsCounted: false,
      }),
    ]);
    expect(subjectOf(message)).toBe('snapshot h: rows changed in 1 table (too many to count)');
    expect(message).not.toContain('reordered');
  });

  it('says so first when the file format changed, and calls no table reordered then', () => {
    const formatChange = { from: 1, to: 2, what: 'rows in a transaction' };
    const message = composeCommitMessage(
      'h',
      'db',
      [
        change('table', 'rewritten', 'changed', { structureChanged: false }),
        change('table', 'big', 'changed', { structureChanged: false, rowsCounted: false }),
        change('table', 'grown', 'changed', { structureChanged: false, rowsAdded: 2 }),
        change('sequence', 'seq', 'changed'),
      ],
      formatChange,
    );
    expect(subjectOf(message)).toBe(
      'snapshot h: file format 1 -> 2, rows +2 -0 ~0 in 1 table, 1 other object changed',
    );
    expect(message).toContain(
      '\nFile format: 1 -> 2. This version writes the files anew (rows in a transaction): tables',
    );
    expect(message).not.toContain('reordered');
    expect(message).not.toContain('too many');
    expect(message).toContain('Sequence changed: seq');
    // Nothing else changed: the subject is the format change alone.
    expect(subjectOf(composeCommitMessage('h', 'db', [], formatChange))).toBe(
      'snapshot h: file format 1 -> 2',
    );
  });

  it('counts rows that kept their key as changed, written as diff --stat writes them', () => {
    const message = composeCommitMessage('h', 'db', [
      change('table', 'a', 'changed', {
        structureChanged: false,
        rowsAdded: 29,
        rowsRemoved: 50,
        rowsChanged: 17,
      }),
      change('table', 'b', 'changed', { structureChanged: false, rowsChanged: 2 }),
    ]);
    expect(message).toBe(
      'snapshot h: rows +29 -50 ~19 in 2 tables\n\nDatabase: db\n\nRows changed: a (+29 -50 ~17), b (+0 -0 ~2)\n',
    );
  });
});
