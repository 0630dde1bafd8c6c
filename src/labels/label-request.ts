import type { KeyRule } from "../core/keys.js";
import type { HttpOptions } from "../sources/http/http-client.js";
import type { Source } from "../sources/source.js";
import type { AnnotationKind, AnnotationSpecs } from "./annotation-files.js";
import type { LabelMode, LabelTables } from "./labeler.js";

/** What a run is asked to label its samples with (the run options of the same names). */
export interface LabelRequest {
  labels: LabelMode;
  /** A CelebA folder (with `Anno/`, `Eval/`), or a zip, tar or 7z of the files. */
  annotations?: string;
  annotationFiles?: AnnotationSpecs;
  /** A class list: one identity a line, line n is class n. */
  classes?: string;
  /** A share of identities for a `test` split: `5%` or `0.05` (holdout.ts). */
  holdout?: number | string;
  http?: HttpOptions;
  signal?: AbortSignal;
  /**
   * The mask side and its key rule: its listing gives the identities when the photos cannot be
   * listed without being downloaded (mask-identities.ts).
   */
  maskSide?: { source: Source; keys: KeyRule };
}

/** A class list given with `--classes`: its identities in class order, and its text's hash. */
export interface ClassFile {
  classes: string[];
  sha256: string;
}

/**
 * What a label source makes of a request: the tables, the SHA-256 of each file it read (the run
 * identity records them, so --resume refuses changed labels), and the files it looked for and
 * did not find; no tables when it was given nothing to read.
 */
export type SourcedLabels =
  | { tables: LabelTables; files: Record<string, string>; notFound: AnnotationKind[] }
  | { tables?: undefined; notFound: AnnotationKind[] };

/**
 * One `--labels` mode: plans the tables from the request, the photo side (for labels taken from
 * its listing) and the class list, when one was given.
 */
export type LabelSource = (
  request: LabelRequest,
  photos: Source,
  classFile: ClassFile | undefined,
) => Promise<SourcedLabels>;
