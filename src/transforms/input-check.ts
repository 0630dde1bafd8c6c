import { Duplex } from "node:stream";
import sharp from "sharp";
import { MaskpipeError, where } from "../core/errors.js";
import { type KeyRule, memberKey } from "../core/keys.js";
import type { JoinedPhoto, MemberData, Pair } from "../core/pair.js";
import { RunStats, type Side } from "../core/stats.js";
import { mixUpError } from "./data-set-guess.js";
import { checkSizes } from "./size-check.js";

export interface InputCheckOptions {
  /** Pairs looked at before the first one goes on. Default 8. */
  inspect?: number;
  /** The key rules, to show what they make of example members when no pair is found. */
  photoKeys: KeyRule;
  maskKeys: KeyRule;
  /** Names of the two inputs as the user gave them. */
  photosName: string;
  masksName: string;
  /** Example member paths of each side, for a message about keys that do not meet. */
  examples: () => Record<Side, readonly string[]>;
  stats?: RunStats;
}

export const INPUT_CHECK_DEFAULTS = { inspect: 8 } as const;

/** How many examples of each side a mismatch message shows. */
const SHOWN = 3;

/**
 * Looks at the first pairs before the long run and stops with an error when the inputs are not
 * what they should be: photos and masks swapped, "masks" that are not RGBA PNGs. At the end, no
 * pair at all while both sides had images means the key rules do not fit the inputs: the error
 * shows example members of each side and the keys the rules made of them. Decodes headers only.
 */
export function inputCheck(options: InputCheckOptions): Duplex {
  return Duplex.from((pairs: AsyncIterable<JoinedPhoto>) => checkedPairs(pairs, options));
}

/** What `inputCheck` does, as a generator over pairs: for a stage that does more. */
export async function* checkedPairs(
  pairs: AsyncIterable<JoinedPhoto>,
  options: InputCheckOptions,
): AsyncGenerator<JoinedPhoto> {
  const inspect = options.inspect ?? INPUT_CHECK_DEFAULTS.inspect;
  const stats = options.stats ?? new RunStats();
  const first: JoinedPhoto[] = [];
  for await (const pair of pairs) {
    if (first.length >= inspect) {
      yield pair;
      continue;
    }
    first.push(pair);
    if (first.length === inspect) {
      await checkFirstPairs(first, options);
      yield* first;
    }
  }
  if (first.length < inspect) {
    await checkFirstPairs(first, options);
    yield* first;
  }
  if (stats.pairs === 0 && stats.photosWithoutMask > 0 && stats.masksWithoutPhoto > 0) {
    throw keysDoNotMeet(options, options.examples());
  }
}

/**
 * The error for inputs whose keys never meet, with what the key rules made of a few members of
 * each side.
 */
export function keysDoNotMeet(
  options: Pick<InputCheckOptions, "photoKeys" | "maskKeys" | "photosName" | "masksName">,
  examples: Record<Side, readonly string[]>,
): MaskpipeError {
  // Paths that say what went wrong (swapped, two data sets) say it better than the keys.
  const mixUp = mixUpError(options, examples);
  if (mixUp !== undefined) return mixUp;
  const show = (paths: readonly string[], rule: KeyRule) =>
    paths
      .slice(0, SHOWN)
      .map((path) => `${path} -> ${memberKey(path, rule)}`)
      .join(", ");
  return new MaskpipeError(
    "ERR_INPUTS_MISMATCH",
    `no photo found its mask: the key rules give the two sides different keys.\n  photos (${options.photosName}): ${show(examples.photos, options.photoKeys) || "no images"}\n  masks (${options.masksName}): ${show(examples.masks, options.maskKeys) || "no images"}\nCheck that --originals and --masks are the photos and masks of one data set, and that the pipeline (celeba or casia) is the one for them.`,
    { archive: options.masksName },
  );
}

interface Header {
  format: string | undefined;
  hasAlpha: boolean;
  width: number;
  height: number;
}

async function header(member: MemberData): Promise<Header | undefined> {
  try {
    const { format, hasAlpha, width, height } = await sharp(member.data).metadata();
    return { format, hasAlpha, width, height };
  } catch {
    return undefined; // an unreadable image is that pair's failure, counted by the overlay
  }
}

const isMaskLike = (image: Header) => image.format === "png" && image.hasAlpha;

async function checkFirstPairs(
  items: readonly JoinedPhoto[],
  options: InputCheckOptions,
): Promise<void> {
  const looked: { pair: Pair; photo: Header; mask: Header }[] = [];
  // A photo without a mask (kept with --keep-unmasked) says nothing about the masks.
  const pairs = items.filter((item): item is Pair => item.mask !== undefined);
  for (const pair of pairs) {
    const [photo, mask] = await Promise.all([header(pair.photo), header(pair.mask)]);
    if (photo !== undefined && mask !== undefined) looked.push({ pair, photo, mask });
  }
  const notMasks = looked.filter((item) => !isMaskLike(item.mask));
  // One odd mask is that pair's failure; most of them means the input is wrong.
  if (notMasks.length === 0 || notMasks.length * 2 <= looked.length)
    return checkSizes(looked, options);
  const example = notMasks[0]!;
  const maskExample = where(example.pair.mask.archive, example.pair.mask.path);
  const photosLikeMasks =
    looked.filter((item) => isMaskLike(item.photo)).length * 2 > looked.length;
  if (photosLikeMasks) {
    throw new MaskpipeError(
      "ERR_INPUTS_MISMATCH",
      `--originals and --masks look swapped: ${notMasks.length} of the first ${looked.length} masks are ${describe(example.mask)} like photos (e.g. ${maskExample}), while the photos are ${describe(example.photo)} (e.g. ${where(example.pair.photo.archive, example.pair.photo.path)}); the photos are JPEGs and the masks RGBA PNGs: swap --originals and --masks`,
      { archive: options.masksName, member: example.pair.mask.path },
    );
  }
  throw new MaskpipeError(
    "ERR_INPUTS_MISMATCH",
    `${options.masksName}: ${notMasks.length} of the first ${looked.length} masks are ${describe(example.mask)} (e.g. ${maskExample}); the CelebA+masks and CASIA-WebFace+masks masks are RGBA PNGs, transparent but for the mask: check that --masks is the masks archive`,
    { archive: options.masksName, member: example.pair.mask.path },
  );
}

function describe(image: Header): string {
  const format = (image.format ?? "unknown").toUpperCase();
  return `${format}s ${image.hasAlpha ? "with" : "without"} an alpha channel`;
}
