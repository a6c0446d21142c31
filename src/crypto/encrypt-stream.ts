/**
 * age encryption as a stream Transform, for output whose size is not known in advance (a
 * dump to a file or to stdout): the same format as {@link EncryptingWriter}, readable by
 * the stock `age` CLI, with memory bounded by one 64 KiB chunk plus what the stream buffers.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CryptoError } from '../errors.js';
import { AGE_CHUNK_SIZE, sealAgeChunk, startAgeFile } from './encrypting-writer.js';

/** A Transform from plaintext bytes to an age file encrypted to `recipients`. */
export async function createEncryptStream(recipients: readonly string[]): Promise<Transform> {
  if (recipients.length === 0) throw new CryptoError('no age recipients to encrypt to');
  const { preamble, payloadKey } = await startAgeFile(recipients);
  let pending: Buffer = Buffer.alloc(0);
  let counter = 0n;
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (!started) {
        this.push(preamble);
        started = true;
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      // The final chunk is the only one flagged, so a full chunk is sealed only once more follows.
      while (pending.length - offset > AGE_CHUNK_SIZE) {
        for (const part of sealAgeChunk(
          payloadKey,
          counter,
          pending.subarray(offset, offset + AGE_CHUNK_SIZE),
          false,
        ))
          this.push(part);
        counter += 1n;
        offset += AGE_CHUNK_SIZE;
      }
      pending = offset === 0 ? pending : Buffer.from(pending.subarray(offset));
      callback();
    },
    flush(callback: TransformCallback) {
      if (!started) this.push(preamble);
      for (const part of sealAgeChunk(payloadKey, counter, pending, true)) this.push(part);
      pending = Buffer.alloc(0);
      callback();
    },
  });
}
