import type { KeyRule } from "../core/keys.js";
import type { Partition } from "../core/partition.js";
import { listedUpFront } from "../sources/list-members.js";
import type { Source } from "../sources/source.js";
import { isWanted } from "../transforms/keyed-side.js";

/**
 * The number of pairs expected, for progress (percentage and ETA), when the streamed side can be
 * listed up front; a partition expects its own slice only.
 */
export async function expectedPairs(
  streamed: Source,
  keys: KeyRule,
  limit: number | undefined,
  partition: Partition | undefined,
): Promise<number | undefined> {
  const listing = await listedUpFront(streamed);
  if (listing === undefined) return limit;
  let count = 0;
  for (const member of listing) if (isWanted(member, keys, partition)) count++;
  return limit === undefined ? count : Math.min(count, limit);
}
