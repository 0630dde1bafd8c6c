/**
 * A Blob over Buffers already in memory (a shard's tar chunks), without copying them: Node's own
 * Blob copies its parts, which would hold every shard twice while it is built and uploaded.
 * Read by @huggingface/hub (size, slice, arrayBuffer for small files, stream for hashing) and by
 * the streaming upload.
 */
export class ChunkedBlob extends Blob {
  private readonly chunks: readonly Buffer[];
  /** Offset of each chunk in the whole, plus the total at the end. */
  private readonly offsets: readonly number[];
  private readonly start: number;
  private readonly end: number;
  // Own properties shadow Blob's getters, which read native state this object does not have.
  override readonly size: number;
  override readonly type = "application/x-tar";

  constructor(chunks: readonly Buffer[], offsets?: readonly number[], start = 0, end?: number) {
    super([]);
    this.chunks = chunks;
    this.offsets = offsets ?? cumulative(chunks);
    this.start = start;
    this.end = end ?? this.offsets[this.offsets.length - 1]!;
    this.size = this.end - this.start;
  }

  override slice(start = 0, end = this.size): ChunkedBlob {
    const from = clamp(start, this.size);
    const to = Math.max(from, clamp(end, this.size));
    return new ChunkedBlob(this.chunks, this.offsets, this.start + from, this.start + to);
  }

  /** The parts in order, as views into the chunks. */
  *parts(): Generator<Buffer> {
    let index = chunkAt(this.offsets, this.start);
    for (; index < this.chunks.length && this.offsets[index]! < this.end; index++) {
      const chunkStart = this.offsets[index]!;
      const chunk = this.chunks[index]!;
      const from = Math.max(0, this.start - chunkStart);
      const to = Math.min(chunk.length, this.end - chunkStart);
      if (to > from) yield chunk.subarray(from, to);
    }
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    const whole = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts()) {
      whole.set(part, at);
      at += part.length;
    }
    return whole.buffer;
  }

  override async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.arrayBuffer());
  }

  override async text(): Promise<string> {
    return Buffer.from(await this.arrayBuffer()).toString("utf8");
  }

  override stream(): ReturnType<Blob["stream"]> {
    const parts = this.parts();
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.next();
        if (next.done === true) controller.close();
        else controller.enqueue(next.value);
      },
    }) as ReturnType<Blob["stream"]>;
  }
}

function cumulative(chunks: readonly Buffer[]): number[] {
  const offsets = [0];
  for (const chunk of chunks) offsets.push(offsets[offsets.length - 1]! + chunk.length);
  return offsets;
}

function clamp(position: number, size: number): number {
  return position < 0 ? Math.max(0, size + position) : Math.min(position, size);
}

/** Index of the chunk holding byte `position` (binary search over the offsets). */
function chunkAt(offsets: readonly number[], position: number): number {
  let low = 0;
  let high = offsets.length - 2;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (offsets[middle]! <= position) low = middle;
    else high = middle - 1;
  }
  return Math.max(0, low);
}
