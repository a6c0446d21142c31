/**
 * The script reader's row fast path (issue 17): after an INSERT the checker accepted, row
 * lines of the same head are checked by a bounded scan and joined as bytes. Whatever it
 * joins, the checker accepts as the same rows; whatever it cannot prove to be one row of
 * plain literals is yielded as usual, for the checker to judge; and the rows sent are the
 * same as without it.
 */
import { describe, expect, it } from 'vitest';
import type { ScriptStatement, StatementChecker } from '../../src/engine/engine.js';
import { mariadbScriptFormat } from '../../src/engine/mariadb/script-format.js';
import { readScript } from '../../src/engine/mariadb/script-reader.js';
import { framedInPlace } from '../../src/engine/mariadb/statement-buffer.js';
import { UnexpectedStatementError } from '../../src/errors.js';

const HEAD = 'INSERT INTO `t` (`a`,`b`) VALUES';

const PREAMBLE = [
  'SET NAMES utf8mb4;',
  "SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';",
  '',
  'CREATE TABLE `t` (',
  '  `a` int NOT NULL,',
  '  `b` text,',
  '  PRIMARY KEY (`a`)',
  ');',
  '',
  'START TRANSACTION;',
];

function fileOf(rows: readonly string[]): string {
  return [...PREAMBLE, ...rows, 'COMMIT;', ''].join('\n');
}

async function* chunked(text: string, size: number): AsyncIterable<Buffer> {
  const bytes = Buffer.from(text);
  await Promise.resolve();
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

interface Outcome {
  statements: ScriptStatement[];
  /** Rows of consecutive INSERTs as they would be sent, one string a run of one head. */
  sent: string[];
  rows: number;
  refused?: number;
}

/** Reads and checks as restore does; `join`: with the fast path. */
async function restoreRead(
  text: string,
  join: boolean,
  chunkSize = 64 * 1024,
  joinBytes = 200,
): Promise<Outcome> {
  const checker: StatementChecker = mariadbScriptFormat.checker({ kind: 'table', name: 't' });
  const outcome: Outcome = { statements: [], sent: [], rows: 0 };
  let run: string[] | undefined;
  const end = (): void => {
    if (run !== undefined) outcome.sent.push(run.join(','));
    run = undefined;
  };
  const options = join ? { checker, joinBytes } : undefined;
  for await (const statement of readScript(chunked(text, chunkSize), options)) {
    outcome.statements.push(statement);
    if (statement.joined !== undefined) {
      expect(statement.sql.startsWith(`${HEAD} (`)).toBe(true);
      // The checker itself accepts what was joined, as the same number of rows.
      const fresh = mariadbScriptFormat.checker({ kind: 'rows', table: 't' });
      expect(fresh.check(statement.sql).rows).toBe(statement.joined.rows);
      // Never over the limit, but for a single row that is over it by itself.
      if (statement.joined.rows > 1)
        expect(Buffer.byteLength(statement.sql)).toBeLessThanOrEqual(joinBytes);
      outcome.rows += statement.joined.rows;
      run ??= [];
      run.push(statement.sql.slice(HEAD.length + 1));
      continue;
    }
    let checked;
    try {
      checked = checker.check(statement.sql);
    } catch (error) {
      expect(error).toBeInstanceOf(UnexpectedStatementError);
      outcome.refused = statement.line;
      return outcome;
    }
    outcome.rows += checked.rows;
    if (checked.valuesAt !== undefined && statement.sql.startsWith(`${HEAD} `)) {
      run ??= [];
      run.push(statement.sql.slice(HEAD.length + 1));
    } else end();
  }
  end();
  checker.finish();
  return outcome;
}

const line = (values: string): string => `${HEAD} (${values});`;

describe('row lines joined by the reader', () => {
  it('joins the rows after the first, with their lines, under the size limit', async () => {
    const rows = Array.from({ length: 12 }, (_, index) =>
      line(`${String(index)},'row ${String(index)}'`),
    );
    const text = fileOf(rows);
    const joined = await restoreRead(text, true, 64 * 1024, 80);
    const plain = await restoreRead(text, false);
    expect(joined.rows).toBe(12);
    expect(joined.sent).toEqual(plain.sent);
    const runs = joined.statements.filter((statement) => statement.joined !== undefined);
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.flatMap((statement) => statement.joined?.lines)).toEqual(
      Array.from({ length: 11 }, (_, index) => PREAMBLE.length + 2 + index),
    );
    expect(runs[0]?.sql).toBe(`${HEAD} (1,'row 1'),(2,'row 2'),(3,'row 3'),(4,'row 4')`);
  });

  it('reads literals as the checker does: escapes, doubled quotes, delimiters in strings', async () => {
    const values = [
      "1,'it\\'s'",
      "2,'a;b'",
      "3,'x''y'",
      "4,'back\\\\'",
      '5,NULL',
      '-6,0xABCDEF',
      "7,b'101'",
      '8.5,1.',
      '9e3,-1.5E-3',
      "10,''",
      "11,'ünïcødé 日本語 \\n'",
      "12,');\\nDROP TABLE x; --'",
    ];
    const text = fileOf(['INSERT INTO `t` (`a`,`b`) VALUES (0,NULL);', ...values.map(line)]);
    const joined = await restoreRead(text, true);
    expect(joined.refused).toBeUndefined();
    expect(joined.rows).toBe(13);
    expect(joined.sent).toEqual((await restoreRead(text, false)).sent);
    // Every row after the first one was joined.
    expect(
      joined.statements.reduce((sum, statement) => sum + (statement.joined?.rows ?? 0), 0),
    ).toBe(12);
  });

  it('leaves to the checker what it cannot prove, and the checker refuses what it must', async () => {
    const refused = [
      line('1,2) /* c */'),
      line("1,'x') ON DUPLICATE KEY UPDATE a = 1"),
      line('1,SLEEP(5)'),
      line('1,2),(3,@x'),
      'INSERT INTO `t` (`a`,`b`) VALUES (1,2); DROP TABLE u;',
      'INSERT INTO `u` (`a`,`b`) VALUES (1,2);',
      'INSERT INTO `t` (`a`,`b`) VALUES (1,2) -- x',
    ];
    for (const bad of refused) {
      const text = fileOf([line('0,1'), line('1,1'), bad, line('2,2')]);
      const outcome = await restoreRead(text, true);
      expect(outcome.refused, bad).toBe(PREAMBLE.length + 3);
      expect((await restoreRead(text, false)).refused, bad).toBe(PREAMBLE.length + 3);
    }
    // Accepted by the checker but not by the scan: read as usual, the same rows sent.
    const accepted = [
      line('1, 2'),
      line('1,TRUE'),
      line("1,_binary 'x'"),
      line("1,X'AB'"),
      line("1,'multi\nline'"),
      line('1,2),(3,4'),
      `${HEAD}(1,2);`,
      `${line('1,2')}  `,
    ];
    for (const odd of accepted) {
      const text = fileOf([line('0,1'), line('5,1'), odd, line('6,2'), line('7,2')]);
      const joined = await restoreRead(text, true);
      const plain = await restoreRead(text, false);
      expect(joined.refused, odd).toBeUndefined();
      expect(joined.rows, odd).toBe(plain.rows);
      expect(joined.sent.join(','), odd).toBe(plain.sent.join(','));
    }
  });

  it('joins nothing under NO_BACKSLASH_ESCAPES', async () => {
    const text = fileOf([
      "SET sql_mode = 'NO_BACKSLASH_ESCAPES';",
      line("1,'a'"),
      line("2,'b'"),
      line("3,'c'"),
    ]);
    const outcome = await restoreRead(text, true);
    expect(outcome.statements.some((statement) => statement.joined !== undefined)).toBe(false);
    expect(outcome.refused).toBeUndefined();
    expect(outcome.rows).toBe(3);
  });

  it('gives the same rows whatever the chunk size', async () => {
    const rows = Array.from({ length: 40 }, (_, index) =>
      line(`${String(index)},'${'x'.repeat((index * 37) % 250)}\\'${String(index)}'`),
    );
    const text = fileOf(rows);
    const plain = await restoreRead(text, false);
    for (const size of [1, 7, 64, 333, 4096]) {
      const joined = await restoreRead(text, true, size);
      expect(joined.rows).toBe(40);
      expect(joined.sent.join(',')).toBe(plain.sent.join(','));
    }
  });
});

