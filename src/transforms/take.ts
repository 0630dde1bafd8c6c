import { Readable } from "node:stream";
import type { JoinedPhoto } from "../core/pair.js";

/**
 * The first `limit` pairs of `pairs`, then the end: the join upstream is destroyed, so a trial
 * run (`--limit`) reads no more of the inputs than it needs.
 *
 * @example
 * await pipeline(takePairs(join({...}), 100), overlay(), sink);
 */
export function takePairs(pairs: AsyncIterable<JoinedPhoto>, limit: number): Readable {
  return Readable.from(firstPairs(pairs, limit), { objectMode: true, highWaterMark: 1 });
}

/** What `takePairs` streams, as an async generator. */
export async function* firstPairs(
  pairs: AsyncIterable<JoinedPhoto>,
  limit: number,
): AsyncGenerator<JoinedPhoto> {
  if (limit <= 0) return;
  let taken = 0;
  for await (const pair of pairs) {
    yield pair;
    if (++taken >= limit) return;
  }
}
