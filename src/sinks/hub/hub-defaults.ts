import { integerBetween } from "../../core/validate.js";

/**
 * 500 MB shards (the usual size for WebDataset on the Hub; the count rarely decides) and two
 * complete shards held for upload. Apart from the sink so that checking options does not load
 * the Hub client.
 */
export const HUB_SHARD_DEFAULTS = { maxCount: 100_000, maxBytes: 500e6, buffer: 2 } as const;

/** Shards held for upload: the one check the sink and the run options share. */
export function checkHubBuffer(name: string, value: unknown): number {
  return integerBetween(name, value, 1, 50);
}

/** Where shards go in a Hub repo, a folder per split: the card's `data_files` point there. */
export const HUB_DATA_ROOT = "data";

/** A split's shard folder in a Hub repo: `data/train` (a run without splits has `train` only). */
export function hubSplitFolder(split = "train"): string {
  return `${HUB_DATA_ROOT}/${split}`;
}

/** `data/{split}/{name}-000000.tar`: a shard in a Hub repo whose file name `pattern` takes. */
export function isHubShardPath(path: string, pattern: RegExp): boolean {
  const parts = path.split("/");
  return parts.length === 3 && parts[0] === HUB_DATA_ROOT && pattern.test(parts[2]!);
}
