import { join } from "node:path";
import { jsonText } from "../core/json-text.js";
import { nonEmptyString } from "../core/validate.js";
import { daliIndexName } from "./dali-index.js";
import { openOutputFile, removeOutputFile, writeOutputFile } from "./output-file.js";
import { widsIndex } from "./shard-index.js";
import { type ShardLimits, ShardSink, type ShardStore } from "./shard-sink.js";
import type { ShardOutput } from "./shard-writer.js";
import type { SampleSink } from "./sink.js";

export { checkShardCount } from "./shard-sink.js";

export interface WebDatasetSinkOptions extends ShardLimits {
  /** Folder the shards, `index.json` and nothing else are written to; created if missing. */
  dir: string;
  /**
   * The output folder `dir` is in, when `dir` is one of its folders (a split's): no folder
   * between the two may be a link. Default `dir`.
   */
  root?: string;
  /**
   * Write `index.json` when the shards are done. Default true; a partition leaves it to the
   * merge, which indexes every partition's shards in one.
   */
  index?: boolean;
}

/** Samples per shard 10,000; bytes per shard 1 GB. */
export const SHARD_DEFAULTS = { maxCount: 10_000, maxBytes: 1e9 } as const;

/**
 * Writes samples as WebDataset tar shards in a folder: `{key}.jpg` then `{key}.json` per sample,
 * fixed tar headers (same samples, same bytes), each shard synced and renamed into place when
 * complete, then listed in `index.json` (the wids format): the index lists exactly the complete
 * shards, even of a stopped run. With `daliIndex`, each shard's DALI index is put in place just
 * before the shard.
 *
 * @example
 * const sink = webDatasetSink({ dir: "shards/celeba", name: "celeba" });
 * await pipeline(pairs, overlay(), sink);
 * console.log(sink.result.shards);
 */
export function webDatasetSink(options: WebDatasetSinkOptions): SampleSink {
  const dir = nonEmptyString("dir", options.dir);
  const store = new FolderShardStore(options.root ?? dir, dir, options.name, options.index ?? true);
  return new ShardSink(store, options, SHARD_DEFAULTS);
}

/**
 * Shards as files: each lives under a `.partial` name until complete, so a shard visible under
 * its final name is always whole.
 */
class FolderShardStore implements ShardStore {
  constructor(
    private readonly root: string,
    private readonly dir: string,
    private readonly name: string,
    private readonly index: boolean,
  ) {}

  async open(name: string): Promise<ShardOutput> {
    const file = await openOutputFile(this.root, join(this.dir, name));
    return {
      label: file.path,
      write: (chunks) => file.write(chunks),
      complete: async (_shard, daliIndex) => {
        // The index goes in place first: a shard under its final name always has its index.
        const index = join(this.dir, daliIndexName(name));
        if (daliIndex !== undefined) await writeOutputFile(this.root, index, daliIndex);
        try {
          await file.complete();
        } catch (error) {
          if (daliIndex !== undefined) await removeOutputFile(this.root, index).catch(() => {});
          throw error;
        }
      },
      abort: () => file.abort(),
    };
  }

  /** The index lists the complete shards as each is done: what `--resume` checks them against. */
  recorded(shards: Parameters<ShardStore["finish"]>[0]): Promise<void> {
    return this.finish(shards);
  }

  async finish(shards: Parameters<ShardStore["finish"]>[0]): Promise<void> {
    if (!this.index) return;
    const index = widsIndex(this.name, shards);
    await writeOutputFile(this.root, join(this.dir, "index.json"), jsonText(index));
  }
}
