import type { KeyRule } from "../core/keys.js";
import type { Partition } from "../core/partition.js";
import type { RunStats } from "../core/stats.js";
import type { Labeler } from "../labels/labeler.js";
import { listMembers } from "../sources/list-members.js";
import type { Source } from "../sources/source.js";
import { KeyedSide } from "../transforms/keyed-side.js";
import { readBeforeKeysMeet, type Streamed } from "../transforms/keys-meet.js";

export interface PairCountOptions {
  photos: Source;
  masks: Source;
  photoKeys: KeyRule;
  maskKeys: KeyRule;
  stats: RunStats;
  /** Count only this partition's pairs, as its run would make them. */
  partition?: Partition;
  /** The run's labels: each pair is labelled as the run would, so the label counts are its. */
  labeler?: Labeler;
  /** The side(s) the run's join reads in order, for its no-pair patience. Default photos. */
  streamed?: Streamed;
  signal?: AbortSignal;
}

/**
 * What a run would pair, from the two listings alone (`--dry-run`): counts pairs, unmatched and
 * skipped members in `stats` as the join would, and refuses duplicate keys as it would. Returns
 * how many members the join would read before the first whose key the other side has (up to the
 * run's patience), so the dry run stops where the run would. Decodes nothing; memory is the two
 * listings and their keys.
 */
export async function countPairs(
  options: PairCountOptions,
): Promise<{ readBeforeKeysMeet: number }> {
  const { stats, signal } = options;
  const { partition } = options;
  const photos = new KeyedSide("photos", options.photos, options.photoKeys, stats, partition);
  const masks = new KeyedSide("masks", options.masks, options.maskKeys, stats, partition);
  const photoList = await listMembers(options.photos, signal);
  photos.keyListing(photoList);
  const maskList = await listMembers(options.masks, signal);
  masks.keyListing(maskList);
  const maskIndex = masks.positions;
  const readBefore = readBeforeKeysMeet(
    options.streamed ?? "photos",
    photos.positions.keys(),
    maskIndex.keys(),
  );
  for (const [key, position] of photos.positions) {
    const photo = photoList.at(position)!.path;
    if (maskIndex.delete(key)) {
      stats.pairs++;
      if (options.labeler !== undefined)
        stats.labelMissing(options.labeler.label(key, photo).missing);
    } else stats.unmatched("photos", photo);
  }
  for (const position of maskIndex.values()) stats.unmatched("masks", maskList.at(position)!.path);
  return { readBeforeKeysMeet: readBefore };
}
