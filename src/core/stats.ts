import type { SkipReason } from "./member-filter.js";

export type Side = "photos" | "masks";

/** The stage where a sample was lost. */
export type FailureStage = "read" | "label" | "decode" | "blend" | "encode" | "write";

/** One lost sample, as written to errors.jsonl. */
export interface FailureRecord {
  key?: string;
  archive: string;
  member: string;
  stage: FailureStage;
  code: string;
  message: string;
}

/** Samples of each kind a run that mixes made (`--masked`, `--keep-unmasked`). */
export interface SampleKinds {
  /** The masked photo. */
  masked: number;
  /** The unmasked photo of a pair, left unmasked by `--masked`. */
  unmasked: number;
  /** A photo without a mask, kept by `--keep-unmasked`. */
  unmaskedWithoutMask: number;
}

/** How many unmatched member paths the report lists by name, per side. */
export const UNMATCHED_EXAMPLES = 20;

/**
 * The counts every stage adds to, so that the report accounts for every member: each one is a
 * pair written, a pair failed, an unmatched photo or mask, or a skipped non-image member.
 */
export class RunStats {
  pairs = 0;
  written = 0;
  failed = 0;
  masksWithoutPhoto = 0;
  photosWithoutMask = 0;
  /** Pairs written whose mask was not the photo's size (clipped, or covering part of it). */
  sizeMismatches = 0;
  /** Samples made of each kind, in a run that mixes. */
  readonly kinds: SampleKinds = { masked: 0, unmasked: 0, unmaskedWithoutMask: 0 };
  /** Pairs not redone because an earlier, interrupted run already wrote them (--resume). */
  resumed = 0;
  readonly skippedByReason: Partial<Record<SkipReason, number>> = {};
  readonly failedByReason: Record<string, number> = {};
  /** The first message of each failure reason, so a summary can show one of each. */
  readonly failureExamples: Record<string, string> = {};
  readonly unmatchedExamples: Record<Side, string[]> = { photos: [], masks: [] };
  /** Photos missing from an annotation file, by the label they lack (written all the same). */
  readonly labelsMissing: Record<string, number> = {};
  /** Called with each failure as it happens (the CLI appends it to errors.jsonl). */
  onFailure: ((failure: FailureRecord) => void) | undefined;
  /** Members the join read before the first whose key the other side has (see `streamed`). */
  readBeforeKeysMeet = 0;
  /** True once a member's key was found on the other side: the key rules fit the inputs. */
  keysMet = false;
  /** Called after each member the join reads (a run watches for inputs that never pair). */
  onStreamed: (() => void) | undefined;

  get skipped(): number {
    return Object.values(this.skippedByReason).reduce((sum, count) => sum + (count ?? 0), 0);
  }

  skip(reason: SkipReason): void {
    this.skippedByReason[reason] = (this.skippedByReason[reason] ?? 0) + 1;
  }

  unmatched(side: Side, path: string): void {
    if (side === "photos") this.photosWithoutMask++;
    else this.masksWithoutPhoto++;
    const examples = this.unmatchedExamples[side];
    if (examples.length < UNMATCHED_EXAMPLES) examples.push(path);
  }

  /** A member the join read, in its reading order: `met` when the other side has its key. */
  streamed(met: boolean): void {
    if (this.keysMet) return;
    if (met) this.keysMet = true;
    else this.readBeforeKeysMeet++;
    this.onStreamed?.();
  }

  /** A photo the labeler found missing from annotation files, by each label it lacks. */
  labelMissing(reasons: readonly string[]): void {
    for (const reason of reasons)
      this.labelsMissing[reason] = (this.labelsMissing[reason] ?? 0) + 1;
  }

  /** A sample made in a run that mixes: masked or not, and whether its photo had a mask. */
  made(masked: boolean, hasMask: boolean): void {
    if (masked) this.kinds.masked++;
    else if (hasMask) this.kinds.unmasked++;
    else this.kinds.unmaskedWithoutMask++;
  }

  fail(failure: FailureRecord): void {
    this.failed++;
    this.failedByReason[failure.code] = (this.failedByReason[failure.code] ?? 0) + 1;
    this.failureExamples[failure.code] ??= failure.message;
    this.onFailure?.(failure);
  }
}
