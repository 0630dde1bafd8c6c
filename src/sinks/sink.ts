import type { Writable } from "node:stream";

/** One finished shard. */
export interface ShardInfo {
  /** File name, relative to the output folder or repo path. */
  name: string;
  samples: number;
  bytes: number;
  sha256: string;
  md5: string;
}

export interface SinkResult {
  samples: number;
  bytes: number;
  shards: ShardInfo[];
}

/**
 * What every sink is: an object-mode Writable of `Sample`s whose `result` is complete once the
 * stream has finished. The WebDataset, folder and discarding sinks all have this shape.
 */
export interface SampleSink extends Writable {
  readonly result: SinkResult;
}
