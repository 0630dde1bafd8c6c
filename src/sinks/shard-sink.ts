import { Writable } from "node:stream";
import type { Sample } from "../core/sample.js";
import { RunStats } from "../core/stats.js";
import { integerBetween, nonEmptyString } from "../core/validate.js";
import { type ShardOutput, ShardWriter } from "./shard-writer.js";
import type { SampleSink, ShardInfo, SinkResult } from "./sink.js";
import { END_OF_ARCHIVE_BYTES, tarMemberBytes } from "./tar-member-chunks.js";
import { sampleMembers, shardFileName } from "./webdataset-names.js";

/** Where complete shards go: a folder or a Hub repo. */
export interface ShardStore {
  open(name: string): Promise<ShardOutput>;
  /**
   * After each complete shard, with every complete shard so far (kept ones first): a store of
   * files records them, so `--resume` can tell a complete shard from one damaged since.
   */
  recorded?(shards: readonly ShardInfo[]): Promise<void>;
  /** After the last shard, with every shard of the data set (kept ones first). */
  finish(shards: readonly ShardInfo[]): Promise<void>;
  /** After a failure or an interruption: stop work in progress (an upload). */
  abort?(): void;
}

export interface ShardLimits {
  /** Shard name prefix: `{name}-000000.tar`, ... */
  name: string;
  /** Samples per shard at most. */
  maxCount?: number;
  /** Bytes per shard at most (a single larger sample still gets a shard). */
  maxBytes?: number;
  stats?: RunStats;
  /** Complete shards of an interrupted run: kept, listed in the index, numbering goes on. */
  resumeFrom?: readonly ShardInfo[];
  /**
   * Beside each shard `X.tar`, its NVIDIA DALI index `X.idx` (what DALI's `wds2idx` writes for
   * it), counted while packing. Default false.
   */
  daliIndex?: boolean;
}

/** Samples per shard: the one check the sinks and the run options share. */
export function checkShardCount(name: string, value: unknown): number {
  return integerBetween(name, value, 1, 1e9);
}

/**
 * Cuts samples into WebDataset tar shards (`{key}.jpg` then `{key}.json`, fixed headers, so the
 * same samples give the same bytes) and hands each to its store. One class for every store, so
 * a shard on disk and a shard on the Hub hold the same samples and bytes.
 */
export class ShardSink extends Writable implements SampleSink {
  readonly result: SinkResult = { samples: 0, bytes: 0, shards: [] };
  private readonly name: string;
  private readonly maxCount: number;
  private readonly maxBytes: number;
  private readonly stats: RunStats;
  private readonly keptShards: readonly ShardInfo[];
  private readonly daliIndex: boolean;
  private current: ShardWriter | undefined;
  /** The next shard's file while it is being opened. */
  private opening: Promise<ShardOutput> | undefined;
  /** The last shard closed (written out and renamed into place), or being closed. */
  private closing: Promise<void> | undefined;
  private currentBytes = 0;

  constructor(
    private readonly store: ShardStore,
    limits: ShardLimits,
    defaults: { maxCount: number; maxBytes: number },
  ) {
    super({ objectMode: true, highWaterMark: 1 });
    this.keptShards = limits.resumeFrom ?? [];
    this.daliIndex = limits.daliIndex ?? false;
    this.name = nonEmptyString("name", limits.name);
    this.maxCount = checkShardCount("maxCount", limits.maxCount ?? defaults.maxCount);
    this.maxBytes = integerBetween(
      "maxBytes",
      limits.maxBytes ?? defaults.maxBytes,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    this.stats = limits.stats ?? new RunStats();
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
    if (!this.writableFinished) this.store.abort?.();
    const current = this.current;
    this.current = undefined;
    // A shard file still being opened is dropped by add() once open: wait for that too, so the
    // run never ends (and its process exits) with a .partial file left behind.
    // A shard being closed is whole: let it land before the run ends, so nothing changes after.
    const dropped = Promise.allSettled([current?.abort(), this.opening, this.closing]);
    dropped.then(() => callback(error));
  }

  private async add(sample: Sample): Promise<void> {
    const members = sampleMembers(sample);
    const size = members.reduce((sum, member) => sum + tarMemberBytes(member), 0);
    if (
      this.current !== undefined &&
      (this.current.samples >= this.maxCount ||
        this.currentBytes + size + END_OF_ARCHIVE_BYTES > this.maxBytes)
    ) {
      await this.closeShard();
    }
    if (this.current === undefined) {
      const name = shardFileName(this.name, this.keptShards.length + this.result.shards.length);
      const opening = this.store.open(name).then(async (output) => {
        // Destroyed while the shard's file was being opened: nothing will close it but this.
        if (this.destroyed) await output.abort();
        return output;
      });
      this.opening = opening;
      const output = await opening.finally(() => {
        if (this.opening === opening) this.opening = undefined;
      });
      if (this.destroyed) return;
      this.current = new ShardWriter(name, output, this.daliIndex);
    }
    await this.current.add(members);
    this.currentBytes += size;
    this.result.samples++;
    this.stats.written++;
  }

  private closeShard(): Promise<void> {
    const closing = this.closeCurrent();
    this.closing = closing;
    return closing;
  }

  private async closeCurrent(): Promise<void> {
    const writer = this.current!;
    this.current = undefined;
    this.currentBytes = 0;
    let shard: ShardInfo;
    try {
      shard = await writer.close();
    } catch (error) {
      // The shard failed as it closed (a full disk): drop its file, which nothing else holds now.
      await writer.abort().catch(() => {});
      throw error;
    }
    this.result.shards.push(shard);
    this.result.bytes += shard.bytes;
    await this.store.recorded?.([...this.keptShards, ...this.result.shards]);
  }

  private async finish(): Promise<void> {
    if (this.current !== undefined) await this.closeShard();
    await this.store.finish([...this.keptShards, ...this.result.shards]);
  }
}
