import { COMMIT_PACE, type CommitPace, CommitPacer } from "./hub/commit-pacer.js";
import { checkHubBuffer, HUB_SHARD_DEFAULTS, hubSplitFolder } from "./hub/hub-defaults.js";
import type { HubFetch } from "./hub/hub-fetch.js";
import type { HubRepo, RemoteFile } from "./hub/hub-repo.js";
import { HubShardStore } from "./hub/hub-shard-store.js";
import type { HubStats } from "./hub/hub-stats.js";
import { ShardSpool } from "./hub/shard-spool.js";
import type { ResumePoint } from "./resume.js";
import { type ShardLimits, ShardSink } from "./shard-sink.js";
import type { SampleSink, ShardInfo } from "./sink.js";
import { SplitSink } from "./split-sink.js";

/** A repo made ready for a run's shards: connected, its files listed, what --resume keeps. */
export interface RepoForShards {
  readonly hub: HubRepo;
  readonly transport: HubFetch;
  /** The repo's files under the data folder, when the run starts. */
  readonly remote: ReadonlyMap<string, RemoteFile>;
  /** The shard file names' stem: the run's name, or its partition's. */
  readonly shardSet: string;
  /** The splits shards go to (`train` only for a run without splits). */
  readonly splits: readonly string[];
  readonly hasSplits: boolean;
  /** Shards kept by --resume, by split. */
  readonly kept: ReadonlyMap<string, ResumePoint>;
}

export interface HubShardSinkOptions extends ShardLimits {
  /** The repo as the user named it, for the stats. */
  repo: string;
  /** Complete shards that wait for and go through a commit (in the spool). Default 2. */
  buffer?: number;
  /** Where complete shards wait for their commit; default the OS's temporary folder. */
  spool?: string;
  /** Commits per hour and burst. Default 100/h with a burst of 20 (the Hub allows ~128/h). */
  pace?: CommitPace;
}

/** Shards committed to a Hub repo as they complete, one folder per split. */
export interface HubShardSink extends SampleSink {
  /** What publishing has cost so far. */
  readonly hub: HubStats;
  /** Shards kept from the repo by `resume`, and the keys of their samples. */
  readonly kept: ResumePoint;
  /** Every shard of the run in the repo, kept and made, by split. */
  shardsBySplit(): Map<string, ShardInfo[]>;
}

/**
 * A ShardSink over the Hub's shard store for each split, as the WebDataset sink is over a
 * folder's: shards are built in a spool and committed at the pace the Hub allows.
 */
export function hubShardSink(repo: RepoForShards, options: HubShardSinkOptions): HubShardSink {
  const buffer = checkHubBuffer("buffer", options.buffer ?? HUB_SHARD_DEFAULTS.buffer);
  const { hub, kept, hasSplits } = repo;
  const pacer = new CommitPacer(options.pace ?? COMMIT_PACE);
  const spool = new ShardSpool(options.spool);
  const stores = new Map<string, HubShardStore>();
  const sink = new SplitSink((split) => {
    const folder = hubSplitFolder(split);
    const store = new HubShardStore(hub, repo.remote, buffer, pacer, folder, spool);
    stores.set(split, store);
    const resumeFrom = kept.get(split)?.shards ?? [];
    const shardOptions = { ...options, name: repo.shardSet, resumeFrom };
    return new ShardSink(store, shardOptions, HUB_SHARD_DEFAULTS);
  }, hasSplits);
  // Finished, failed or interrupted, the sink's spooled files are no longer needed.
  sink.on("close", () => void spool.close());
  const keys = new Set<string>();
  for (const point of kept.values()) for (const key of point.keys) keys.add(key);
  const allKept = [...kept.entries()].flatMap(([split, point]) =>
    point.shards.map((shard) => (hasSplits ? { ...shard, name: `${split}/${shard.name}` } : shard)),
  );
  const stats = (): HubStats => {
    const uploads = { shardsUploaded: 0, shardsUnchanged: 0 };
    for (const store of stores.values()) {
      uploads.shardsUploaded += store.stats.shardsUploaded;
      uploads.shardsUnchanged += store.stats.shardsUnchanged;
    }
    return {
      repo: options.repo,
      commits: hub.commits,
      shardsKept: allKept.length,
      ...uploads,
      ...repo.transport.stats,
    };
  };
  const shardsBySplit = () =>
    new Map(
      repo.splits.map((split) => [
        split,
        [...(kept.get(split)?.shards ?? []), ...sink.shardsOf(split)],
      ]),
    );
  // `hub` stays a getter (Object.assign would copy one value of it): the stats go on changing.
  Object.defineProperty(sink, "hub", { get: stats, enumerable: true });
  return Object.assign(sink as SplitSink & { readonly hub: HubStats }, {
    kept: { shards: allKept, keys },
    shardsBySplit,
  });
}
