import type { HubFetchStats } from "./hub-fetch.js";
import type { HubUploadStats } from "./hub-shard-store.js";

/** What publishing cost: the `hub` part of the report. */
export interface HubStats extends HubUploadStats, HubFetchStats {
  repo: string;
  /** Commits made, the final one (card, index, report) included. */
  commits: number;
  /** Shards read back from the repo by `resume`, whose samples were skipped. */
  shardsKept: number;
}
