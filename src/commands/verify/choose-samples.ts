import { createHash } from "node:crypto";

/** How many samples a proof re-derives: a count, or every sample of the output. */
export type SampleCount = number | "all";

/** Samples a proof re-derives when not told: enough to catch a systematic fault, quickly. */
export const DEFAULT_PROOF_SAMPLES = 100;

/**
 * The ordinals (from 0, in output order) of the samples a proof re-derives out of `total`:
 * every one for `all` or a count of at least `total`; else one from each of `count` equal
 * stretches of the output, at an offset a hash of `seed` and the stretch picks. The same output
 * gives the same choice on every machine and rerun, spread from its first shard to its last.
 */
export function chosenOrdinals(total: number, count: SampleCount, seed: string): number[] {
  if (count === "all" || count >= total) return Array.from({ length: total }, (_, i) => i);
  const chosen: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * total) / count);
    const end = Math.floor(((i + 1) * total) / count);
    const hash = createHash("sha256").update(`${seed}\0${i}`).digest().readUInt32BE(0);
    chosen.push(start + (hash % (end - start)));
  }
  return chosen;
}

/**
 * The chosen ordinals spread over shards of `counts` samples each: for each shard (by its
 * place in `counts`), the ordinals within it.
 */
export function ordinalsPerShard(counts: readonly number[], chosen: readonly number[]): number[][] {
  const perShard: number[][] = counts.map(() => []);
  let shard = 0;
  let first = 0;
  for (const ordinal of chosen) {
    while (shard < counts.length && ordinal >= first + counts[shard]!) first += counts[shard++]!;
    if (shard === counts.length) break;
    perShard[shard]!.push(ordinal - first);
  }
  return perShard;
}

/** `--sample N|all` as given on the command line or to the library. */
export function parseSampleCount(text: string | number): SampleCount | undefined {
  if (text === "all") return "all";
  const value = typeof text === "number" ? text : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(value) && value >= 1 ? value : undefined;
}
