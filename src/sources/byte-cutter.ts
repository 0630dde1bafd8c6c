/**
 * Cuts a stream of chunks into pieces of given lengths, in order: what an archive written as
 * one stream (7-Zip's `x -so`) needs to give each member its bytes. Reads only as far as asked,
 * so the stream's own backpressure holds.
 */
export class ByteCutter {
  private chunk: Buffer = Buffer.alloc(0);
  private offset = 0;
  /** Bytes handed out or skipped so far. */
  position = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** The next `length` bytes, or fewer if the stream ends first. */
  async take(length: number): Promise<Buffer> {
    if (this.chunk.length - this.offset >= length) {
      const piece = this.chunk.subarray(this.offset, this.offset + length);
      this.offset += length;
      this.position += length;
      return piece;
    }
    const parts: Buffer[] = [];
    let needed = length;
    while (needed > 0) {
      if (this.offset === this.chunk.length && !(await this.refill())) break;
      const piece = this.chunk.subarray(this.offset, this.offset + needed);
      parts.push(piece);
      this.offset += piece.length;
      needed -= piece.length;
    }
    const taken = Buffer.concat(parts, length - needed);
    this.position += taken.length;
    return taken;
  }

  /** Passes over the next `length` bytes; returns how many there were. */
  async skip(length: number): Promise<number> {
    let needed = length;
    while (needed > 0) {
      if (this.offset === this.chunk.length && !(await this.refill())) break;
      const step = Math.min(needed, this.chunk.length - this.offset);
      this.offset += step;
      needed -= step;
    }
    this.position += length - needed;
    return length - needed;
  }

  /** True when the stream has no byte left. */
  async atEnd(): Promise<boolean> {
    return this.offset === this.chunk.length && !(await this.refill());
  }

  private async refill(): Promise<boolean> {
    for (;;) {
      const next = await this.source.next();
      if (next.done === true) return false;
      if (next.value.length === 0) continue;
      this.chunk = next.value;
      this.offset = 0;
      return true;
    }
  }
}
