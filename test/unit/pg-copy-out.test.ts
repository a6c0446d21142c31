/**
 * The reader of `COPY ... TO STDOUT` (copy-out.ts) on a fake connection: the server's
 * messages in socket chunks cut anywhere (in a header, in a row), rows gathered into chunks of
 * at most `dataBytes` data bytes under the head and above the tail, a longer row alone, the
 * socket handed back to the driver with what follows the CopyDone, an error handed to the
 * driver, and the rest dropped when the consumer stops early.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CopyOutReader } from '../../src/engine/postgresql/copy-out.js';

function message(code: string, body: Buffer | string): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const header = Buffer.alloc(5);
  header.write(code, 0, 'latin1');
  header.writeUInt32BE(payload.length + 4, 1);
  return Buffer.concat([header, payload]);
}

/** The server's answer to a COPY TO of `rows` (each a line with its newline), then what the driver reads. */
function copyOut(rows: readonly string[], after = 'CZ'): Buffer {
  return Buffer.concat([
    message('H', Buffer.from([0, 0, 1, 0, 0])),
    ...rows.map((row) => message('d', row)),
    message('c', ''),
    Buffer.from(after, 'latin1'),
  ]);
}

/** A connection whose socket is an EventEmitter with the driver's one `data` listener. */
function fakeConnection(): {
  connection: never;
  stream: EventEmitter & { pause(): void; resume(): void; paused: boolean };
  driverGot: Buffer[];
  sent: string[];
} {
  const driverGot: Buffer[] = [];
  const sent: string[] = [];
  const stream = Object.assign(new EventEmitter(), {
    paused: false,
    pause() {
      stream.paused = true;
    },
    resume() {
      stream.paused = false;
    },
  });
  stream.on('data', (chunk: Buffer) => driverGot.push(Buffer.from(chunk)));
  const connection = {
    stream,
    query: (text: string) => sent.push(text),
  } as never;
  return { connection, stream, driverGot, sent };
}

function reader(dataBytes: number): CopyOutReader {
  return new CopyOutReader({
    sql: 'COPY (SELECT 1) TO STDOUT',
    head: Buffer.from('HEAD;\n'),
    tail: Buffer.from('\\.\n'),
    dataBytes,
  });
}

/** Feeds `bytes` in socket chunks of `size` bytes, then ReadyForQuery as the driver would. */
async function readAll(
  copy: CopyOutReader,
  bytes: Buffer,
  size: number,
): Promise<{ chunks: string[]; rows: number[]; driverGot: string; sent: string[] }> {
  const fake = fakeConnection();
  copy.submit(fake.connection);
  for (let at = 0; at < bytes.length; at += size)
    fake.stream.emit('data', bytes.subarray(at, at + size));
  copy.handleReadyForQuery();
  const chunks: string[] = [];
  const rows: number[] = [];
  for await (const chunk of copy) {
    chunks.push(chunk.bytes.toString('utf8'));
    rows.push(chunk.rows);
  }
  return {
    chunks,
    rows,
    driverGot: Buffer.concat(fake.driverGot).toString('latin1'),
    sent: fake.sent,
  };
}

describe('CopyOutReader', () => {
  const rows = ['1\tone\n', '2\ttwo\n', '3\tthree ünï\n', '4\t\\N\n', '5\tfive\n'];

  it('gathers rows into chunks of whole lines, whatever the socket chunks', async () => {
    for (const size of [1, 2, 3, 5, 7, 13, 1000]) {
      const result = await readAll(reader(16), copyOut(rows), size);
      expect(result.sent).toEqual(['COPY (SELECT 1) TO STDOUT']);
      // 14 bytes of the third row (ü and ï are two each) and 5 of the fourth: not in 16.
      expect(result.chunks).toEqual([
        'HEAD;\n1\tone\n2\ttwo\n\\.\n',
        'HEAD;\n3\tthree ünï\n\\.\n',
        'HEAD;\n4\t\\N\n5\tfive\n\\.\n',
      ]);
      expect(result.rows).toEqual([2, 1, 2]);
      // What follows the CopyDone is the driver's again.
      expect(result.driverGot).toBe('CZ');
    }
  });

  it('puts a row longer than a chunk alone, and gives no chunk for no rows', async () => {
    const long = `${'x'.repeat(40)}\n`;
    const result = await readAll(reader(16), copyOut(['1\n', long, '2\n']), 9);
    expect(result.chunks).toEqual(['HEAD;\n1\n\\.\n', `HEAD;\n${long}\\.\n`, 'HEAD;\n2\n\\.\n']);
    const none = await readAll(reader(16), copyOut([]), 4);
    expect(none.chunks).toEqual([]);
  });

  it('checks the count of rows against the server', async () => {
    const copy = reader(1024);
    const fake = fakeConnection();
    copy.submit(fake.connection);
    fake.stream.emit('data', copyOut(rows, ''));
    copy.handleCommandComplete({ text: 'COPY 4' });
    copy.handleReadyForQuery();
    await expect(async () => {
      for await (const chunk of copy) expect(chunk.rows).toBe(5);
    }).rejects.toThrow(/sent 4 rows, 5 lines/);
  });

  it('hands an error to the driver and reports it', async () => {
    const copy = reader(1024);
    const fake = fakeConnection();
    copy.submit(fake.connection);
    const error = message('E', 'SERROR\0');
    const bytes = Buffer.concat([message('H', Buffer.from([0, 0, 0])), message('d', '1\n'), error]);
    // The error's header cut in two.
    fake.stream.emit('data', bytes.subarray(0, bytes.length - error.length + 2));
    fake.stream.emit('data', bytes.subarray(bytes.length - error.length + 2));
    expect(Buffer.concat(fake.driverGot).equals(error)).toBe(true);
    copy.handleError(new Error('boom'));
    await expect(async () => {
      for await (const chunk of copy) expect(chunk).toBeUndefined();
    }).rejects.toThrow('boom');
  });

  it('pauses the socket while chunks wait, and drops the rest when the consumer stops', async () => {
    const copy = reader(4);
    const fake = fakeConnection();
    copy.submit(fake.connection);
    const all = copyOut(['1\n', '2\n', '3\n', '4\n', '5\n']);
    fake.stream.emit('data', all.subarray(0, 45));
    expect(fake.stream.paused).toBe(true);
    for await (const chunk of copy) {
      expect(chunk.bytes.toString()).toBe('HEAD;\n1\n2\n\\.\n');
      break;
    }
    expect(fake.stream.paused).toBe(false);
    fake.stream.emit('data', all.subarray(45));
    expect(Buffer.concat(fake.driverGot).toString('latin1')).toBe('CZ');
  });
});
