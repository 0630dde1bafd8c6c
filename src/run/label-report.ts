import { resolve } from "node:path";
import type { Partition } from "../core/partition.js";
import { isUrl, redactUrl } from "../core/redact.js";
import type { RunStats } from "../core/stats.js";
import type { LabelSources, RunReport } from "../dataset/report.js";
import {
  type AnnotationKind,
  type AnnotationSpecs,
  annotationName,
  CELEBA_FILES,
} from "../labels/annotation-files.js";
import type { LabelPlan } from "../labels/label-plan.js";
import type { Labeler } from "../labels/labeler.js";
import { isHfUrl } from "../sources/hf/hf-url.js";

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

/**
 * The label files a run was given, as the report records them to find them again: local paths
 * made absolute, URLs without their credentials and query. `undefined` when there are none.
 */
export function labelSources(request: {
  annotations?: string | undefined;
  annotationFiles?: AnnotationSpecs | undefined;
  classes?: string | undefined;
}): LabelSources | undefined {
  const where = (spec: string) => (isUrl(spec) || isHfUrl(spec) ? redactUrl(spec) : resolve(spec));
  const files = Object.entries(request.annotationFiles ?? {}).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
  const sources: LabelSources = {
    ...(request.annotations !== undefined && { annotations: where(request.annotations) }),
    ...(files.length > 0 && {
      annotationFiles: Object.fromEntries(files.map(([kind, spec]) => [kind, where(spec)])),
    }),
    ...(request.classes !== undefined && { classes: where(request.classes) }),
  };
  return Object.keys(sources).length === 0 ? undefined : sources;
}
