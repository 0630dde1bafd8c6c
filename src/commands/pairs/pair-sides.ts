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

/** The side `kind` of `sample`; `undefined` when the sample has no photo of that kind. */
function sideOf(sample: PairSample, kind: SideKind, imageExtension: string): PairSide | undefined {
  const side = (extension: string, masked: boolean) => ({
    key: sample.key,
    member: `${sample.memberKey}.${extension}`,
    shard: sample.shard,
    identity: sample.identity,
    masked,
  });
  const image = side(imageExtension, sample.masked);
  if (kind === "image") return image;
  if (kind === "masked") return sample.masked ? image : undefined;
  if (sample.hasOriginal) return side(ORIGINAL_EXTENSION, false);
  return sample.masked ? undefined : image;
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
    const l = sideOf(first, left, imageExtension);
    const r = sideOf(second, right, imageExtension);
    if (l !== undefined && r !== undefined) return [l, r];
  }
  return undefined;
}

/** True when `sample` can be on either side of a pair `sides` asks for. */
export function canTakeSide(sample: PairSample, sides: PairSides, imageExtension: string): boolean {
  return kinds(sides).some((kind) => sideOf(sample, kind, imageExtension) !== undefined);
}

/** The sides by default: masked against unmasked when the samples carry their unmasked photo. */
export function defaultSides(samples: readonly PairSample[]): PairSides {
  return samples.some((sample) => sample.hasOriginal) ? "masked-unmasked" : "image";
}
