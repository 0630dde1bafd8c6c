import { MaskpipeError, where } from "../core/errors.js";
import type { Pair } from "../core/pair.js";
import { type ImageSize, imageSize } from "./image-size.js";

/**
 * How many times its photo's width (or height) a mask may be before it is refused undecoded. The
 * masks are drawn at their photo's size; the reference clips a larger one, which a few pixels
 * more can be, but a mask twice as wide is another image, and decoding it could take gigabytes.
 */
export const MASK_SIZE_FACTOR = 2;

/** What the headers of a pair say of their sizes, where they say it. */
export interface PairSizes {
  photo: ImageSize | undefined;
  mask: ImageSize | undefined;
}

/**
 * The sizes of a pair's photo and mask from their headers (nothing decoded), refusing a mask far
 * larger than its photo (ERR_MASK_SIZE, naming the mask): that pair's failure, before its
 * pixels take any memory. Pure: what the overlay calls per pair, in any process.
 */
export function checkPairSizes(pair: Pair): PairSizes {
  const photo = imageSize(pair.photo.data);
  const mask = imageSize(pair.mask.data);
  if (
    photo !== undefined &&
    mask !== undefined &&
    (mask.width > MASK_SIZE_FACTOR * photo.width || mask.height > MASK_SIZE_FACTOR * photo.height)
  ) {
    throw new MaskpipeError(
      "ERR_MASK_SIZE",
      `${where(pair.mask.archive, pair.mask.path)}: mask ${sizeText(mask)} is far larger than its photo ${sizeText(photo)} (${where(pair.photo.archive, pair.photo.path)}); it is not decoded. The masks are drawn at their photo's size: check that the mask belongs to this photo`,
      { archive: pair.mask.archive, member: pair.mask.path },
    );
  }
  return { photo, mask };
}

/** Pixels a pair's decode holds (photo and mask), from its headers; 0 where they do not say. */
export function pairPixels(sizes: PairSizes): number {
  const pixels = (size: ImageSize | undefined) =>
    size === undefined ? 0 : size.width * size.height;
  return pixels(sizes.photo) + pixels(sizes.mask);
}

export function sizeText(size: ImageSize): string {
  return `${size.width}x${size.height}`;
}
