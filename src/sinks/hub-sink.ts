import { MaskpipeError } from "../errors.js";
import type { OutputMode } from "../output/output-policy.js";
import { RUN_FILES } from "../output/run-files.js";
import { checkResumable, parseIdentity } from "../output/run-record.js";
import type { RunReport } from "../report.js";
import type { RunIdentity } from "../run-identity.js";
import { hubEndpoint, parseHfRepoUrl } from "../sources/http/hf-url.js";
import { RETRY_DEFAULTS, type RetryPolicy } from "../sources/http/retry-policy.js";
import { COMMIT_PACE, type CommitPace, CommitPacer } from "./hub/commit-pacer.js";
import { datasetCard } from "./hub/dataset-card.js";
import { checkHubBuffer, HUB_SHARD_DEFAULTS } from "./hub/hub-defaults.js";
import { type HubFetchStats, hubFetch } from "./hub/hub-fetch.js";
import { HubRepo, type HubUpload, type RemoteFile } from "./hub/hub-repo.js";
import { findHubResumePoint } from "./hub/hub-resume.js";
import { HUB_DATA_FOLDER, HubShardStore, type HubUploadStats } from "./hub/hub-shard-store.js";
import type { ResumePoint } from "./resume.js";
import { widsIndex } from "./shard-index.js";
import { type ShardLimits, ShardSink } from "./shard-sink.js";
import type { SampleSink } from "./sink.js";
import { shardFilePattern } from "./webdataset-names.js";

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
  /** Complete shards held in memory while they wait for and go through a commit. Default 2. */
  buffer?: number;
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
  /** Retries of 429, 5xx and dropped connections. Default `HUB_RETRY`. */
  retry?: Partial<RetryPolicy>;
}

export { HUB_SHARD_DEFAULTS } from "./hub/hub-defaults.js";

/**
 * The sources' backoff, with more patience: a throttled Hub may ask for minutes (Retry-After is
 * honoured up to 15 minutes), and giving up loses the shards held in memory.
 */
export const HUB_RETRY: RetryPolicy = { ...RETRY_DEFAULTS, retries: 8, maxDelayMs: 15 * 60_000 };

/** What publishing cost: the `hub` part of the report. */
export interface HubStats extends HubUploadStats, HubFetchStats {
  repo: string;
  /** Commits made, the final one (card, index, report) included. */
  commits: number;
  /** Shards read back from the repo by `resume`, whose samples were skipped. */
  shardsKept: number;
}

/** A sink that commits shards to a Hub repo; `publish` then writes the card, index and report. */
export interface HubSink extends SampleSink {
  /** What publishing has cost so far. */
  readonly hub: HubStats;
  /** Shards kept from the repo by `resume`, and the keys of their samples. */
  readonly kept: ResumePoint;
  /**
   * The last commit, once every shard is in: README.md (the dataset card), index.json,
   * report.json and, if given, errors.jsonl; shards of this name the run no longer makes are
   * deleted. Written last so a half-finished upload is never described as complete.
   */
  publish(report: RunReport, details: PublishDetails): Promise<void>;
}

export interface PublishDetails {
  /** The command's options, shown on the card. */
  command: string;
  /** maskpipe's version. */
  version: string;
  /** errors.jsonl: a line per pair left out. */
  errors?: Buffer;
}

/**
 * Opens (or creates) the repo, lists the shards already there, and returns a sink that builds
 * shards in memory and commits them to `data/train/` as they complete.
 *
 * @example
 * const sink = await hubSink({ repo: "hf://datasets/me/casia-masked", name: "casia" });
 * await pipeline(pairs, overlay(), sink);
 * await sink.publish(report, { command: "...", version: VERSION });
 */
