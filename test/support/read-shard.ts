import { createReadStream } from "node:fs";
import { join } from "node:path";
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

/** Each sample's members (`{key}.jpg`, `.json`, `.cls`) by sample key, from every shard listed. */
export async function samplesIn(
  dir: string,
  shards: readonly string[],
): Promise<Map<string, Buffer[]>> {
  const samples = new Map<string, Buffer[]>();
  for (const shard of shards) {
    for (const member of await readShard(join(dir, shard))) {
      const key = member.name.slice(0, member.name.indexOf("."));
      const members = samples.get(key) ?? [];
      members.push(Buffer.from(`${member.name}\n`), member.data);
      samples.set(key, members);
    }
  }
  return samples;
}
