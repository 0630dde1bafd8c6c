import { createHash } from "node:crypto";
import { MaskpipeError } from "./errors.js";
import { integerBetween } from "./validate.js";

/**
 * One of `count` workers that share a run (`--partition I/N`): worker `index` (from 0) takes the
 * pairs whose key hashes to it, writes its own shards into the shared output, and `maskpipe
 * merge` joins the partitions into one data set.
 */
export interface Partition {
  index: number;
  count: number;
}

/** At most this many partitions: far past any cluster, small enough for names of fixed width. */
export const MAX_PARTITIONS = 100_000;

/** Where each partition keeps its run.json, report.json and errors.jsonl in the output. */
export const PARTITIONS_FOLDER = "partitions";

export function checkPartition(name: string, value: unknown): Partition {
  if (typeof value !== "object" || value === null) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected { index, count } for ${name} but received ${String(value)}`,
    );
  }
  const { index, count } = value as Partial<Partition>;
  const checkedCount = integerBetween(`${name}.count`, count, 1, MAX_PARTITIONS);
  return {
    index: integerBetween(`${name}.index`, index, 0, checkedCount - 1),
    count: checkedCount,
  };
}

/**
 * `--partition I/N`, or `--partition N` with the index from the scheduler: Kubernetes' Indexed
 * Job (JOB_COMPLETION_INDEX, from 0) or a Slurm array (SLURM_ARRAY_TASK_ID, counted from
 * SLURM_ARRAY_TASK_MIN, so `--array=0-15` and `--array=1-16` both work).
 */
export function parsePartition(
  text: string,
  env: Record<string, string | undefined> = process.env,
): Partition {
  const explicit = /^(\d+)\/(\d+)$/.exec(text);
  if (explicit !== null) {
    return checkFlag(text, Number(explicit[1]), Number(explicit[2]));
  }
  if (!/^\d+$/.test(text)) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected --partition I/N (this worker's index from 0, of N), or N with the index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, but received "${text}"`,
    );
  }
  const count = Number(text);
  const kubernetes = env.JOB_COMPLETION_INDEX;
  const slurm = env.SLURM_ARRAY_TASK_ID;
  if (kubernetes !== undefined && /^\d+$/.test(kubernetes)) {
    return checkFlag(`${kubernetes}/${count} (JOB_COMPLETION_INDEX)`, Number(kubernetes), count);
  }
  if (slurm !== undefined && /^\d+$/.test(slurm)) {
    const first = /^\d+$/.test(env.SLURM_ARRAY_TASK_MIN ?? "")
      ? Number(env.SLURM_ARRAY_TASK_MIN)
      : 0;
    return checkFlag(
      `${Number(slurm) - first}/${count} (SLURM_ARRAY_TASK_ID ${slurm} - SLURM_ARRAY_TASK_MIN ${first})`,
      Number(slurm) - first,
      count,
    );
  }
  throw new MaskpipeError(
    "ERR_INVALID_OPTION",
    `--partition ${text} takes this worker's index from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array), and neither is set; give it as --partition I/${text}`,
  );
}

function checkFlag(shown: string, index: number, count: number): Partition {
  if (count < 1 || count > MAX_PARTITIONS || index >= count || index < 0) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `--partition ${shown}: expected an index from 0 to N-1 of N partitions (N at most ${MAX_PARTITIONS.toLocaleString("en-US")})`,
    );
  }
  return { index, count };
}

/**
 * The partition a key (or a skipped member's path) belongs to: from its SHA-256, so the slice is
 * the same on every machine and rerun, whatever the archive kind or member order, and even: each
 * of N partitions gets 1/N of the keys, within a few standard deviations (sqrt(n/N)).
 */
export function partitionOf(text: string, count: number): number {
  if (count === 1) return 0;
  const hash = createHash("sha256").update(text).digest().readUInt32BE(0);
  return Math.floor((hash * count) / 2 ** 32);
}

export function inPartition(partition: Partition | undefined, text: string): boolean {
  return partition === undefined || partitionOf(text, partition.count) === partition.index;
}

/** `03of16`: sorts in index order, and names the count, so two partitionings never collide. */
export function partitionLabel(partition: Partition): string {
  const width = String(partition.count - 1).length;
  return `${String(partition.index).padStart(width, "0")}of${partition.count}`;
}

/** The names a partition's shards go by: `celeba-03of16` gives `celeba-03of16-000000.tar`. */
export function partitionShardSet(name: string, partition: Partition | undefined): string {
  return partition === undefined ? name : `${name}-${partitionLabel(partition)}`;
}

/** `partitions/03of16`: the partition's own run.json, report.json and errors.jsonl. */
export function partitionFolder(partition: Partition): string {
  return `${PARTITIONS_FOLDER}/${partitionLabel(partition)}`;
}

/** The partition a `partitions/{label}` folder name stands for, if it is one. */
export function parsePartitionLabel(label: string): Partition | undefined {
  const match = /^(\d+)of(\d+)$/.exec(label);
  if (match === null) return undefined;
  const partition = { index: Number(match[1]), count: Number(match[2]) };
  if (partition.count < 1 || partition.index >= partition.count) return undefined;
  return partitionLabel(partition) === label ? partition : undefined;
}
