import type { JoinedPhoto, MemberData } from "../core/pair.js";
import type { RunStats } from "../core/stats.js";
import type { MemberList, RandomAccessSource, SourceMember } from "../sources/source.js";
import type { KeyedSide } from "./keyed-side.js";

interface Matched {
  key: string;
  streamed: MemberData;
  /** Undefined for a photo without a mask that the run keeps (`keepUnmasked`). */
  partner: SourceMember | undefined;
}

/**
 * Streams one side in its own order and reads each partner on demand from the other side's
 * index (a zip's central directory or a folder listing). Partners are read `batchSize` at a
 * time, one batch ahead, so a zip can serve neighbours with one read. Memory: the listing and
 * the key index, a few dozen bytes per member each, plus two batches of members. With
 * `keepUnmasked`, photos without a mask come too: in their place when the photos are streamed,
 * else after the pairs, in listing order.
 */
export async function* lookupJoin(
  streamed: KeyedSide,
  lookup: KeyedSide<RandomAccessSource>,
  stats: RunStats,
  batchSize: number,
  signal?: AbortSignal,
  keepUnmasked = false,
): AsyncGenerator<JoinedPhoto> {
  const listing = await lookup.source.list(signal);
  lookup.keyListing(listing);
  // Matched members leave the index, so what stays at the end is the unmatched side.
  const index = lookup.positions;

  async function* batches(): AsyncGenerator<Matched[]> {
    let batch: Matched[] = [];
    for await (const entry of streamed.source.entries({ want: streamed.wanted, signal })) {
      const key = streamed.keyOf(entry.member);
      if (key === undefined) continue;
      const found = index.get(key);
      if (found !== undefined) index.delete(key);
      stats.streamed(found !== undefined);
      const partner = found === undefined ? undefined : listing.at(found);
      if (streamed.failedRead(entry, key)) continue;
      if (partner === undefined) {
        stats.unmatched(streamed.side, entry.member.path);
        if (!keepUnmasked || streamed.side !== "photos") continue;
      }
      const data = entry.data as Buffer;
      const streamedData = { archive: streamed.source.name, path: entry.member.path, data };
      batch.push({ key, streamed: streamedData, partner });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  const read = (batch: Matched[]) => {
    const partners = batch.flatMap((item) => (item.partner === undefined ? [] : [item.partner]));
    const reading = lookup.source.readMany(partners, signal);
    reading.catch(() => {}); // awaited in order below
    return { batch, reading };
  };

  const source = batches();
  let next = await source.next();
  let pending = next.done ? undefined : read(next.value);
  try {
    while (pending !== undefined) {
      next = await source.next();
      const current = pending;
      pending = next.done ? undefined : read(next.value);
      const results = (await current.reading).values();
      for (const item of current.batch) {
        if (item.partner === undefined) {
          yield { key: item.key, photo: item.streamed };
          continue;
        }
        const result = results.next().value!;
        if ("error" in result) {
          lookup.failedRead({ member: item.partner, error: result.error }, item.key);
          continue;
        }
        const lookedUp = {
          archive: lookup.source.name,
          path: item.partner.path,
          data: result.data,
        };
        stats.pairs++;
        yield streamed.side === "photos"
          ? { key: item.key, photo: item.streamed, mask: lookedUp }
          : { key: item.key, photo: lookedUp, mask: item.streamed };
      }
    }
  } finally {
    await source.return(undefined);
  }
  for (const left of index.values()) stats.unmatched(lookup.side, listing.at(left)!.path);
  if (keepUnmasked && lookup.side === "photos") {
    yield* lonePhotos(lookup, listing, [...index], batchSize, signal);
  }
}

/** The looked-up photos no mask asked for (`[key, position]`), read in listing order. */
async function* lonePhotos(
  lookup: KeyedSide<RandomAccessSource>,
  listing: MemberList,
  left: [string, number][],
  batchSize: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<JoinedPhoto> {
  left.sort((a, b) => a[1] - b[1]);
  for (let start = 0; start < left.length; start += batchSize) {
    const batch = left.slice(start, start + batchSize);
    const members = batch.map(([, position]) => listing.at(position)!);
    const results = await lookup.source.readMany(members, signal);
    for (const [i, [key]] of batch.entries()) {
      const result = results[i]!;
      const member = members[i]!;
      if ("error" in result) {
        lookup.failedRead({ member, error: result.error }, key);
        continue;
      }
      yield { key, photo: { archive: lookup.source.name, path: member.path, data: result.data } };
    }
  }
}
