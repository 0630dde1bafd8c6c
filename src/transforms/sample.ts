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
}

/** The `{key}.json` of a WebDataset sample. The same fields in every sample (HF infers them). */
export interface SampleMetadata {
  key: string;
  photo: string;
  mask: string;
  width: number;
  height: number;
}

export function sampleMetadata(sample: Sample): SampleMetadata {
  return {
    key: sample.key,
    photo: sample.photo.path,
    mask: sample.mask.path,
    width: sample.width,
    height: sample.height,
  };
}