export async function hubSink(options: HubSinkOptions): Promise<HubSink> {
  const repo = parseHfRepoUrl(options.repo);
  const buffer = checkHubBuffer("buffer", options.buffer ?? HUB_SHARD_DEFAULTS.buffer);
  const accessToken = options.token ?? process.env.HF_TOKEN ?? "";
  if (!accessToken.startsWith("hf_")) {
    throw new MaskpipeError(
      "ERR_HUB_AUTH",
      `${options.repo}: publishing needs a Hub write token starting with hf_; set HF_TOKEN or pass --hf-token`,
      { archive: options.repo },
    );
  }
  const transport = hubFetch({ ...HUB_RETRY, ...options.retry });
  const hub = new HubRepo({
    repo,
    hubUrl: hubEndpoint(options.hubUrl),
    accessToken,
    fetch: transport.fetch,
    useXet: options.xet ?? false,
    spec: options.repo,
  });
  await hub.open({ private: options.private ?? false });
  let remote = await hub.list(HUB_DATA_FOLDER);
  const mode = options.mode ?? "new";
  const pattern = shardFilePattern(options.name);
  const ours = [...remote.keys()].filter((path) => isShardPath(path, pattern));
  const recorded = parseIdentity((await hub.readText(RUN_FILES.identity)) ?? "");
  const held = [...(recorded?.name === options.name ? [RUN_FILES.identity] : []), ...ours];
  if (mode === "new" && held.length > 0) {
    const more = held.length > 4 ? ` and ${held.length - 4} more` : "";
    throw new MaskpipeError(
      "ERR_OUTPUT_EXISTS",
      `${options.repo}: already holds files of an earlier run of ${options.name} (${held.slice(0, 4).join(", ")}${more}); pass --resume to go on from them, or --overwrite to replace them`,
      { archive: options.repo },
    );
  }
  if (mode === "resume" && options.identity !== undefined)
    checkResumable(options.repo, recorded, options.identity, ours.length > 0);
  const kept: ResumePoint =
    mode === "resume"
      ? await findHubResumePoint(hub, options.name, remote)
      : { shards: [], keys: new Set() };
  if (options.identity !== undefined && !(mode === "resume" && recorded !== undefined)) {
    // The run's identity goes in before any shard; overwrite removes the earlier run's files
    // in the same commit, so a shard in the repo always belongs to the run.json beside it.
    const replaced = mode === "overwrite" ? [...ours, ...(await runFilesIn(hub))] : [];
    await hub.commit(
      `Start ${options.name}`,
      [textFile(RUN_FILES.identity, `${JSON.stringify(options.identity, null, 2)}\n`)],
      replaced,
    );
    if (replaced.length > 0) remote = await hub.list(HUB_DATA_FOLDER);
  }
  const pacer = new CommitPacer(options.pace ?? COMMIT_PACE);
  const store = new HubShardStore(hub, remote, buffer, pacer);
  const limits = { ...options, resumeFrom: kept.shards };
  return new HubShardSink(limits, hub, store, transport.stats, remote, kept);
}

class HubShardSink extends ShardSink implements HubSink {
  constructor(
    private readonly options: HubSinkOptions,
    private readonly repo: HubRepo,
    private readonly uploads: HubShardStore,
    private readonly transport: HubFetchStats,
    private readonly remote: ReadonlyMap<string, RemoteFile>,
    readonly kept: ResumePoint,
  ) {
    super(uploads, options, HUB_SHARD_DEFAULTS);
  }

  get hub(): HubStats {
    return {
      repo: this.options.repo,
      commits: this.repo.commits,
      shardsKept: this.kept.shards.length,
      ...this.uploads.stats,
      ...this.transport,
    };
  }

  async publish(report: RunReport, details: PublishDetails): Promise<void> {
    const shards = [...this.kept.shards, ...this.result.shards];
    const made = new Set(shards.map((shard) => `${HUB_DATA_FOLDER}/${shard.name}`));
    const pattern = shardFilePattern(this.options.name);
    const stale = [...this.remote.keys()].filter(
      (path) => isShardPath(path, pattern) && !made.has(path),
    );
    // The report in the repo counts the commit that carries it.
    const published = { ...report, hub: { ...this.hub, commits: this.repo.commits + 1 } };
    const index = widsIndex(this.options.name, shards, `${HUB_DATA_FOLDER}/`);
    const files: HubUpload[] = [
      textFile(RUN_FILES.index, `${JSON.stringify(index, null, 2)}\n`),
      textFile(RUN_FILES.report, `${JSON.stringify(published, null, 2)}\n`),
      ...(details.errors !== undefined && details.errors.length > 0
        ? [textFile(RUN_FILES.errors, details.errors)]
        : []),
      textFile(
        RUN_FILES.card,
        datasetCard(report, {
          repo: this.repo.name,
          dataFolder: `${HUB_DATA_FOLDER}/`,
          command: details.command,
          version: details.version,
        }),
      ),
    ];
    await this.repo.commit(`Dataset card, index and report of ${report.name}`, files, stale);
  }
}

function isShardPath(path: string, pattern: RegExp): boolean {
  return (
    path.startsWith(`${HUB_DATA_FOLDER}/`) && pattern.test(path.slice(HUB_DATA_FOLDER.length + 1))
  );
}

/** The run files other than shards and run.json that the repo holds (overwrite deletes them). */
async function runFilesIn(hub: HubRepo): Promise<string[]> {
  const top = await hub.list("");
  return [RUN_FILES.index, RUN_FILES.report, RUN_FILES.errors, RUN_FILES.card].filter((path) =>
    top.has(path),
  );
}

function textFile(path: string, content: string | Buffer): HubUpload {
  return { path, content: new Blob([content]) };
}
