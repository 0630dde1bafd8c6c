import { MaskpipeError } from "../core/errors.js";
import type { Partition } from "../core/partition.js";
import { PARTIAL_SUFFIX, withoutPartial } from "../sinks/output-file.js";
import { escapeRegExp, shardFilePattern } from "../sinks/webdataset-names.js";

/**
 * The files a run writes beside its shards. A run owns these names (and the shards of its own
 * name) in its output folder: the output-folder policy finds, refuses or removes exactly them.
 */
export const RUN_FILES = {
  /** The run identity, written before the first sample: what `--resume` compares. */
  identity: "run.json",
  report: "report.json",
  errors: "errors.jsonl",
  /** The wids shard index. */
  index: "index.json",
  /** The dataset card, so `datasets.load_dataset(folder)` reads the shards. */
  card: "README.md",
  /** With labels: one identity a line, line n (from 0) is class n. */
  classes: "classes.txt",
  /** A Hub run's contact sheet, shown on its card. */
  preview: "preview.jpg",
} as const;

/** A line in every card maskpipe writes: a README.md without it is the user's, never touched. */
export const CARD_MARKER = "<!-- written by maskpipe: remove this line to keep the file -->";

const FIXED = new Set<string>(Object.values(RUN_FILES));

/** True for one of the fixed files above, or one left half-written (`.partial`). */
export function isFixedRunFile(file: string): boolean {
  return FIXED.has(withoutPartial(file));
}

/** What is named after a shard: the shard, and its DALI index (`--dali-index`). */
const SHARD_FILE_EXTENSIONS = "tar|idx";

/**
 * True for a shard of the shard set `set` (`{set}-000000.tar`) or its DALI index
 * (`{set}-000000.idx`), or one half-written.
 */
export function isShardFile(file: string, set: string): boolean {
  return shardFilePattern(set, `(${PARTIAL_SUFFIX})?`, SHARD_FILE_EXTENSIONS).test(file);
}

/**
 * The shard set a shard (or its DALI index) of run `name` belongs to, whether a single run's
 * (`celeba`) or a partition's (`celeba-03of16`); `undefined` for any other file.
 */
export function shardSetOf(file: string, name: string): string | undefined {
  const match = new RegExp(
    `^(${escapeRegExp(name)}(?:-\\d+of\\d+)?)-\\d{6}\\.(?:${SHARD_FILE_EXTENSIONS})(?:${PARTIAL_SUFFIX})?$`,
  ).exec(file);
  return match?.[1];
}

/**
 * True for a shard of run `name` that a run (or partition) `partition` must not share an output
 * with: a single run's shards where partitions go, partitions' where a single run goes, or
 * partitions of another count.
 */
export function isForeignShard(
  file: string,
  name: string,
  partition: Partition | undefined,
): boolean {
  const set = shardSetOf(file, name);
  if (set === undefined) return false;
  if (partition === undefined) return set !== name;
  return set === name || !set.endsWith(`of${partition.count}`);
}

/** How many names an error about files already there shows before "and N more". */
const NAMED = 4;

/** `a, b, c, d and 3 more`. */
export function namedFiles(files: readonly string[]): string {
  const more = files.length > NAMED ? ` and ${files.length - NAMED} more` : "";
  return `${files.slice(0, NAMED).join(", ")}${more}`;
}

/**
 * The refusal when `where` (an output folder or a Hub repo) holds shards of run `name` made
 * another way (`isForeignShard`): one output holds one run.
 */
export function foreignShardsError(
  where: string,
  name: string,
  partition: Partition | undefined,
  shards: readonly string[],
): MaskpipeError {
  const mine = partition === undefined ? "one run" : `${partition.count} partitions`;
  return new MaskpipeError(
    "ERR_OUTPUT_EXISTS",
    `${where}: holds shards of ${name} made another way (${namedFiles(shards)}): one run, or partitions of another count, cannot share an output with ${mine}; choose another output or remove those shards`,
    { archive: where },
  );
}
