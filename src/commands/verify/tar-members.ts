import type { Readable } from "node:stream";
import { extract } from "tar-stream";
import { paddedDataBytes, tarHeaderBytes } from "../../sinks/tar-member-chunks.js";

/** One member of a shard, read whole (shard members are small), and where its header starts. */
export interface ShardMember {
  name: string;
  data: Buffer;
  offset: number;
}

/** The members of a tar, each read whole, with the offset of its header. */
export async function* tarMembers(input: Readable): AsyncGenerator<ShardMember> {
  const reader = extract();
  input.on("error", (error) => reader.destroy(error));
  input.pipe(reader);
  let offset = 0;
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    yield { name: entry.header.name, data, offset };
    offset += tarHeaderBytes(entry.header.name) + paddedDataBytes(data.length);
  }
}
