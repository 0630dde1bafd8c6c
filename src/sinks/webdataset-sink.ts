import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { RunStats } from "../run-stats.js";
import type { Sample } from "../transforms/sample.js";
import { integerBetween, nonEmptyString } from "../validate.js";
import { widsIndex } from "./shard-index.js";
import { ShardWriter } from "./shard-writer.js";
import type { SampleSink, ShardInfo, SinkResult } from "./sink.js";
import {
  END_OF_ARCHIVE_BYTES,
  sampleMembers,
  shardFileName,
  tarMemberBytes,
} from "./webdataset-names.js";
import { writeFileAtomic } from "./write-file-atomic.js";

export interface WebDatasetSinkOptions {
  /** Folder the shards, `index.json` and nothing else are written to; created if missing. */
  dir: string;
  /** Shard name prefix: `{name}-000000.tar`, ... */
  name: string;
  /** Samples per shard at most. Default 10,000. */
  maxCount?: number;
  /** Bytes per shard at most (a single larger sample still gets a shard). Default 1 GB. */
  maxBytes?: number;
  stats?: RunStats;
  /** Complete shards of an interrupted run: kept, listed in index.json, numbering goes on. */
  resumeFrom?: readonly ShardInfo[];
}

export const SHARD_DEFAULTS = { maxCount: 10_000, maxBytes: 1e9 } as const;

/** Samples per shard: the one check the sink and the run options share. */
export function checkShardCount(name: string, value: unknown): number {
  return integerBetween(name, value, 1, 1e9);
}

/**
 * Writes samples as WebDataset tar shards: `{key}.jpg` then `{key}.json` per sample, fixed tar
 * headers (same samples, same bytes), each shard renamed into place when complete; then
 * `index.json` in the wids format.
 *
 * @example
 * const sink = webDatasetSink({ dir: "shards/celeba", name: "celeba" });
 * await pipeline(pairs, overlay(), sink);
 * console.log(sink.result.shards);
 */
export function webDatasetSink(options: WebDatasetSinkOptions): SampleSink {
  return new WebDatasetSink(options);
}

class WebDatasetSink extends Writable implements SampleSink {
  readonly result: SinkResult = { samples: 0, bytes: 0, shards: [] };
  private readonly dir: string;
  private readonly name: string;
  private readonly maxCount: number;
  private readonly maxBytes: number;
  private readonly stats: RunStats;
  private current: ShardWriter | undefined;
  private currentBytes = 0;
  private made = false;
  private readonly kept: readonly ShardInfo[];

  constructor(options: WebDatasetSinkOptions) {
    super({ objectMode: true, highWaterMark: 1 });
    this.kept = options.resumeFrom ?? [];
    this.dir = nonEmptyString("dir", options.dir);
    this.name = nonEmptyString("name", options.name);
    this.maxCount = checkShardCount("maxCount", options.maxCount ?? SHARD_DEFAULTS.maxCount);
    this.maxBytes = integerBetween(
      "maxBytes",
      options.maxBytes ?? SHARD_DEFAULTS.maxBytes,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    this.stats = options.stats ?? new RunStats();
  }

  override _write(
    sample: Sample,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.add(sample).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const current = this.current;
    this.current = undefined;
    if (current === undefined) {
      callback(error);
      return;
    }
    current.abort().then(
      () => callback(error),
      () => callback(error),
    );
  }

  private async add(sample: Sample): Promise<void> {
    if (!this.made) {
      await mkdir(this.dir, { recursive: true });
      this.made = true;
    }
    const members = sampleMembers(sample);
    const size = members.reduce((sum, member) => sum + tarMemberBytes(member), 0);
    if (
      this.current !== undefined &&
      (this.current.samples >= this.maxCount ||
        this.currentBytes + size + END_OF_ARCHIVE_BYTES > this.maxBytes)
    ) {
      await this.closeShard();
    }
    this.current ??= new ShardWriter(
      this.dir,
      shardFileName(this.name, this.kept.length + this.result.shards.length),
    );
    await this.current.add(members);
    this.currentBytes += size;
    this.result.samples++;
    this.stats.written++;
  }

  private async closeShard(): Promise<void> {
    const shard = await this.current!.close();
    this.current = undefined;
    this.currentBytes = 0;
    this.result.shards.push(shard);
    this.result.bytes += shard.bytes;
  }

  private async finish(): Promise<void> {
    if (this.current !== undefined) await this.closeShard();
    const index = widsIndex(this.name, [...this.kept, ...this.result.shards]);
    await writeFileAtomic(join(this.dir, "index.json"), `${JSON.stringify(index, null, 2)}\n`);
  }
}
