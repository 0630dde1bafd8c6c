import { MaskpipeError } from "../core/errors.js";
import { jsonText } from "../core/json-text.js";
import { partitionFolder, partitionShardSet } from "../core/partition.js";
import { HUB_DATA_ROOT, hubSplitFolder, isHubShardPath } from "../sinks/hub/hub-defaults.js";
import { type HubRepo, textUpload } from "../sinks/hub/hub-repo.js";
import { findHubResumePoint } from "../sinks/hub/hub-resume.js";
import type { RepoForShards } from "../sinks/hub-sink.js";
import type { ResumePoint } from "../sinks/resume.js";
import { shardFilePattern } from "../sinks/webdataset-names.js";
import type { HubSinkOptions } from "./hub-options.js";
import { isMaskpipePairs, isPairsFileName, PAIRS_FOLDER } from "./pairs-files.js";
import {
  CARD_MARKER,
  foreignShardsError,
  isForeignShard,
  namedFiles,
  RUN_FILES,
} from "./run-files.js";
import { checkResumable, parseIdentity } from "./run-record.js";

/** What a run found in the repo and made of it before its first shard. */
export interface RepoClaim extends Omit<RepoForShards, "hub" | "transport"> {
  /** The shard file names of this run (or partition), and of their DALI indexes. */
  pattern: RegExp;
  /** Where the run's own records go: the repo's top, or its partition's folder (`.../`). */
  records: string;
  /** The repo's own README.md is kept: no card is written. */
  keepCard: boolean;
  notes: string[];
}

/**
 * Claims the repo by the output policy: refuses shards made another way and, without --resume
 * or --overwrite, an earlier run's files; checks the identity on --resume; commits run.json
 * before any shard (with --overwrite, removing the earlier run's files in that same commit).
 */
export async function claimRepo(hub: HubRepo, options: HubSinkOptions): Promise<RepoClaim> {
  let remote = await hub.list(HUB_DATA_ROOT);
  const mode = options.mode ?? "new";
  const { partition } = options;
  const shardSet = partitionShardSet(options.name, partition);
  // The run's shards and their DALI indexes: held, replaced and left stale alike.
  const pattern = shardFilePattern(shardSet, "", "tar|idx");
  const ours = [...remote.keys()].filter((path) => isHubShardPath(path, pattern));
  const foreign = [...remote.keys()].filter(
    (path) =>
      isHubShardPath(path, /\.tar$/) && isForeignShard(baseName(path), options.name, partition),
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
        ? await findHubResumePoint(hub, shardSet, remote, hubSplitFolder(split), options.daliIndex)
        : { shards: [], keys: new Set() },
    );
  }
  if (options.identity !== undefined && !(mode === "resume" && recorded !== undefined)) {
    // The run's identity goes in before any shard; overwrite removes the earlier run's files
    // in the same commit, so a shard in the repo always belongs to the run.json beside it.
    const replaced = mode === "overwrite" ? [...ours, ...(await runFilesIn(hub, records))] : [];
    await hub.commit(
      `Start ${shardSet}`,
      [textUpload(identityPath, jsonText(options.identity))],
      replaced,
    );
    if (replaced.length > 0) remote = await hub.list(HUB_DATA_ROOT);
  }
  return { remote, shardSet, pattern, records, splits, hasSplits, kept, keepCard, notes };
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
  const files = [...top.keys()].filter(
    (path) =>
      named.includes(path as (typeof named)[number]) ||
      (path.startsWith(`${HUB_DATA_ROOT}/`) && path.endsWith(`/${RUN_FILES.index}`)),
  );
  // The pair lists made of the run's samples go with them; a user's file in pairs/ stays.
  for (const path of top.keys()) {
    const [folder, file, ...deeper] = path.split("/");
    if (folder !== PAIRS_FOLDER || file === undefined || deeper.length > 0) continue;
    if (isPairsFileName(file) && isMaskpipePairs((await hub.readText(path)) ?? ""))
      files.push(path);
  }
  return files;
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

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
