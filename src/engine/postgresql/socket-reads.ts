/**
 * A plain (not TLS) socket for pg that reads into one buffer of {@link READ_BUFFER_BYTES}
 * (Node's `onread`), where a socket otherwise allocates a new 64 KiB buffer for every read:
 * a dump reads hundreds of megabytes, and each such buffer is garbage to collect and fresh
 * memory to fault in.
 *
 * The buffer is overwritten by the next read, and pg's protocol parser keeps a reference to
 * the bytes of a message split between two reads: every `data` listener gets its own copy of
 * the bytes, but for one marked {@link READS_IN_PLACE} (copy-out.ts, which copies out what
 * it keeps before it returns), which gets them in place.
 */
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';

/** Bytes of the one buffer a socket reads into. */
export const READ_BUFFER_BYTES = 256 * 1024;

/** Marks a `data` listener that is done with the bytes when it returns (see the module's doc). */
export const READS_IN_PLACE = Symbol('reads in place');

/** A `data` listener, possibly marked {@link READS_IN_PLACE}. */
type DataListener = ((chunk: Buffer) => void) & { [READS_IN_PLACE]?: boolean };

/** A new unconnected socket (pg's `stream` option) that reads into one reused buffer. */
export function socketReadingInPlace(): Socket {
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  // Node takes `onread` in the constructor too (since 12), though its types name it only
  // among connect()'s options; without it, `data` events come as usual.
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    onread: {
      buffer,
      callback: (bytes: number, read: Uint8Array) => {
        const chunk = Buffer.from(read.buffer, read.byteOffset, bytes);
        const listeners = socket.listeners('data') as DataListener[];
        const inPlace = listeners.length === 1 && listeners[0]?.[READS_IN_PLACE] === true;
        socket.emit('data', inPlace ? chunk : Buffer.from(chunk));
        return true;
      },
    },
  };
  const socket = new Socket(options);
  return socket;
}
