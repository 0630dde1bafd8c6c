import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { extract } from "tar-stream";
import { MaskpipeError } from "../core/errors.js";
import { PARTIAL_SUFFIX, removeOutputFile } from "./output-file.js";
import type { ShardInfo } from "./sink.js";
import { shardFileName, shardFilePattern } from "./webdataset-names.js";

/** The shards an earlier run finished, and the keys of the samples in them. */
export interface ResumePoint {
  shards: ShardInfo[];
  keys: Set<string>;
}

/**
 * Reads back the complete shards of an earlier run in `dir` (`{name}-000000.tar`, ... in an
 * unbroken run from 0; a shard only ever gets its final name when complete) and removes the
 * `.partial` files an interruption left. Shards after a gap are not trusted: they are removed
 * too, and written again.
 */
export async function findResumePoint(dir: string, name: string): Promise<ResumePoint> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return { shards: [], keys: new Set() };
  }
  const shards: ShardInfo[] = [];
  const keys = new Set<string>();
  const present = new Set(files);
  for (let index = 0; ; index++) {
    const file = shardFileName(name, index);
    if (!present.has(file)) break;
    shards.push(await readShard(dir, file, keys));
  }
  const pattern = shardFilePattern(name, `(${PARTIAL_SUFFIX})?`);
  const known = new Set(shards.map((shard) => shard.name));
  for (const file of files) {
    if (pattern.test(file) && !known.has(file)) await removeOutputFile(dir, join(dir, file));
  }
  return { shards, keys };
}

async function readShard(dir: string, file: string, keys: Set<string>): Promise<ShardInfo> {
  const path = join(dir, file);
  try {
    return await readShardStream(file, createReadStream(path), keys);
  } catch (cause) {
    throw new MaskpipeError(
      "ERR_OUTPUT",
      `${path}: cannot be read back to resume (${(cause as Error).message}); remove it and run again`,
      { cause },
    );
  }
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
  const sha256 = createHash("sha256");
  const md5 = createHash("md5");
  let bytes = 0;
  let samples = 0;
  const reader = extract();
  input.on("data", (chunk) => {
    const buffer = chunk as Buffer;
    sha256.update(buffer);
    md5.update(buffer);
    bytes += buffer.length;
  });
  input.on("error", (error) => reader.destroy(error));
  input.pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (!entry.header.name.endsWith(".json")) continue;
    const key = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { key?: unknown }).key;
    if (typeof key !== "string") throw new Error(`${entry.header.name} has no key`);
    keys.add(key);
    samples++;
  }
  return { name, samples, bytes, sha256: sha256.digest("hex"), md5: md5.digest("hex") };
}
