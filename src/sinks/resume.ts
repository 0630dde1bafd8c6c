import { createReadStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { daliIndexName, daliIndexText, daliSamples } from "./dali-index.js";
import { PARTIAL_SUFFIX, removeOutputFile } from "./output-file.js";
import type { WidsIndex } from "./shard-index.js";
import { type ReadShard, readShardBack } from "./shard-readback.js";
import type { ShardInfo } from "./sink.js";
import { shardFileName, shardFilePattern } from "./webdataset-names.js";

export { readShardStream } from "./shard-readback.js";

/** The shards an earlier run finished, and the keys of the samples in them. */
export interface ResumePoint {
  shards: ShardInfo[];
  keys: Set<string>;
  /** Shards found that were not complete, and why: removed with those after them, made again. */
  redone?: string[];
}

export interface ResumeOptions {
  /**
   * The folder's `index.json` records every complete shard (the run writes it after each one):
   * a shard must match its line. False for a partition, whose folder's index is the merge's.
   * Default true.
   */
  indexed?: boolean;
  /**
   * The run writes DALI indexes (`--dali-index`): a shard is complete only with its `.idx`
   * beside it, listing exactly its members. Default false.
   */
  daliIndex?: boolean;
}

type Recorded = ReadonlyMap<string, WidsIndex["shardlist"][number]>;

/**
 * Reads back the complete shards of an earlier run in `dir` (`{name}-000000.tar`, ... in an
 * unbroken run from 0) and removes the `.partial` files an interruption left (shards, the index).
 * A shard is complete when its tar ends with the end-of-archive blocks and its size, sample count
 * and MD5 are those the index recorded (and, with `daliIndex`, its DALI index lists its members);
 * the first that is not, and every shard after it, are removed and written again (`redone` says
 * which and why), with their DALI indexes.
 */
export async function findResumePoint(
  dir: string,
  name: string,
  options: ResumeOptions = {},
): Promise<ResumePoint> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return { shards: [], keys: new Set() };
  }
  const recorded = options.indexed === false ? undefined : await recordedShards(dir);
  const shards: ShardInfo[] = [];
  const keys = new Set<string>();
  const present = new Set(files);
  let broken: string | undefined;
  for (let index = 0; present.has(shardFileName(name, index)); index++) {
    const file = shardFileName(name, index);
    const shardKeys = new Set<string>();
    const verdict = await checkShard(dir, file, recorded, shardKeys, options.daliIndex === true);
    if (typeof verdict === "string") {
      broken = `${join(dir, file)}: not complete (${verdict}): it and the shards after it are made again`;
      break;
    }
    shards.push(verdict);
    for (const key of shardKeys) keys.add(key);
  }
  const pattern = shardFilePattern(name, `(${PARTIAL_SUFFIX})?`, "tar|idx");
  // The index is rewritten after every shard: a kill can leave one half-written.
  const index = new RegExp(`^index\\.json${PARTIAL_SUFFIX}$`);
  const known = new Set(shards.flatMap((shard) => [shard.name, daliIndexName(shard.name)]));
  for (const file of files) {
    const left = pattern.test(file) || (options.indexed !== false && index.test(file));
    if (left && !known.has(file)) await removeOutputFile(dir, join(dir, file));
  }
  return { shards, keys, ...(broken !== undefined && { redone: [broken] }) };
}

/** The shards `dir/index.json` lists, by file name; none when it is missing or unreadable. */
async function recordedShards(dir: string): Promise<Recorded | undefined> {
  const text = await readFile(join(dir, "index.json"), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const index = JSON.parse(text) as WidsIndex;
    return new Map((index.shardlist ?? []).map((entry) => [entry.url, entry]));
  } catch {
    return new Map();
  }
}

/** The shard when it is complete; else why not. */
async function checkShard(
  dir: string,
  file: string,
  recorded: Recorded | undefined,
  keys: Set<string>,
  daliIndex: boolean,
): Promise<ShardInfo | string> {
  let shard: ReadShard;
  try {
    shard = await readShardBack(file, createReadStream(join(dir, file)), keys);
  } catch (cause) {
    return `it cannot be read as a tar: ${(cause as Error).message}`;
  }
  const { ended, members, ...info } = shard;
  if (info.bytes === 0) return "it is empty, 0 bytes";
  if (!ended) return "it is cut short: its tar lacks the end-of-archive blocks";
  if (daliIndex) {
    const idx = daliIndexName(file);
    const text = await readFile(join(dir, idx), "utf8").catch(() => undefined);
    if (text === undefined) return `its DALI index ${idx} is missing`;
    if (text !== daliIndexText(daliSamples(members))) {
      return `its DALI index ${idx} does not list its members`;
    }
  }
  if (recorded === undefined) return info;
  const line = recorded.get(file);
  if (line === undefined) return "index.json does not record it: the run stopped before it could";
  if (line.filesize !== info.bytes)
    return `${info.bytes.toLocaleString("en-US")} bytes, index.json recorded ${line.filesize.toLocaleString("en-US")}`;
  if (line.nsamples !== info.samples)
    return `${info.samples} samples, index.json recorded ${line.nsamples}`;
  if (line.md5sum !== info.md5) return `MD5 ${info.md5}, index.json recorded ${line.md5sum}`;
  return info;
}
