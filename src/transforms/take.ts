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
  async function* first(): AsyncGenerator<JoinedPhoto> {
    if (limit <= 0) return;
    let taken = 0;
    for await (const pair of pairs) {
      yield pair;
      if (++taken >= limit) return;
    }
  }
  return Readable.from(first(), { objectMode: true, highWaterMark: 1 });
}
