import type { KeyRule } from "../../core/keys.js";
import type { LabelIdentity } from "../../labels/label-plan.js";
import { planLabels } from "../../labels/label-plan.js";
import { Labeler } from "../../labels/labeler.js";
import type { Source } from "../../sources/source.js";

/**
 * The labels a proof gives its samples: the run's own, re-derived from the inputs, or none
 * with why the members that carry them (json, cls) cannot be proved.
 */
export type ProofLabels =
  | { labeler: Labeler | undefined; unproved?: undefined }
  | { labeler?: undefined; unproved: string };

/**
 * The run's labels again, from what its identity records: none; or identity folders, whose
 * class list comes from the photos' listing as the run took it (and must hash as recorded).
 * Labels from files the identity records only by hash (CelebA's annotations, a class list)
 * cannot be re-derived here.
 */
export async function proofLabels(
  recorded: LabelIdentity | undefined,
  photos: Source,
  maskSide: { source: Source; keys: KeyRule },
  signal: AbortSignal | undefined,
): Promise<ProofLabels> {
  if (recorded === undefined) return { labeler: undefined };
  const files = Object.keys(recorded.files);
  if (recorded.mode !== "folder" || files.length > 0) {
    return {
      unproved: `the run's labels came from ${files.length > 0 ? files.join(", ") : recorded.mode} files, which the run records by their SHA-256 only`,
    };
  }
  const plan = await planLabels(
    {
      labels: "folder",
      ...(recorded.holdout !== undefined && { holdout: `${recorded.holdout}%` }),
      maskSide,
      ...(signal !== undefined && { signal }),
    },
    photos,
  );
  if (plan?.tables === undefined || plan.identity.classes !== recorded.classes) {
    return {
      unproved:
        "the class list the photos' identity folders give now is not the one the run recorded (its SHA-256 differs)",
    };
  }
  return { labeler: new Labeler(plan.tables) };
}
