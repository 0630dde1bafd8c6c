import { type FileHandle, open } from "node:fs/promises";

/** `writev` until every byte is down: a regular file may take fewer bytes than asked. */
export async function writeAll(file: FileHandle, chunks: readonly Buffer[]): Promise<void> {
  let pending = chunks.filter((chunk) => chunk.length > 0);
  while (pending.length > 0) {
    let { bytesWritten } = await file.writev(pending);
    if (bytesWritten === 0) throw new Error("the file takes no more bytes");
    const rest: Buffer[] = [];
    for (const chunk of pending) {
      if (bytesWritten >= chunk.length) bytesWritten -= chunk.length;
      else {
        rest.push(chunk.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}

/** A file opened for writing a shard: `writeAll` to it, and a `close` that runs once. */
export async function openForWriting(
  path: string,
): Promise<{ write(chunks: readonly Buffer[]): Promise<void>; close(): Promise<void> }> {
  const file = await open(path, "w");
  let closed = false;
  return {
    write: (chunks) => writeAll(file, chunks),
    close: async () => {
      if (closed) return;
      closed = true;
      await file.close();
    },
  };
}
