import { contactSheet, type PreviewShard } from "../commands/preview/contact-sheet.js";
import { encodeSheet } from "../commands/preview/preview-output.js";
import { MaskpipeError } from "../core/errors.js";
import { jsonText } from "../core/json-text.js";
import { type Partition, partitionFolder, partitionShardSet } from "../core/partition.js";
import { datasetCard } from "../dataset/dataset-card.js";
import { indexFiles } from "../dataset/index-files.js";
import { openOutput } from "../dataset/output-files.js";
import type { OutputMode } from "../dataset/output-policy.js";
import {
  CARD_MARKER,
  foreignShardsError,
  isForeignShard,
  namedFiles,
  RUN_FILES,
} from "../dataset/run-files.js";
import { checkResumable, parseIdentity } from "../dataset/run-record.js";
import type { RunReport } from "../run/report.js";
import type { RunIdentity } from "../run/run-identity.js";
import { hubEndpoint, parseHfRepoUrl } from "../sources/hf/hf-url.js";
import { RETRY_DEFAULTS, type RetryPolicy } from "../sources/http/retry-policy.js";
import { COMMIT_PACE, type CommitPace, CommitPacer } from "./hub/commit-pacer.js";
import {
  checkHubBuffer,
  HUB_DATA_ROOT,
  HUB_SHARD_DEFAULTS,
  hubSplitFolder,
} from "./hub/hub-defaults.js";
import { hubFetch } from "./hub/hub-fetch.js";
import { HubRepo, type HubUpload } from "./hub/hub-repo.js";
import { findHubResumePoint } from "./hub/hub-resume.js";
import { HubShardStore } from "./hub/hub-shard-store.js";
import type { HubStats } from "./hub/hub-stats.js";
import { ShardSpool } from "./hub/shard-spool.js";
import type { ResumePoint } from "./resume.js";
import { type ShardLimits, ShardSink } from "./shard-sink.js";
import type { SampleSink, ShardInfo } from "./sink.js";
import { SplitSink } from "./split-sink.js";
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

export { HUB_SHARD_DEFAULTS } from "./hub/hub-defaults.js";

/**
 * The sources' backoff, with more patience: a throttled Hub may ask for minutes (Retry-After is
 * honoured up to 15 minutes), and giving up loses the shards held in memory.
 */
export const HUB_RETRY: RetryPolicy = { ...RETRY_DEFAULTS, retries: 8, maxDelayMs: 15 * 60_000 };

/** A sink that commits shards to a Hub repo; `publish` then writes the card, index and report. */
export interface HubSink extends SampleSink {
  /** What publishing has cost so far. */
  readonly hub: HubStats;
  /** Shards kept from the repo by `resume`, and the keys of their samples. */
  readonly kept: ResumePoint;
  /** What publishing leaves alone in the repo, and why: for the report and the summary. */
  readonly notes: readonly string[];
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
  /** classes.txt: one identity a line, line n is class n. */
  classes?: string;
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
  const buffer = checkHubBuffer("buffer", options.buffer ?? HUB_SHARD_DEFAULTS.buffer);
  const { hub, transport } = await connectHubRepo(options);
  const claim = await claimRepo(hub, options);
  const { kept, hasSplits } = claim;
  const pacer = new CommitPacer(options.pace ?? COMMIT_PACE);
  const spool = new ShardSpool(options.spool);
  const stores = new Map<string, HubShardStore>();
  const sink = new SplitSink((split) => {
    const folder = hubSplitFolder(split);
    const store = new HubShardStore(hub, claim.remote, buffer, pacer, folder, spool);
    stores.set(split, store);
    const resumeFrom = kept.get(split)?.shards ?? [];
    const shardOptions = { ...options, name: claim.shardSet, resumeFrom };
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
      ...transport.stats,
    };
  };
  // Every shard of the run in the repo (kept and made), by split.
  const shardsBySplit = () =>
    new Map(
      claim.splits.map((split) => [
        split,
        [...(kept.get(split)?.shards ?? []), ...sink.shardsOf(split)],
      ]),
    );
  const publish = (report: RunReport, details: PublishDetails) =>
    publishRun(hub, options, claim, { report, details, bySplit: shardsBySplit(), stats });
  // `hub` stays a getter (Object.assign would copy one value of it): the stats go on changing.
  Object.defineProperty(sink, "hub", { get: stats, enumerable: true });
  return Object.assign(sink as SplitSink & { readonly hub: HubStats }, {
    kept: { shards: allKept, keys },
    notes: claim.notes,
    publish,
  });
}

