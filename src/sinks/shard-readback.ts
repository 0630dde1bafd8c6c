import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { extract } from "tar-stream";
import type { DaliComponent } from "./dali-index.js";
import type { ShardInfo } from "./sink.js";
import { END_OF_ARCHIVE_BYTES, paddedDataBytes, tarHeaderBytes } from "./tar-member-chunks.js";

/** A shard read back: what the index needs of it, and whether its tar ends as a written one does. */
export interface ReadShard extends ShardInfo {
  /**
   * The end-of-archive blocks follow the last member and nothing else does: false for a shard
   * cut short (even exactly between members, which a tar reader takes without an error) or empty.
   */
  ended: boolean;
  /** Each member's name, and where its data starts and how long it is: what a DALI index lists. */
  members: Omit<DaliComponent, "extension">[];
}

/**
 * Reads one shard's bytes (a file or a download), adds the keys of its samples to `keys`, and
 * returns what the index needs of it: counts, size, SHA-256 and MD5.
 */
export async function readShardStream(
  name: string,
  input: Readable,
  keys: Set<string>,
): Promise<ShardInfo> {
  const { ended: _, members: __, ...shard } = await readShardBack(name, input, keys);
  return shard;
}

/** As `readShardStream`, and whether the shard's tar ends as a written one does. */
export async function readShardBack(
  name: string,
  input: Readable,
  keys: Set<string>,
): Promise<ReadShard> {
  const sha256 = createHash("sha256");
  const md5 = createHash("md5");
  let bytes = 0;
  let samples = 0;
  // Where the members end (header and padded data each).
  let membersEnd = 0;
  const members: ReadShard["members"] = [];
  let tail = Buffer.alloc(0);
  const reader = extract();
  input.on("data", (chunk) => {
    const buffer = chunk as Buffer;
    sha256.update(buffer);
    md5.update(buffer);
    bytes += buffer.length;
    tail = Buffer.concat([tail, buffer]).subarray(-END_OF_ARCHIVE_BYTES);
  });
  input.on("error", (error) => reader.destroy(error));
  input.pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const size = entry.header.size ?? 0;
    const offset = membersEnd + tarHeaderBytes(entry.header.name);
    members.push({ name: entry.header.name, offset, size });
    membersEnd = offset + paddedDataBytes(size);
    if (!entry.header.name.endsWith(".json")) continue;
    const key = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { key?: unknown }).key;
    if (typeof key !== "string") throw new Error(`${entry.header.name} has no key`);
    keys.add(key);
    samples++;
  }
  const ended =
    membersEnd > 0 &&
    bytes === membersEnd + END_OF_ARCHIVE_BYTES &&
    tail.every((byte) => byte === 0);
  const [sha, md] = [sha256.digest("hex"), md5.digest("hex")];
  return { name, samples, bytes, sha256: sha, md5: md, ended, members };
}
