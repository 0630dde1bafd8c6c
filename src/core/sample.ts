/** What a sample knows of itself for training, beside its image. */
export interface SampleLabel {
  /** Class index: the identity's line in classes.txt, from 0; -1 when the identity is unknown. */
  cls: number;
  identity: string | null;
  split?: string;
  /** CelebA's 40 attributes, by name. */
  attributes?: Record<string, boolean> | null;
  /** The face box in the photo's pixels. */
  bbox?: { x: number; y: number; width: number; height: number } | null;
  /** Five landmarks in the photo's pixels, by CelebA's names (`lefteye_x`, ...). */
  landmarks?: Record<string, number> | null;
}

/** Where a sample's photo or mask came from. */
export interface MemberRef {
  readonly archive: string;
  readonly path: string;
}

/** The photo as its archive member had it, byte for byte (`{key}.orig.{extension}`). */
export interface OriginalPhoto {
  /** `jpg`, `png` or `webp` from the bytes' format, else the member's own extension. */
  readonly extension: string;
  readonly data: Buffer;
}

/** A masked photo, encoded, with what a training set needs to know about it. */
export interface Sample {
  readonly key: string;
  readonly photo: MemberRef;
  /** The mask; absent for a photo without one (kept with `keepUnmasked`). */
  readonly mask?: MemberRef;
  readonly width: number;
  readonly height: number;
  /** The mask's own size: where it differs from the photo's it was clipped (or covers part). */
  readonly maskWidth: number;
  readonly maskHeight: number;
  /** File extension of `image`: jpg, png or webp. */
  readonly extension: string;
  readonly image: Buffer;
  /** Class, identity, split and annotations, when the run has labels. */
  readonly label?: SampleLabel;
  /**
   * Whether `image` is the masked photo; set when the run mixes (`masked`, `keepUnmasked`), and
   * then written as `masked` in every sample's json.
   */
  readonly masked?: boolean;
  /** The unmasked photo's own bytes, with `with: ["original"]`. */
  readonly original?: OriginalPhoto;
  /**
   * The mask's alpha as a one-channel PNG at the mask's size (all 0 at the photo's size for a
   * photo without a mask), with `with: ["mask"]`.
   */
  readonly maskAlpha?: Buffer;
}

/**
 * The `{key}.json` of a WebDataset sample. The same fields in every sample of a run (HF infers
 * them from the first few): with labels, `identity` (null when unknown) and, when the run has
 * them, `split`, `attributes`, `bbox` and `landmarks` (null for a photo missing from the file).
 */
export interface SampleMetadata {
  key: string;
  photo: string;
  /** The mask's member path; null for a photo without a mask (`keepUnmasked`). */
  mask: string | null;
  width: number;
  height: number;
  /** Whether the image is the masked photo: in every sample of a run that mixes. */
  masked?: boolean;
  identity?: string | null;
  split?: string;
  attributes?: Record<string, boolean> | null;
  bbox?: { x: number; y: number; width: number; height: number } | null;
  landmarks?: Record<string, number> | null;
}

export function sampleMetadata(sample: Sample): SampleMetadata {
  const label = sample.label;
  return {
    key: sample.key,
    photo: sample.photo.path,
    mask: sample.mask?.path ?? null,
    width: sample.width,
    height: sample.height,
    ...(sample.masked !== undefined && { masked: sample.masked }),
    ...(label !== undefined && { identity: label.identity }),
    ...(label?.split !== undefined && { split: label.split }),
    ...(label?.attributes !== undefined && { attributes: label.attributes }),
    ...(label?.bbox !== undefined && { bbox: label.bbox }),
    ...(label?.landmarks !== undefined && { landmarks: label.landmarks }),
  };
}
