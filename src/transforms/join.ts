import { Readable } from "node:stream";
import type { KeyRule } from "../core/keys.js";
import type { JoinedPhoto } from "../core/pair.js";
import type { Partition } from "../core/partition.js";
import { RunStats, type Side } from "../core/stats.js";
import { integerBetween } from "../core/validate.js";
import type { Source } from "../sources/source.js";
import { KeyedSide } from "./keyed-side.js";
import { lookupJoin } from "./lookup-join.js";
import { streamJoin } from "./stream-join.js";

export interface JoinOptions {
  photos: Source;
  masks: Source;
  photoKeys: KeyRule;
  maskKeys: KeyRule;
  /**
   * Bytes of members that may wait in memory for their partner when both sides can only be
   * read in order and are not sorted alike. Default 512 MB.
   */
  memoryBudget?: number;
  /** Partner members read at once from the on-demand side, one batch ahead. Default 32. */
  readAhead?: number;
  /** Counts of pairs, unmatched, skipped and failed members; one is made if not given. */
  stats?: RunStats;
  /** Only the pairs of this partition's keys: the others are not read and not counted. */
  partition?: Partition;
  /** Only the pairs of these keys (a proof's chosen samples): the others are not read. */
  keys?: ReadonlySet<string>;
  /**
   * Pass photos without a mask on too (`LonePhoto`, no `mask`), still counted as unmatched: in
   * their place when the photos are streamed, else as the join gives them up. Default false.
   */
  keepUnmasked?: boolean;
  signal?: AbortSignal;
}

export const JOIN_DEFAULTS = { memoryBudget: 512e6, readAhead: 32 } as const;

export type JoinStrategy = "lookup-masks" | "lookup-photos" | "merge";

/** The side that is streamed and the one looked up on demand, chosen from what each can do. */
export function joinStrategy(photos: Source, masks: Source): JoinStrategy {
  if (masks.randomAccess) return "lookup-masks";
  if (photos.randomAccess) return "lookup-photos";
  return "merge";
}

/**
 * Pairs each photo with its mask by key. Emits `Pair` objects (and, with `keepUnmasked`,
 * `LonePhoto`s); unmatched, skipped and unreadable
 * members are counted in `stats`, never dropped silently.
 *
 * @example
 * const pairs = join({ photos, masks, photoKeys: { depth: 1, suffixes: [] },
 *   maskKeys: { depth: 1, suffixes: ["_mask"] } });
 * for await (const pair of pairs) console.log(pair.key);
 */
export function join(options: JoinOptions): Readable & { stats: RunStats } {
  const stats = options.stats ?? new RunStats();
  return Object.assign(
    Readable.from(joinedPairs({ ...options, stats }), { objectMode: true, highWaterMark: 1 }),
    { stats },
  );
}

/**
 * What `join` streams, as an async generator (counting in `options.stats`): for a pipeline of
 * generator functions, which passes each pair on without a stream's buffering in between.
 */
export function joinedPairs(options: JoinOptions): AsyncGenerator<JoinedPhoto> {
  const memoryBudget = integerBetween(
    "memoryBudget",
    options.memoryBudget ?? JOIN_DEFAULTS.memoryBudget,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const readAhead = integerBetween(
    "readAhead",
    options.readAhead ?? JOIN_DEFAULTS.readAhead,
    1,
    1024,
  );
  const stats = options.stats ?? new RunStats();
  const { signal, photoKeys, maskKeys } = options;
  const side = <S extends Source>(name: Side, source: S, rule: KeyRule) =>
    new KeyedSide(name, source, rule, stats, options.partition, options.keys);

  const keep = options.keepUnmasked === true;
  let pairs: AsyncGenerator<JoinedPhoto>;
  if (options.masks.randomAccess) {
    const [streamed, lookup] = [
      side("photos", options.photos, photoKeys),
      side("masks", options.masks, maskKeys),
    ];
    pairs = lookupJoin(streamed, lookup, stats, readAhead, signal, keep);
  } else if (options.photos.randomAccess) {
    const [streamed, lookup] = [
      side("masks", options.masks, maskKeys),
      side("photos", options.photos, photoKeys),
    ];
    pairs = lookupJoin(streamed, lookup, stats, readAhead, signal, keep);
  } else {
    const photos = side("photos", options.photos, photoKeys);
    const masks = side("masks", options.masks, maskKeys);
    pairs = streamJoin(photos, masks, stats, memoryBudget, signal, keep);
  }
  return pairs;
}