describe('joined statements as bytes', () => {
  it('gives each its own bytes, reused only once released, with room for a packet header', async () => {
    const rows = Array.from({ length: 60 }, (_, index) =>
      line(`${String(index)},'ünï ${'y'.repeat(index % 30)}'`),
    );
    const checker = mariadbScriptFormat.checker({ kind: 'table', name: 't' });
    const kept: { statement: ScriptStatement; bytes: Uint8Array; copy: Buffer }[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let index = 0;
    for await (const statement of readScript(chunked(fileOf(rows), 97), {
      checker,
      joinBytes: 120,
    })) {
      const joined = statement.joined;
      if (joined === undefined) {
        checker.check(statement.sql);
        continue;
      }
      const bytes = joined.bytes as Uint8Array;
      expect(Buffer.from(bytes).toString('utf8')).toBe(statement.sql);
      // The packet header goes in the room before the statement, which is its own.
      const framed = framedInPlace(bytes, 5);
      expect(framed?.subarray(5).equals(bytes)).toBe(true);
      expect(framedInPlace(Buffer.from(bytes), 5)).toBeUndefined();
      buffers.add(bytes.buffer);
      // Every other statement is held (as one still running would be), the rest released.
      index += 1;
      if (index % 2 === 0) kept.push({ statement, bytes, copy: Buffer.from(bytes) });
      else joined.release?.();
    }
    expect(kept.length).toBeGreaterThan(3);
    // Held statements were never written over; released buffers were used again.
    for (const { bytes, copy } of kept) expect(Buffer.from(bytes).equals(copy)).toBe(true);
    expect(buffers.size).toBeLessThan(index);
  });
});
