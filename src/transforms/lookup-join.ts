import { MaskpipeError } from "../errors.js";
import type { RunStats } from "../run-stats.js";
import { isMemberLevel } from "../sources/random-access-entries.js";
import type { RandomAccessSource } from "../sources/source.js";
import type { KeyedSide } from "./keyed-side.js";
import { orderedMap } from "./ordered-map.js";
import type { MemberData, Pair } from "./pair.js";

/**
 * Streams one side in its own order and reads each partner on demand from the other side's
 * index (a zip's central directory or a folder listing). Memory: the index, a few dozen bytes
 * per member, plus `readAhead` members in flight.
 */
export async function* lookupJoin(
  streamed: KeyedSide,
  lookup: KeyedSide<RandomAccessSource>,
  stats: RunStats,
  readAhead: number,
  signal?: AbortSignal,
): AsyncGenerator<Pair> {
  for (const member of await lookup.source.list(signal)) lookup.keyOf(member);
  const index = lookup.members;
  const unread = new Set(index.keys());

  async function* matched(): AsyncGenerator<{ key: string; streamedData: MemberData }> {
    for await (const entry of streamed.source.entries({ want: streamed.wanted, signal })) {
      const key = streamed.keyOf(entry.member);
      if (key === undefined) continue;
      const partner = unread.delete(key);
      if (streamed.failedRead(entry, key)) continue;
      if (!partner) {
        stats.unmatched(streamed.side, entry.member.path);
        continue;
      }
      const data = entry.data as Buffer;
      yield { key, streamedData: { archive: streamed.source.name, path: entry.member.path, data } };
    }
  }

  const pairs = orderedMap(matched(), readAhead, async ({ key, streamedData }) => {
    const member = index.get(key)!;
    try {
      const data = await lookup.source.read(member, signal);
      return toPair(key, streamedData, { archive: lookup.source.name, path: member.path, data });
    } catch (error) {
      if (!(error instanceof MaskpipeError) || !isMemberLevel(error)) throw error;
      lookup.failedRead({ member, error }, key);
      return undefined;
    }
  });

  function toPair(key: string, streamedData: MemberData, lookedUp: MemberData): Pair {
    return streamed.side === "photos"
      ? { key, photo: streamedData, mask: lookedUp }
      : { key, photo: lookedUp, mask: streamedData };
  }

  for await (const pair of pairs) {
    if (pair === undefined) continue;
    stats.pairs++;
    yield pair;
  }
  for (const key of unread) stats.unmatched(lookup.side, index.get(key)!.path);
}
