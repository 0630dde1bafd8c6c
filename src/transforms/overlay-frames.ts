/*
 * The framing between the overlay stage and its worker processes, over a pipe: each message is
 * an 8-byte prefix (the JSON header's length and the payload's, big-endian uint32), the header
 * as JSON, then the payload: the buffers the header's `sizes` lists, back to back. Bytes go as
 * they are, with no encoding (an image is sent as one write of its own buffer).
 */

/** What every frame's header says of its payload: the length of each buffer in it. */
export interface FrameHeader {
  sizes: readonly number[];
}

export interface Frame<H extends FrameHeader = FrameHeader> {
  header: H;
  payloads: Buffer[];
}

const PREFIX = 8;

/** A message as the buffers to write, in order (the prefix and header first). */
export function frameBuffers<H extends FrameHeader>(
  header: H,
  payloads: readonly Buffer[],
): Buffer[] {
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.allocUnsafe(PREFIX + json.length);
  head.writeUInt32BE(json.length, 0);
  head.writeUInt32BE(
    payloads.reduce((sum, payload) => sum + payload.length, 0),
    4,
  );
  json.copy(head, PREFIX);
  return [head, ...payloads];
}

/**
 * Cuts frames out of a byte stream, whatever the chunks' sizes: `push` each chunk as it comes
 * and take the frames it completes. A payload inside one chunk is a view of it, not a copy.
 */
export class FrameReader<H extends FrameHeader = FrameHeader> {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private lengths: { header: number; payload: number } | undefined;

  push(chunk: Buffer): Frame<H>[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame<H>[] = [];
    while (true) {
      if (this.lengths === undefined) {
        if (this.buffered < PREFIX) break;
        const prefix = this.take(PREFIX);
        this.lengths = { header: prefix.readUInt32BE(0), payload: prefix.readUInt32BE(4) };
      }
      const { header, payload } = this.lengths;
      if (this.buffered < header + payload) break;
      this.lengths = undefined;
      const parsed = JSON.parse(this.take(header).toString()) as H;
      const bytes = this.take(payload);
      let offset = 0;
      const payloads = parsed.sizes.map((size) => {
        const part = bytes.subarray(offset, offset + size);
        offset += size;
        return part;
      });
      frames.push({ header: parsed, payloads });
    }
    return frames;
  }

  /** Bytes received that do not make a whole frame yet. */
  get pending(): number {
    return this.buffered;
  }

  /** The next `length` bytes, a view of the first chunk when they are all in it. */
  private take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    this.buffered -= length;
    const first = this.chunks[0]!;
    if (first.length >= length) {
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0]!;
      const part = Math.min(chunk.length, length - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    return out;
  }
}
