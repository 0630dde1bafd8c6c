import { createReadStream } from "node:fs";
import { extract } from "tar-stream";

export interface ShardMember {
  name: string;
  data: Buffer;
  header: {
    mode?: number;
    uid?: number;
    gid?: number;
    uname?: string;
    gname?: string;
    mtime?: Date;
  };
}

/** Every member of a tar, in order, read back with tar-stream. */
export async function readShard(path: string): Promise<ShardMember[]> {
  const members: ShardMember[] = [];
  const reader = extract();
  createReadStream(path).pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    members.push({ name: entry.header.name, data: Buffer.concat(chunks), header: entry.header });
  }
  return members;
}