/** What a run found in the repo and made of it before its first shard. */
interface RepoClaim {
  /** The repo's files under the data folder, as they are after the claim. */
  remote: Awaited<ReturnType<HubRepo["list"]>>;
  shardSet: string;
  /** The shard file names of this run (or partition). */
  pattern: RegExp;
  /** Where the run's own records go: the repo's top, or its partition's folder (`.../`). */
  records: string;
  splits: string[];
  hasSplits: boolean;
  /** What --resume keeps, by split. */
  kept: Map<string, ResumePoint>;
  /** The repo's own README.md is kept: no card is written. */
  keepCard: boolean;
  notes: string[];
}

/**
 * Claims the repo by the output policy: refuses shards made another way and, without --resume
 * or --overwrite, an earlier run's files; checks the identity on --resume; commits run.json
 * before any shard (with --overwrite, removing the earlier run's files in that same commit).
 */
async function claimRepo(hub: HubRepo, options: HubSinkOptions): Promise<RepoClaim> {
  let remote = await hub.list(HUB_DATA_ROOT);
  const mode = options.mode ?? "new";
  const { partition } = options;
  const shardSet = partitionShardSet(options.name, partition);
  const pattern = shardFilePattern(shardSet);
  const ours = [...remote.keys()].filter((path) => isShardPath(path, pattern));
  const foreign = [...remote.keys()].filter(
    (path) =>
      isShardPath(path, /\.tar$/) && isForeignShard(baseName(path), options.name, partition),
  );
  if (foreign.length > 0) throw foreignShardsError(options.repo, options.name, partition, foreign);
  // A partition's own files are in its folder; the repo's top-level ones are the merge's.
  const records = partition === undefined ? "" : `${partitionFolder(partition)}/`;
  const identityPath = `${records}${RUN_FILES.identity}`;
  const recorded = parseIdentity((await hub.readText(identityPath)) ?? "");
  const held = [...(recorded?.name === options.name ? [identityPath] : []), ...ours];
  if (mode === "new" && held.length > 0) {
    throw new MaskpipeError(
      "ERR_OUTPUT_EXISTS",
      `${options.repo}: already holds files of an earlier run of ${options.name} (${namedFiles(held)}); pass --resume to go on from them, or --overwrite to replace them`,
      { archive: options.repo },
    );
  }
  if (mode === "resume" && options.identity !== undefined)
    checkResumable(options.repo, recorded, options.identity, ours.length > 0);
  const keepCard = partition === undefined && mode !== "overwrite" && (await isUsersCard(hub));
  const notes = keepCard
    ? [
        `${options.repo}: its ${RUN_FILES.card} is not one maskpipe wrote: kept, and no dataset card written; pass --overwrite to replace it with the card`,
      ]
    : [];
  const hasSplits = options.splits !== undefined && options.splits.length > 0;
  const splits = hasSplits ? [...options.splits!] : ["train"];
  const kept = new Map<string, ResumePoint>();
  for (const split of splits) {
    kept.set(
      split,
      mode === "resume"
        ? await findHubResumePoint(hub, shardSet, remote, hubSplitFolder(split))
        : { shards: [], keys: new Set() },
    );
  }
  if (options.identity !== undefined && !(mode === "resume" && recorded !== undefined)) {
    // The run's identity goes in before any shard; overwrite removes the earlier run's files
    // in the same commit, so a shard in the repo always belongs to the run.json beside it.
    const replaced = mode === "overwrite" ? [...ours, ...(await runFilesIn(hub, records))] : [];
    await hub.commit(
      `Start ${shardSet}`,
      [textFile(identityPath, jsonText(options.identity))],
      replaced,
    );
    if (replaced.length > 0) remote = await hub.list(HUB_DATA_ROOT);
  }
  return { remote, shardSet, pattern, records, splits, hasSplits, kept, keepCard, notes };
}

/** What the last commit describes: the run's report, its details, its shards and its cost. */
interface Publication {
  report: RunReport;
  details: PublishDetails;
  bySplit: ReadonlyMap<string, readonly ShardInfo[]>;
  stats: () => HubStats;
}

/**
 * The last commit, once every shard is in: index, preview, report, errors, classes and card (a
 * partition: its report, errors and classes in its folder, for the merge); shards of this
 * run's names the run did not make are deleted in it.
 */
