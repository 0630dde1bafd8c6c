import type { KeyRule } from "../../core/keys.js";
import type { LabelSources } from "../../dataset/report.js";
import type { AnnotationSpecs } from "../../labels/annotation-files.js";
import type { LabelIdentity, LabelRequest } from "../../labels/label-plan.js";
import { planLabels } from "../../labels/label-plan.js";
import { Labeler } from "../../labels/labeler.js";
import type { HttpOptions } from "../../sources/http/http-client.js";
import type { Source } from "../../sources/source.js";

/**
 * The labels a proof gives its samples: the run's own, re-derived from the inputs, or none
 * with why the members that carry them (json, cls) cannot be proved.
 */
export type ProofLabels =
  | { labeler: Labeler | undefined; unproved?: undefined }
  | { labeler?: undefined; unproved: string };

/** What a proof knows of the run's labels: its identity's record and the report's sources. */
export interface RecordedLabels {
  identity: LabelIdentity | undefined;
  /** Where the label files were read (report.json's `labels.from`). */
  from: LabelSources | undefined;
}

/**
 * The run's labels again, planned as the run planned them: from the photos' identity folders
 * (the class list from their listing), or from the label files the report records where they
 * were read. Each file must hash as the identity records it, and so must the class list;
 * otherwise the json and cls members are not proved, and why is said.
 */
export async function proofLabels(
  recorded: RecordedLabels,
  photos: Source,
  maskSide: { source: Source; keys: KeyRule },
  options: { http?: HttpOptions; signal?: AbortSignal },
): Promise<ProofLabels> {
  const { identity, from } = recorded;
  if (identity === undefined) return { labeler: undefined };
  const files = Object.keys(identity.files);
  if (files.length > 0 && from === undefined) {
    return {
      unproved: `the run's labels came from files (${files.join(", ")}) that its report does not say where to find (an older maskpipe)`,
    };
  }
  const request: LabelRequest = {
    labels: identity.mode,
    ...(from?.annotations !== undefined && { annotations: from.annotations }),
    ...(from?.annotationFiles !== undefined && {
      annotationFiles: from.annotationFiles as AnnotationSpecs,
    }),
    ...(from?.classes !== undefined && { classes: from.classes }),
    ...(identity.holdout !== undefined && { holdout: `${identity.holdout}%` }),
    ...(options.http !== undefined && { http: options.http }),
    ...(options.signal !== undefined && { signal: options.signal }),
    maskSide,
  };
  let plan: Awaited<ReturnType<typeof planLabels>>;
  try {
    plan = await planLabels(request, photos);
  } catch (error) {
    return {
      unproved: `the run's label files cannot be read again (${(error as Error).message}); give them with --annotations`,
    };
  }
  if (plan?.tables === undefined) return { unproved: "the run's label files give no labels now" };
  const changed = files.filter((kind) => plan.identity.files[kind] !== identity.files[kind]);
  if (changed.length > 0) {
    return {
      unproved: `the label files (${changed.join(", ")}) read now are not the ones the run read (their SHA-256 differs)`,
    };
  }
  if (plan.identity.classes !== identity.classes) {
    return {
      unproved:
        "the class list the inputs give now is not the one the run recorded (its SHA-256 differs)",
    };
  }
  return { labeler: new Labeler(plan.tables) };
}
