import { type FileHandle, open } from "node:fs/promises";

/** Positional reads from something with a known size: a local file now, a URL later. */
export interface ByteReader {
  readonly size: number;
  /** Up to `length` bytes from `offset`; fewer only where the file ends first. */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openFileReader(path: string): Promise<ByteReader> {
  const handle: FileHandle = await open(path, "r");
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length, signal) {
      signal?.throwIfAborted();
      const wanted = Math.max(0, Math.min(length, size - offset));
      const buffer = Buffer.allocUnsafe(wanted);
      let filled = 0;
      while (filled < wanted) {
        const { bytesRead } = await handle.read(buffer, filled, wanted - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === wanted ? buffer : buffer.subarray(0, filled);
    },
    close: () => handle.close(),
  };
}
