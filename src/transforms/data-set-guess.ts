import { MaskpipeError } from "../core/errors.js";
import { extensionOf, pathComponents } from "../core/keys.js";
import type { Side } from "../core/stats.js";

/** What a member path looks like: which release's photos or masks. */
export interface Looks {
  dataSet: "CelebA" | "CASIA-WebFace";
  side: Side;
  /** The member it was read from, for messages. */
  example: string;
}

/**
 * What a member looks like by its path, as the releases name them: CelebA `img_celeba/000001.jpg`
 * and `celeba_masks/000001_mask.png` (six digits); CASIA-WebFace `CASIA-WebFace/0000045/001.jpg`
 * and `CASIA-WebFace_masks/0000045/001.png` (a seven-digit identity folder, three digits).
 * `undefined` for anything else.
 */
export function looksLike(path: string): Looks | undefined {
  const parts = pathComponents(path);
  const name = (parts.at(-1) ?? "").replace(/\.[^.]*$/, "");
  const extension = extensionOf(path);
  const side: Side | undefined = /mask/i.test(path)
    ? "masks"
    : extension === "jpg" || extension === "jpeg"
      ? "photos"
      : extension === "png"
        ? "masks"
        : undefined;
  if (side === undefined) return undefined;
  if (/^\d{3}$/.test(name) && /^\d{7}$/.test(parts.at(-2) ?? ""))
    return { dataSet: "CASIA-WebFace", side, example: path };
  if (/^\d{6}(_mask)?$/.test(name)) return { dataSet: "CelebA", side, example: path };
  return undefined;
}

/** What a side's example members look like, when they all look alike. */
export function sideLooks(paths: readonly string[]): Looks | undefined {
  const looks = paths.map(looksLike);
  const first = looks[0];
  if (first === undefined) return undefined;
  const alike = looks.every(
    (item) => item !== undefined && item.dataSet === first.dataSet && item.side === first.side,
  );
  return alike ? first : undefined;
}

export const describeLooks = (looks: Looks) => `${looks.dataSet} ${looks.side} (${looks.example})`;

/**
 * The error for two inputs that are plainly not one data set's photos and masks, from their
 * member paths: photos and masks swapped, or the photos of one data set with the masks of the
 * other. `undefined` when the paths do not say (the caller's own message then applies).
 */
export function mixUpError(
  names: { photosName: string; masksName: string },
  examples: Record<Side, readonly string[]>,
): MaskpipeError | undefined {
  const photos = sideLooks(examples.photos);
  const masks = sideLooks(examples.masks);
  if (photos === undefined || masks === undefined) return undefined;
  const sides = `--originals (${names.photosName}) looks like ${describeLooks(photos)} and --masks (${names.masksName}) like ${describeLooks(masks)}`;
  if (photos.side === "masks" && masks.side === "photos") {
    return new MaskpipeError(
      "ERR_INPUTS_MISMATCH",
      `--originals and --masks look swapped: ${sides}: swap --originals and --masks`,
      { archive: names.photosName },
    );
  }
  if (photos.dataSet === masks.dataSet) return undefined;
  return new MaskpipeError(
    "ERR_INPUTS_MISMATCH",
    `the inputs are of two data sets: ${sides}; masks fit only the photos of their own data set: give --originals and --masks of one data set, with its pipeline (celeba or casia)`,
    { archive: names.masksName },
  );
}
