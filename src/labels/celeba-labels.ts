import { createHash } from "node:crypto";
import { MaskpipeError } from "../core/errors.js";
import { type AnnotationKind, CELEBA_FILES, loadAnnotations } from "./annotation-files.js";
import type { LabelSource } from "./label-request.js";
import { annotationTables, sortIdentities } from "./labeler.js";

/**
 * `annotations` labels: CelebA's files (identities, splits, attributes, boxes, landmarks) from a
 * folder or archive, or each file given on its own.
 */
export const celebaLabels: LabelSource = async (request, _photos, classFile) => {
  const specs = request.annotationFiles ?? {};
  const kinds = Object.keys(CELEBA_FILES) as AnnotationKind[];
  if (request.annotations === undefined && Object.keys(specs).length === 0) {
    return { notFound: kinds };
  }
  const texts = await loadAnnotations(request.annotations, specs, request.http);
  const files: Record<string, string> = {};
  for (const { kind, text } of texts) files[kind] = createHash("sha256").update(text).digest("hex");
  const parsed = annotationTables(texts);
  if (parsed.identities === undefined) {
    throw new MaskpipeError(
      "ERR_ANNOTATION",
      `${request.annotations ?? "the annotation files"}: the identity file (identity_CelebA.txt, --identities) is needed for the classes`,
    );
  }
  const classes =
    classFile?.classes ?? sortIdentities([...parsed.identities.rows.values()].map(String));
  return {
    tables: { ...parsed, mode: "annotations", classes, source: parsed.identities.file },
    files,
    notFound: kinds.filter((kind) => !texts.some((text) => text.kind === kind)),
  };
};
