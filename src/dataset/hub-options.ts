import type { Partition } from "../core/partition.js";
import type { CommitPace } from "../sinks/hub/commit-pacer.js";
import type { ShardLimits } from "../sinks/shard-sink.js";
import type { RetryPolicy } from "../sources/http/retry-policy.js";
import type { OutputMode } from "./output-policy.js";
import type { RunIdentity } from "./run-identity.js";

export interface HubSinkOptions extends ShardLimits {
  /** `hf://datasets/{owner}/{repo}[@{branch}]`; created if missing. */
  repo: string;
  /** Write token (`hf_...`); default the HF_TOKEN environment variable. */
  token?: string;
  /** The Hub or a mirror; default HF_ENDPOINT or https://huggingface.co. */
  hubUrl?: string;
  /** Create the repo private (an existing repo keeps its visibility). Default false. */
  private?: boolean;
  /** Upload through Xet rather than plain LFS (costs CPU the overlay needs). Default false. */
  xet?: boolean;
  /** Complete shards that wait for and go through a commit (in the spool). Default 2. */
  buffer?: number;
  /**
   * Where complete shards wait for their commit, as temporary files removed after it (and when
   * the process exits). Default the OS's temporary folder. Needs about (buffer + 1) x shard size.
   */
  spool?: string;
  /** Commits per hour and burst. Default 100/h with a burst of 20 (the Hub allows ~128/h). */
  pace?: CommitPace;
  /**
   * What to do when the repo already holds shards of this name: `new` (default) refuses before
   * any work; `overwrite` deletes them (and the run's index, report, errors, card, run.json) in
   * the run's first commit; `resume` checks the repo's run.json against `identity`, downloads
   * the shards and skips the samples they hold.
   */
  mode?: OutputMode;
  /** What makes this run's output: committed as run.json before the first shard. */
  identity?: RunIdentity;
  /**
   * The splits samples are routed to (`sample.label.split`), each in `data/{split}/` with its
   * own index there. Default none: every sample in `data/train/`, indexed by `index.json`.
   */
  splits?: readonly string[];
  /** Retries of 429, 5xx and dropped connections. Default `HUB_RETRY`. */
  retry?: Partial<RetryPolicy>;
  /**
   * One partition of a run: its shards are `{name}-03of16-*.tar`, its run.json, report.json and
   * errors.jsonl go in `partitions/03of16/`, and `publish` leaves the index, card, class list
   * and preview to the merge.
   */
  partition?: Partition;
}

export { HUB_RETRY } from "../sinks/hub/hub-connect.js";
export interface PublishDetails {
  /** The command's options, shown on the card. */
  command: string;
  /** maskpipe's version. */
  version: string;
  /** errors.jsonl: a line per pair left out. */
  errors?: Buffer;
  /** classes.txt: one identity a line, line n is class n. */
  classes?: string;
}
