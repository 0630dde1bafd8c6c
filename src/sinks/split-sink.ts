import { once } from "node:events";
import { Writable } from "node:stream";
import type { Sample } from "../core/sample.js";
import type { SampleSink, ShardInfo, SinkResult } from "./sink.js";

/** The splits a run may write, in the order cards and reports list them. */
export const SPLIT_ORDER = ["train", "validation", "test", "unassigned"] as const;

/**
 * Routes each sample to the sink of its split (`sample.label.split`; `train` without one), made
 * when the split's first sample comes, so each split is its own shard set with its own index.
 * `result.shards` names each shard with its split's folder: `train/celeba-000000.tar`.
 */
export class SplitSink extends Writable implements SampleSink {
  /** Each split's sink, in the order their first samples came. */
  readonly sinks = new Map<string, SampleSink>();

  /**
   * `prefix` false: shards keep their own names in `result` (a Hub run without splits has the
   * one split `train`, whose shards are named as a folder's are).
   */
  constructor(
    private readonly make: (split: string) => SampleSink,
    private readonly prefix = true,
  ) {
    super({ objectMode: true, highWaterMark: 1 });
  }

  /** Every split's complete shards so far (an interrupted run keeps exactly these). */
  get result(): SinkResult {
    const result: SinkResult = { samples: 0, bytes: 0, shards: [] };
    for (const [split, sink] of this.sinks) {
      result.samples += sink.result.samples;
      result.bytes += sink.result.bytes;
      for (const shard of sink.result.shards) {
        result.shards.push(this.prefix ? { ...shard, name: `${split}/${shard.name}` } : shard);
      }
    }
    return result;
  }

  /** The shards of one split as its own sink names them (relative to the split's folder). */
  shardsOf(split: string): readonly ShardInfo[] {
    return this.sinks.get(split)?.result.shards ?? [];
  }

  override _write(
    sample: Sample,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ) {
    const split = sample.label?.split ?? "train";
    let sink = this.sinks.get(split);
    if (sink === undefined) {
      sink = this.make(split);
      sink.on("error", () => {}); // reported through the write callback or _final
      this.sinks.set(split, sink);
    }
    sink.write(sample, (error) => callback(error));
  }

  override _final(callback: (error?: Error | null) => void): void {
    // end's callback gets the sink's error (a last commit that failed): never take it as done.
    const ends = [...this.sinks.values()].map(
      (sink) =>
        new Promise<void>((resolve, reject) => {
          sink.once("error", reject);
          sink.end((error?: Error | null) => (error ? reject(error) : resolve()));
        }),
    );
    Promise.all(ends).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Closed once every split's sink is: a shard being put in place lands first.
    const closes = [...this.sinks.values()]
      .filter((sink) => !sink.closed)
      .map((sink) => once(sink, "close").catch(() => {}));
    for (const sink of this.sinks.values()) sink.destroy(error ?? undefined);
    Promise.all(closes).then(() => callback(error));
  }
}