async function publishRun(
  hub: HubRepo,
  options: HubSinkOptions,
  claim: RepoClaim,
  publication: Publication,
): Promise<void> {
  const { report, details, bySplit } = publication;
  const made = [...bySplit].flatMap(([split, shards]) =>
    shards.map((shard) => ({ path: `${hubSplitFolder(split)}/${shard.name}`, shard })),
  );
  // Shards of this run's names in the repo that the run did not make (a longer earlier run's).
  const madePaths = new Set(made.map((shard) => shard.path));
  const stale = [...claim.remote.keys()].filter(
    (path) => isShardPath(path, claim.pattern) && !madePaths.has(path),
  );
  // The report in the repo counts the commit that carries it (and the preview's reads before).
  const records = () => {
    const published = { ...report, hub: { ...publication.stats(), commits: hub.commits + 1 } };
    return [
      textFile(`${claim.records}${RUN_FILES.report}`, jsonText(published)),
      ...(details.errors !== undefined && details.errors.length > 0
        ? [textFile(`${claim.records}${RUN_FILES.errors}`, details.errors)]
        : []),
      ...(details.classes !== undefined
        ? [textFile(`${claim.records}${RUN_FILES.classes}`, details.classes)]
        : []),
    ];
  };
  if (options.partition !== undefined) {
    await hub.commit(`Report of ${claim.shardSet}`, records(), stale);
    return;
  }
  const files: HubUpload[] = indexFiles(options.name, bySplit, "hub", claim.hasSplits).map((file) =>
    textFile(file.path, file.text),
  );
  // The card shows a contact sheet, read back from the shards just committed.
  const previewShards = made.map(({ path, shard }) => ({ path, nsamples: shard.samples }));
  const preview = previewShards.some((shard) => shard.nsamples > 0)
    ? await hubPreview(options, previewShards)
    : undefined;
  if (preview !== undefined) files.push({ path: RUN_FILES.preview, content: new Blob([preview]) });
  files.push(...records());
  if (!claim.keepCard) {
    const card = datasetCard(report, {
      repo: hub.name,
      dataFolder: (split) => `${hubSplitFolder(split)}/`,
      ...(preview !== undefined && { preview: RUN_FILES.preview }),
      command: details.command,
      version: details.version,
    });
    files.push(textFile(RUN_FILES.card, card));
  }
  await hub.commit(`Dataset card, index and report of ${report.name}`, files, stale);
}

/** A repo to write to: the token checked, the repo created if missing, its head known. */
export async function connectHubRepo(options: {
  repo: string;
  token?: string;
  hubUrl?: string;
  xet?: boolean;
  private?: boolean;
  retry?: Partial<RetryPolicy>;
}): Promise<{ hub: HubRepo; transport: ReturnType<typeof hubFetch> }> {
  const repo = parseHfRepoUrl(options.repo);
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
  return { hub, transport };
}

/** A contact sheet of the repo's shards as a JPEG, read back with Range requests. */
export async function hubPreview(
  options: { repo: string; token?: string; hubUrl?: string },
  shards: PreviewShard[],
): Promise<Buffer> {
  const files = await openOutput(options.repo, {
    ...(options.token !== undefined && { token: options.token }),
    ...(options.hubUrl !== undefined && { hubUrl: options.hubUrl }),
  });
  try {
    return await encodeSheet(await contactSheet(files, shards), "jpeg");
  } finally {
    await files.close();
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** `data/{split}/{name}-000000.tar`. */
function isShardPath(path: string, pattern: RegExp): boolean {
  const parts = path.split("/");
  return parts.length === 3 && parts[0] === HUB_DATA_ROOT && pattern.test(parts[2]!);
}

/**
 * The run files other than shards and run.json that the repo holds in `records` (the top, or a
 * partition's folder): overwrite deletes them.
 */
async function runFilesIn(hub: HubRepo, records: string): Promise<string[]> {
  if (records !== "") {
    const own = await hub.list(records.replace(/\/$/, ""));
    return [...own.keys()].filter((path) => path !== `${records}${RUN_FILES.identity}`);
  }
  const top = await hub.list("");
  const named = [
    RUN_FILES.index,
    RUN_FILES.report,
    RUN_FILES.errors,
    RUN_FILES.card,
    RUN_FILES.classes,
    RUN_FILES.preview,
  ];
  return [...top.keys()].filter(
    (path) =>
      named.includes(path as (typeof named)[number]) ||
      (path.startsWith(`${HUB_DATA_ROOT}/`) && path.endsWith(`/${RUN_FILES.index}`)),
  );
}

/**
 * True when the repo's README.md is not a card maskpipe wrote (no marker line): as in a folder,
 * it is the user's and stays. Unlike a folder, `--overwrite` may replace it: the repo's history
 * keeps the old one.
 */
async function isUsersCard(hub: HubRepo): Promise<boolean> {
  const card = await hub.readText(RUN_FILES.card);
  return card !== undefined && !card.includes(CARD_MARKER);
}

function textFile(path: string, content: string | Buffer): HubUpload {
  return { path, content: new Blob([content]) };
}
