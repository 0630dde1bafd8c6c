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

/** A masked photo, encoded, with what a training set needs to know about it. */
export interface Sample {
  readonly key: string;
  readonly photo: MemberRef;
  readonly mask: MemberRef;
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
}

/**
 * The `{key}.json` of a WebDataset sample. The same fields in every sample of a run (HF infers
 * them from the first few): with labels, `identity` (null when unknown) and, when the run has
 * them, `split`, `attributes`, `bbox` and `landmarks` (null for a photo missing from the file).
 */
export interface SampleMetadata {
  key: string;
  photo: string;
  mask: string;
  width: number;
  height: number;
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
    mask: sample.mask.path,
    width: sample.width,
    height: sample.height,
    ...(label !== undefined && { identity: label.identity }),
    ...(label?.split !== undefined && { split: label.split }),
    ...(label?.attributes !== undefined && { attributes: label.attributes }),
    ...(label?.bbox !== undefined && { bbox: label.bbox }),
    ...(label?.landmarks !== undefined && { landmarks: label.landmarks }),
  };
}
