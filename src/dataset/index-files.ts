import { jsonText } from "../core/json-text.js";
import { hubSplitFolder } from "../sinks/hub/hub-defaults.js";
import { widsIndex } from "../sinks/shard-index.js";
import type { ShardInfo } from "../sinks/sink.js";
import { RUN_FILES } from "./run-files.js";

/** Where an output's shards are: a local folder, or a Hub repo (under `data/`). */
export type OutputPlace = "folder" | "hub";

/** A split's shard folder relative to the output, with a trailing slash, or "". */
export function shardFolder(place: OutputPlace, split: string, hasSplits: boolean): string {
  if (place === "hub") return `${hubSplitFolder(split)}/`;
  return hasSplits ? `${split}/` : "";
}

/**
 * The wids indexes of an output: without splits one `index.json` at the top naming every shard
 * by its path; with splits one `index.json` in each split's folder that has shards.
 */
export function indexFiles(
  name: string,
  shardsBySplit: ReadonlyMap<string, readonly ShardInfo[]>,
  place: OutputPlace,
  hasSplits: boolean,
): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  for (const [split, shards] of shardsBySplit) {
    const folder = shardFolder(place, split, hasSplits);
    if (!hasSplits) {
      files.push({ path: RUN_FILES.index, text: jsonText(widsIndex(name, shards, folder)) });
    } else if (shards.length > 0) {
      files.push({ path: `${folder}${RUN_FILES.index}`, text: jsonText(widsIndex(name, shards)) });
    }
  }
  return files;
}
