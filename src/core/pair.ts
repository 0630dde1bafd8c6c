import type { SampleLabel } from "./sample.js";

/** A member with its bytes and where it came from. */
export interface MemberData {
  /** The source's name (path or URL as the user gave it). */
  readonly archive: string;
  readonly path: string;
  readonly data: Buffer;
}

/** A photo and the mask drawn for it, paired by key. */
export interface Pair {
  readonly key: string;
  readonly photo: MemberData;
  readonly mask: MemberData;
  /** Class, identity, split and annotations, once a labels stage has attached them. */
  readonly label?: SampleLabel;
}

/**
 * A photo the join found no mask for, passed on only when a run keeps such photos
 * (`keepUnmasked`): written unmasked, flagged `masked: false`.
 */
export interface LonePhoto {
  readonly key: string;
  readonly photo: MemberData;
  readonly mask?: undefined;
  readonly label?: SampleLabel;
}

/** What the join passes on: a pair, or (with `keepUnmasked`) a photo without a mask. */
export type JoinedPhoto = Pair | LonePhoto;
