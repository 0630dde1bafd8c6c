import { Readable } from "node:stream";

/** The bytes as a stream of odd-sized chunks (7, 513, 1000, 1, ... bytes), as networks deliver. */
export function oddChunks(data: Buffer): Readable {
  const sizes = [7, 513, 1000, 1, 4096, 333];
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks, { objectMode: false });
}
