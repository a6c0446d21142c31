/**
 * SHA-256 of a snapshot file as it streams past, in two parts: the structure (everything up
 * to the end of the line that ends its CREATE statement) and the rows (everything after), as
 * the snapshot's manifest records them. The split is known only once the reader reaches the
 * CREATE statement, so the bytes before it are held until then (a few KB).
 */
import { createHash, type Hash } from 'node:crypto';

export class SplitDigest {
  private readonly head: Hash = createHash('sha256');
  private readonly tail: Hash = createHash('sha256');
  private held: Buffer[] = [];
  private heldBytes = 0;
  private split = false;

  /** `chunks`, passed through unchanged while they are hashed. */
  async *tee(chunks: AsyncIterable<Buffer | Uint8Array>): AsyncIterable<Buffer> {
    for await (const input of chunks) {
      const chunk = Buffer.isBuffer(input)
        ? input
        : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      if (this.split) this.tail.update(chunk);
      else {
        this.held.push(chunk);
        this.heldBytes += chunk.length;
      }
      yield chunk;
    }
  }

  /**
   * The structure ends after the line that holds byte `offset` (just past a statement's
   * delimiter): its newline included.
   */
  splitAfter(offset: number): void {
    if (this.split) return;
    const bytes = Buffer.concat(this.held, this.heldBytes);
    let end = Math.min(offset, bytes.length);
    if (bytes[end] === 0x0a) end += 1;
    this.head.update(bytes.subarray(0, end));
    this.tail.update(bytes.subarray(end));
    this.held = [];
    this.heldBytes = 0;
    this.split = true;
  }

  /** Hex digests of both parts; call once, after the stream has ended. */
  digests(): { structure: string; rows: string } {
    if (!this.split) this.splitAfter(this.heldBytes);
    return { structure: this.head.digest('hex'), rows: this.tail.digest('hex') };
  }
}
