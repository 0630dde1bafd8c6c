import { dirname } from "node:path";
import type { OutputFiles } from "../../dataset/output-files.js";
import type { RunReport } from "../../dataset/report.js";
import { RUN_FILES } from "../../dataset/run-files.js";
import type { WidsIndex } from "../../sinks/shard-index.js";

/** One shard an output's index lists: where it is and what the index and report say of it. */
export interface ListedShard {
  /** Path in the output: `casia-000000.tar`, `train/celeba-000000.tar`, `data/train/...`. */
  path: string;
  /** The split it belongs to, when the run had splits. */
  split: string | undefined;
  nsamples: number;
  filesize: number;
  md5sum: string;
  /** From the report, where it records the shard. */
  sha256: string | undefined;
}

/** What an output's indexes list, and what could not be read. */
export interface ListedOutput {
  shards: ListedShard[];
  problems: string[];
}

/**
 * The shards of an output, from its index files: `index.json` beside the shards, one per split
 * when the run had splits (`train/index.json`, or `data/train/index.json` on the Hub); the
 * report's sha256 beside each. An interrupted run's shards without an index: those its report lists.
 */
export async function listOutputShards(
  files: OutputFiles,
  report: RunReport,
): Promise<ListedOutput> {
  const splits = report.splits === undefined ? [undefined] : Object.keys(report.splits);
  const sha256 = new Map(report.shards.map((shard) => [shard.name, shard.sha256]));
  const shards: ListedShard[] = [];
  const problems: string[] = [];
  for (const split of splits) {
    const indexPath =
      split === undefined ? RUN_FILES.index : `${files.shardFolder(split)}${RUN_FILES.index}`;
    const text = await files.text(indexPath);
    if (text === undefined && report.interrupted) {
      // An interrupted run of an older maskpipe wrote no index: its report lists the shards.
      shards.push(...reportedShards(report, split, files.shardFolder(split)));
      continue;
    }
    if (text === undefined) {
      problems.push(`${indexPath}: missing`);
      continue;
    }
    let index: WidsIndex;
    try {
      index = JSON.parse(text) as WidsIndex;
    } catch (error) {
      problems.push(`${indexPath}: not valid JSON (${(error as Error).message})`);
      continue;
    }
    const folder = dirname(indexPath) === "." ? "" : `${dirname(indexPath)}/`;
    for (const entry of index.shardlist ?? []) {
      const file = entry.url.split("/").at(-1)!;
      shards.push({
        path: `${folder}${entry.url}`,
        split,
        nsamples: entry.nsamples,
        filesize: entry.filesize,
        md5sum: entry.md5sum,
        sha256: sha256.get(split === undefined ? file : `${split}/${file}`),
      });
    }
  }
  return { shards, problems };
}

/** The complete shards the report lists for `split`, as the index would list them. */
function reportedShards(
  report: RunReport,
  split: string | undefined,
  folder: string,
): ListedShard[] {
  const prefix = split === undefined ? "" : `${split}/`;
  return report.shards
    .filter((shard) =>
      split === undefined ? !shard.name.includes("/") : shard.name.startsWith(prefix),
    )
    .map((shard) => ({
      path: `${split === undefined ? "" : folder}${shard.name.slice(prefix.length)}`,
      split,
      nsamples: shard.samples,
      filesize: shard.bytes,
      md5sum: shard.md5,
      sha256: shard.sha256,
    }));
}
