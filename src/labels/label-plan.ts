import { createHash } from "node:crypto";
import { MaskpipeError } from "../core/errors.js";
import { readTextFile } from "../core/read-text.js";
import type { Source } from "../sources/source.js";
import type { AnnotationKind } from "./annotation-files.js";
import { celebaLabels } from "./celeba-labels.js";
import { folderLabels } from "./folder-labels.js";
import { holdoutPercent } from "./holdout.js";
import type { ClassFile, LabelRequest, LabelSource } from "./label-request.js";
import { classesText, type LabelMode, type LabelTables } from "./labeler.js";

export type { LabelRequest } from "./label-request.js";

/**
 * The label sources, one a `--labels` mode: a new source is a file of its own in labels/ and
 * an entry here (docs/internals.md, "Adding a label source").
 */
export const LABEL_SOURCES: Record<Exclude<LabelMode, "none">, LabelSource> = {
  folder: folderLabels,
  annotations: celebaLabels,
};

/** What the run identity records of the labels: a different answer is a different output. */
export interface LabelIdentity {
  mode: LabelMode;
  /** SHA-256 of each annotation or class file's text, by what it is. */
  files: Record<string, string>;
  /**
   * SHA-256 of the class list itself (classes.txt): folder labels derive it from the photo
   * listing, so a photo folder that lost an identity renumbers every class after it.
   */
  classes: string;
  /** The held-out share, as a percent. */
  holdout?: number;
}

/**
 * What a run labels with. `notFound`: the annotation files an `annotations` run looked for and
 * did not find (all of them when it was given none, and then it has no tables), so the report
 * says which labels the output lacks instead of leaving them out unsaid.
 */
export type LabelPlan =
  | { tables: LabelTables; identity: LabelIdentity; notFound: AnnotationKind[] }
  | { tables?: undefined; identity?: undefined; notFound: AnnotationKind[] };

/**
 * The tables a run labels with, or `undefined` when it is asked for none: the mode's source
 * (LABEL_SOURCES) makes them; a class list and a holdout apply to every source.
 */
export async function planLabels(
  request: LabelRequest,
  photos: Source,
): Promise<LabelPlan | undefined> {
  if (request.labels === "none") return undefined;
  const classFile =
    request.classes === undefined ? undefined : await readClassFile(request.classes);
  const holdout =
    request.holdout === undefined ? undefined : holdoutPercent("holdout", request.holdout);
  const sourced = await LABEL_SOURCES[request.labels](request, photos, classFile);
  if (sourced.tables === undefined) return { notFound: sourced.notFound };
  const tables: LabelTables = sourced.tables;
  if (holdout !== undefined) {
    if (tables.splits !== undefined) {
      throw new MaskpipeError(
        "ERR_INVALID_OPTION",
        "Expected --holdout or a split file (list_eval_partition.txt), not both",
      );
    }
    tables.holdoutPercent = holdout;
  }
  const files = {
    ...(classFile !== undefined && { classes: classFile.sha256 }),
    ...sourced.files,
  };
  return {
    tables,
    notFound: sourced.notFound,
    identity: {
      mode: tables.mode,
      files,
      classes: sha256(classesText(tables.classes)),
      ...(holdout !== undefined && { holdout }),
    },
  };
}

async function readClassFile(path: string): Promise<ClassFile> {
  const text = await readTextFile(path, "class list", "ERR_ANNOTATION");
  const classes: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, index) => {
    const identity = line.trim();
    if (identity === "") return;
    if (seen.has(identity)) {
      throw new MaskpipeError(
        "ERR_ANNOTATION",
        `${path}: line ${index + 1}: ${identity} is listed twice`,
        {
          archive: path,
        },
      );
    }
    seen.add(identity);
    classes.push(identity);
  });
  return { classes, sha256: sha256(text) };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
