import { MaskpipeError } from "../core/errors.js";
import type { JoinedPhoto, LonePhoto, MemberData } from "../core/pair.js";
import type { RunStats } from "../core/stats.js";
import type { SourceEntry } from "../sources/source.js";
import type { KeyedSide } from "./keyed-side.js";
import { photosNext } from "./keys-meet.js";

interface Held {
  readonly path: string;
  readonly data: Buffer;
}

/** One order-only side as the merge join walks it. */
class Cursor {
  readonly iterator: AsyncIterator<SourceEntry>;
  done = false;
  lastKey: string | undefined;
  /** True while every key so far came in ascending order. */
  sorted = true;
  keysSeen = 0;
  /** Members waiting for their partner, in arrival order. */
  readonly held = new Map<string, Held>();
  /** Keys given up as unmatched on the strength of the other side's order. */
  readonly released = new Set<string>();
  /** Keys whose member could not be read: their partner is part of that failure. */
  readonly failed = new Set<string>();

  constructor(
    readonly keyed: KeyedSide,
    signal: AbortSignal | undefined,
  ) {
    this.iterator = keyed.source.entries({ want: keyed.wanted, signal })[Symbol.asyncIterator]();
  }
}

/**
 * Pairs two sides that can only be read front to back, reading whichever side is behind in key
 * order so that sorted archives meet as in a merge join. A member waits in memory until its
 * partner comes; past `memoryBudget` bytes of waiting members, those the other (sorted) side has
 * already passed are given up as unmatched, and if that is not enough the join stops with an
 * error that says what to do. Same inputs, same reading order, same output order. With
 * `keepUnmasked`, a photo without a mask comes out as it is given up as unmatched.
 */
export async function* streamJoin(
  photos: KeyedSide,
  masks: KeyedSide,
  stats: RunStats,
  memoryBudget: number,
  signal?: AbortSignal,
  keepUnmasked = false,
): AsyncGenerator<JoinedPhoto> {
  const a = new Cursor(photos, signal);
  const b = new Cursor(masks, signal);
  let heldBytes = 0;
  const lone: LonePhoto[] = []; // photos without a mask, to pass on (keepUnmasked)

  const unmatched = (cursor: Cursor, key: string, path: string, data: Buffer) => {
    stats.unmatched(cursor.keyed.side, path);
    if (keepUnmasked && cursor === a) lone.push({ key, photo: memberOf(cursor, path, data) });
  };

  /** The member `cursor` holds for `key`, no longer held. */
  const take = (cursor: Cursor, key: string): Held | undefined => {
    const held = cursor.held.get(key);
    if (held === undefined) return undefined;
    cursor.held.delete(key);
    heldBytes -= held.data.length;
    return held;
  };

  const release = (cursor: Cursor, key: string, held: Held, remember: boolean) => {
    take(cursor, key);
    if (remember) cursor.released.add(key);
    unmatched(cursor, key, held.path, held.data);
  };

  /**
   * Under memory pressure, gives up held members whose key the other side, sorted so far, has
   * already passed. Safe when the archives are sorted; if the other side later proves unsorted
   * and brings one of those keys, the run stops (ERR_JOIN_ORDER) instead of losing the pair.
   */
  const releasePassed = (cursor: Cursor, other: Cursor) => {
    // One key is no evidence of order; two ascending ones are the least there is.
    if (!other.sorted || other.keysSeen < 2 || other.lastKey === undefined) return;
    for (const [key, held] of cursor.held) {
      if (key < other.lastKey) release(cursor, key, held, true);
    }
  };

  try {
    while (!a.done || !b.done) {
      yield* lone.splice(0);
      const cursor = pickNext(a, b);
      const other = cursor === a ? b : a;
      const next = await cursor.iterator.next();
      if (next.done) {
        cursor.done = true;
        for (const [key, held] of other.held) release(other, key, held, false);
        continue;
      }
      const entry = next.value;
      const key = cursor.keyed.keyOf(entry.member);
      if (key === undefined) continue;
      stats.streamed(other.keyed.positions.has(key));
      if (cursor.lastKey !== undefined && key < cursor.lastKey) cursor.sorted = false;
      cursor.lastKey = key;
      cursor.keysSeen++;

      if (other.released.has(key)) throw outOfOrder(cursor, other, entry.member.path, key);
      if (cursor.keyed.failedRead(entry, key)) {
        cursor.failed.add(key);
        take(other, key);
        continue;
      }
      if (other.failed.has(key)) continue;

      const data = entry.data as Buffer;
      const partner = take(other, key);
      if (partner !== undefined) {
        const mine = memberOf(cursor, entry.member.path, data);
        const theirs = memberOf(other, partner.path, partner.data);
        stats.pairs++;
        yield cursor === a
          ? { key, photo: mine, mask: theirs }
          : { key, photo: theirs, mask: mine };
      } else if (other.done) {
        unmatched(cursor, key, entry.member.path, data);
      } else {
        cursor.held.set(key, { path: entry.member.path, data });
        heldBytes += data.length;
        if (heldBytes > memoryBudget) {
          releasePassed(a, b);
          releasePassed(b, a);
          if (heldBytes > memoryBudget) throw overBudget(a, b, memoryBudget);
        }
      }
    }
    yield* lone.splice(0);
  } finally {
    await Promise.all([a.iterator.return?.(), b.iterator.return?.()]);
  }
}

function memberOf(cursor: Cursor, path: string, data: Buffer): MemberData {
  return { archive: cursor.keyed.source.name, path, data };
}

/** Reads the side that is behind in key order, so sorted sides meet; photos first on a tie. */
function pickNext(a: Cursor, b: Cursor): Cursor {
  return photosNext(a, b) ? a : b;
}

const ADVICE =
  "pass one side as a zip or a folder (maskpipe then reads its members on demand), or sort both archives by member name";

function overBudget(a: Cursor, b: Cursor, budget: number): MaskpipeError {
  const mb = (budget / 1e6).toFixed(0);
  return new MaskpipeError(
    "ERR_JOIN_MEMORY",
    `${a.keyed.source.name} and ${b.keyed.source.name} can only be read in order and their members come in different orders: more than ${mb} MB (--join-memory) of members are waiting for their partners (${a.held.size} photos, ${b.held.size} masks). To fix: ${ADVICE}, or raise --join-memory`,
    { archive: a.keyed.source.name },
  );
}

function outOfOrder(cursor: Cursor, other: Cursor, path: string, key: string): MaskpipeError {
  return new MaskpipeError(
    "ERR_JOIN_ORDER",
    `${cursor.keyed.source.name}: ${path} (key "${key}") arrived after ${other.keyed.source.name} had passed that key in sorted order, so its partner was already counted as unmatched; the archives are not sorted the same way. To fix: ${ADVICE}`,
    { archive: cursor.keyed.source.name, member: path },
  );
}
