import { MaskpipeError } from "../../core/errors.js";
import { seededRandom } from "../../core/seeded-random.js";
import { PairDraw } from "./pair-draw.js";
import { canTakeSide, fitsSides, orient, type PairSide, type PairSides } from "./pair-sides.js";
import type { SplitSamples } from "./split-samples.js";

/** One line of a verification list. */
export interface EvaluationPair {
  left: PairSide;
  right: PairSide;
  sameIdentity: boolean;
}

export interface ChoosePairsOptions {
  /** Pairs in all, even: half of the same identity, half of different identities. */
  count: number;
  /** The same seed and samples give the same list. */
  seed: number;
  sides: PairSides;
  /** The split's name, for messages. */
  split: string;
}

/**
 * A balanced verification list: `count / 2` pairs of two samples of one identity (the identity
 * drawn evenly among those with two samples or more, then two of its samples), then `count / 2`
 * of two samples of different identities (two samples drawn evenly). No sample is paired with
 * itself, no pair is there twice (in either order); each pair is put on the sides `sides` asks
 * for. Refused when the split cannot give that many of each kind.
 */
export function choosePairs(split: SplitSamples, options: ChoosePairsOptions): EvaluationPair[] {
  const { imageExtension } = split;
  const samples = split.samples.filter((s) => canTakeSide(s, options.sides));
  const random = seededRandom(options.seed);
  const span = samples.length + 1;
  const oriented = (a: number, b: number) =>
    orient(samples[a]!, samples[b]!, options.sides, imageExtension, random() < 0.5);
  const fits = (a: number, b: number) => fitsSides(samples[a]!, samples[b]!, options.sides);
  const byIdentity = new Map<string, number[]>();
  for (const [i, sample] of samples.entries()) {
    const items = byIdentity.get(sample.identity);
    if (items === undefined) byIdentity.set(sample.identity, [i]);
    else items.push(i);
  }
  const half = options.count / 2;
  const pairs: EvaluationPair[] = [];
  const live = [...byIdentity.values()]
    .filter((items) => items.length >= 2)
    .map((items) => new PairDraw(items, fits, random, span));
  while (pairs.length < half && live.length > 0) {
    const at = Math.floor(random() * live.length);
    const pair = live[at]!.next();
    if (pair === undefined) live.splice(at, 1);
    else pairs.push(toPair(oriented(...pair)!, true));
  }
  const same = pairs.length;
  const all = samples.map((_, i) => i);
  const different = new PairDraw(
    all,
    (a, b) => samples[a]!.identity !== samples[b]!.identity && fits(a, b),
    random,
    span,
  );
  while (pairs.length < same + half) {
    const pair = different.next();
    if (pair === undefined) break;
    pairs.push(toPair(oriented(...pair)!, false));
  }
  if (same < half || pairs.length - same < half) {
    throw tooFew(options, { ...split, samples }, byIdentity, same, pairs.length - same);
  }
  return pairs;
}

function toPair([left, right]: [PairSide, PairSide], sameIdentity: boolean): EvaluationPair {
  return { left, right, sameIdentity };
}

/** The refusal of a split too small for the list: what it holds and what it can give. */
function tooFew(
  options: ChoosePairsOptions,
  split: SplitSamples,
  byIdentity: ReadonlyMap<string, readonly number[]>,
  same: number,
  different: number,
): MaskpipeError {
  const half = options.count / 2;
  const repeated = [...byIdentity.values()].filter((items) => items.length >= 2).length;
  const holds = `split ${options.split} holds ${split.samples.length} samples that fit --sides ${options.sides}, of ${byIdentity.size} ${byIdentity.size === 1 ? "identity" : "identities"} (${repeated} with two samples or more)${split.unknownIdentity > 0 ? `; ${split.unknownIdentity} more have no known identity` : ""}`;
  const gives = `it gives ${same < half ? `${same} same-identity pairs` : `${different} different-identity pairs`}`;
  if (same === 0 || different === 0) {
    return new MaskpipeError(
      "ERR_OUTPUT",
      `${holds}: too few identities for a verification list (${gives}); choose another split, or --sides`,
    );
  }
  return new MaskpipeError(
    "ERR_INVALID_OPTION",
    `Expected at most ${2 * Math.min(same, different)} (half same-, half different-identity pairs) for count but received ${options.count}: ${holds}, and ${gives}`,
  );
}
