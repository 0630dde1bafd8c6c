import { Transform } from "node:stream";
import type { JoinedPhoto } from "../core/pair.js";
import type { RunStats } from "../core/stats.js";

/**
 * Drops the pairs an earlier run already wrote (--resume), before any decoding, and counts them.
 *
 * @example
 * pipeline(join(...), skipDone((key) => doneKeys.has(key), stats), overlay(), sink)
 */
export function skipDone(isDone: (key: string) => boolean, stats: RunStats): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark: 1,
    transform(pair: JoinedPhoto, _encoding, callback) {
      if (isDone(pair.key)) {
        stats.resumed++;
        callback();
      } else {
        callback(null, pair);
      }
    },
  });
}
