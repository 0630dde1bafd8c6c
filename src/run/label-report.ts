import type { Partition } from "../core/partition.js";
import type { RunStats } from "../core/stats.js";
import type { RunReport } from "../dataset/report.js";
import { type AnnotationKind, annotationName, CELEBA_FILES } from "../labels/annotation-files.js";
import type { LabelPlan } from "../labels/label-plan.js";
import type { Labeler } from "../labels/labeler.js";

/**
 * The report's `labels`: where the identities came from, which annotations the output has and
 * which files were not found, photos missing from them, annotations that found no photo. A run
 * asked for CelebA's annotations without any gets `mode: "none"`, so it does not pass unsaid.
 */
export function labelReport(
  plan: LabelPlan | undefined,
  labeler: Labeler | undefined,
  stats: RunStats,
  partition?: Partition,
): RunReport["labels"] {
  if (plan === undefined) return undefined;
  const notFound = plan.notFound.map(annotationName);
  if (labeler === undefined) {
    return {
      mode: "none",
      source: "none",
      classes: 0,
      annotations: [],
      missing: {},
      annotationsWithoutPhoto: 0,
      notFound,
    };
  }
  const { tables } = labeler;
  return {
    mode: tables.mode,
    source: tables.source,
    classes: tables.classes.length,
    annotations: (Object.keys(CELEBA_FILES) as AnnotationKind[]).filter(
      (kind) => tables[kind] !== undefined,
    ),
    missing: { ...stats.labelsMissing },
    annotationsWithoutPhoto: labeler.annotationsWithoutPhoto(partition),
    notFound,
  };
}
