import type { ShardInfo } from "./sink.js";

/** The wids shard index (`index.json`), which lets wids and others open shards by sample. */
export interface WidsIndex {
  __kind__: "wids-shard-index-v1";
  wids_version: 1;
  name: string;
  shardlist: { url: string; nsamples: number; filesize: number; md5sum: string }[];
}

/** `folder` is where the shards are relative to the index (`data/train/` on the Hub). */
export function widsIndex(name: string, shards: readonly ShardInfo[], folder = ""): WidsIndex {
  return {
    __kind__: "wids-shard-index-v1",
    wids_version: 1,
    name,
    shardlist: shards.map((shard) => ({
      url: `${folder}${shard.name}`,
      nsamples: shard.samples,
      filesize: shard.bytes,
      md5sum: shard.md5,
    })),
  };
}
