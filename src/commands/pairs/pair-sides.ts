import { ORIGINAL_EXTENSION, type PairSample } from "./split-samples.js";

/**
 * Which photo each side of a pair shows. `image`: each sample's image member as the run wrote
 * it (masked unless its json says `masked: false`); `masked-unmasked`: the left side a masked
 * photo, the right an unmasked one (`{key}.orig.jpg`, or an image the json says is unmasked),
 * the protocol masked-face recognition papers report; `masked-masked`, `unmasked-unmasked`:
 * both sides of that kind.
 */
export type PairSides = "image" | "masked-unmasked" | "masked-masked" | "unmasked-unmasked";

export const PAIR_SIDES: readonly PairSides[] = [
  "image",
  "masked-unmasked",
  "masked-masked",
  "unmasked-unmasked",
];

type SideKind = "image" | "masked" | "unmasked";

/** One side of a pair: the sample and the member of it the side shows. */
export interface PairSide {
  key: string;
  /** The member of the shard: `{memberKey}.jpg` or `{memberKey}.orig.jpg`. */
  member: string;
  shard: string;
  identity: string;
  /** The member shows the photo with the mask on. */
  masked: boolean;
}

/** The kinds of the left and right side. */
function kinds(sides: PairSides): [SideKind, SideKind] {
  if (sides === "image") return ["image", "image"];
  const [left, right] = sides.split("-") as [SideKind, SideKind];
  return [left, right];
}

/** True when `sample` has a photo of that kind. */
function hasKind(sample: PairSample, kind: SideKind): boolean {
  if (kind === "image") return true;
  return kind === "masked" ? sample.masked : sample.hasOriginal || !sample.masked;
}

/** The side `kind` of `sample`; `undefined` when the sample has no photo of that kind. */
function sideOf(sample: PairSample, kind: SideKind, imageExtension: string): PairSide | undefined {
  if (!hasKind(sample, kind)) return undefined;
  const side = (extension: string, masked: boolean) => ({
    key: sample.key,
    member: `${sample.memberKey}.${extension}`,
    shard: sample.shard,
    identity: sample.identity,
    masked,
  });
  if (kind === "unmasked" && sample.hasOriginal) return side(ORIGINAL_EXTENSION, false);
  return side(imageExtension, sample.masked);
}

/**
 * Puts two samples on the sides `sides` asks for: `a` left and `b` right, or the other way
 * round (by `coin`, where both fit); `undefined` when neither way fits.
 */
export function orient(
  a: PairSample,
  b: PairSample,
  sides: PairSides,
  imageExtension: string,
  coin: boolean,
): [PairSide, PairSide] | undefined {
  const [left, right] = kinds(sides);
  const ways: [PairSample, PairSample][] = coin
    ? [
        [b, a],
        [a, b],
      ]
    : [
        [a, b],
        [b, a],
      ];
  for (const [first, second] of ways) {
    if (hasKind(first, left) && hasKind(second, right))
      return [sideOf(first, left, imageExtension)!, sideOf(second, right, imageExtension)!];
  }
  return undefined;
}

/** True when `a` and `b` can be put on the sides `sides` asks for, one way or the other. */
export function fitsSides(a: PairSample, b: PairSample, sides: PairSides): boolean {
  const [left, right] = kinds(sides);
  return (hasKind(a, left) && hasKind(b, right)) || (hasKind(b, left) && hasKind(a, right));
}

/** True when `sample` can be on either side of a pair `sides` asks for. */
export function canTakeSide(sample: PairSample, sides: PairSides): boolean {
  return kinds(sides).some((kind) => hasKind(sample, kind));
}

/** The sides by default: masked against unmasked when the samples carry their unmasked photo. */
export function defaultSides(samples: readonly PairSample[]): PairSides {
  return samples.some((sample) => sample.hasOriginal) ? "masked-unmasked" : "image";
}
