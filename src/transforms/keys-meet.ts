/**
 * Image members read, with no pair yet, before a run stops sure its inputs do not belong
 * together: real CelebA and CASIA-WebFace inputs pair from their first members. The run counts
 * them as the join reads them; a dry run counts them the same way from the listings
 * (`readBeforeKeysMeet`), so both give the same verdict.
 */
export const NO_PAIR_PATIENCE = 1000;

/** Which sides the join reads in order: one (the other is looked up by key), or both (merge). */
export type Streamed = "photos" | "masks" | "both";

/**
 * The side the merge join reads next: the one behind in key order, so sorted sides meet; photos
 * first on a tie and before either has a key. `undefined` keys are sides not read yet.
 */
export function photosNext(
  photos: { done: boolean; lastKey: string | undefined },
  masks: { done: boolean; lastKey: string | undefined },
): boolean {
  if (photos.done) return false;
  if (masks.done) return true;
  if (photos.lastKey === undefined) return true;
  if (masks.lastKey === undefined) return false;
  return !(masks.lastKey < photos.lastKey);
}

/**
 * Members the join reads before the first whose key the other side has, as the run's join reads
 * them (`photoKeys`, `maskKeys`: each side's keys in its order, skipped members left out); stops
 * counting at `patience`. What a dry run computes from the two listings.
 */
export function readBeforeKeysMeet(
  streamed: Streamed,
  photoKeys: Iterable<string>,
  maskKeys: Iterable<string>,
  patience = NO_PAIR_PATIENCE,
): number {
  if (streamed !== "both") {
    const [read, other] = streamed === "photos" ? [photoKeys, maskKeys] : [maskKeys, photoKeys];
    const index = new Set(other);
    let count = 0;
    for (const key of read) {
      if (index.has(key) || ++count >= patience) return count;
    }
    return count;
  }
  return mergeReadBeforeKeysMeet(photoKeys, maskKeys, patience);
}

/** The merge join's reading order, keys alone: whichever side is behind is read next. */
function mergeReadBeforeKeysMeet(
  photoKeys: Iterable<string>,
  maskKeys: Iterable<string>,
  patience: number,
): number {
  const cursor = (keys: Iterable<string>) => ({
    keys: keys[Symbol.iterator](),
    seen: new Set<string>(),
    done: false,
    lastKey: undefined as string | undefined,
  });
  const photos = cursor(photoKeys);
  const masks = cursor(maskKeys);
  let count = 0;
  while (!photos.done || !masks.done) {
    const [side, other] = photosNext(photos, masks) ? [photos, masks] : [masks, photos];
    const next = side.keys.next();
    if (next.done === true) {
      side.done = true;
      continue;
    }
    if (other.seen.has(next.value) || ++count >= patience) return count;
    side.seen.add(next.value);
    side.lastKey = next.value;
  }
  return count;
}
