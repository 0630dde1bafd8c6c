import { MaskpipeError, where } from "../core/errors.js";
import type { Pair } from "../core/pair.js";
import type { ImageSize } from "./image-size.js";
import { sizeText } from "./mask-size.js";

/** A pair the input check looked at, with the sizes its headers give. */
export interface SizedPair {
  pair: Pair;
  photo: ImageSize;
  mask: ImageSize;
}

const sameSize = (a: ImageSize, b: ImageSize) => a.width === b.width && a.height === b.height;

/**
 * Refuses photos that are not the ones the masks were drawn on: when most of the pairs looked at
 * have a mask of another size than the photo, every mask of the run would be misplaced. One odd
 * pair is that pair's business (clipped, and counted against --max-failed).
 */
export function checkSizes(
  looked: readonly SizedPair[],
  names: { photosName: string; masksName: string },
): void {
  const other = looked.filter((item) => !sameSize(item.photo, item.mask));
  if (other.length === 0 || other.length * 2 <= looked.length) return;
  const example = other[0]!;
  const { photo, mask } = example;
  throw new MaskpipeError(
    "ERR_INPUTS_MISMATCH",
    `the photos (${names.photosName}) are not the ones the masks (${names.masksName}) were drawn on: ${other.length} of the first ${looked.length} masks are another size than their photo (the photos are ${sizeText(photo)} but their masks ${sizeText(mask)}, e.g. ${where(example.pair.photo.archive, example.pair.photo.path)} and ${example.pair.mask.path}), so every mask would be misplaced. ${advice(example)}`,
    { archive: names.photosName, member: example.pair.photo.path },
  );
}

/** What to give instead, for the known mix-ups of the two data sets' releases. */
function advice({ pair, photo, mask }: SizedPair): string {
  const aligned =
    /img_align_celeba/i.test(pair.photo.path) || (photo.width === 178 && photo.height === 218);
  if (aligned) {
    return "CelebA's masks belong to the in-the-wild photos (img_celeba, in Img/img_celeba.7z), not the aligned ones (img_align_celeba): give --originals the in-the-wild photos";
  }
  if (mask.width === 250 && mask.height === 250) {
    return "CASIA-WebFace's masks belong to the 250x250 CASIA-WebFace release, not an aligned (112x112) one: give --originals the 250x250 photos";
  }
  return "Give --originals the photos these masks were drawn on (the masks are their photo's size).";
}
