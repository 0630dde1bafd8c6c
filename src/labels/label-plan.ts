import { createHash } from "node:crypto";
import { MaskpipeError } from "../core/errors.js";
import { type KeyRule, memberKey } from "../core/keys.js";
import { skipReason } from "../core/member-filter.js";
import { readTextFile } from "../core/read-text.js";
import type { HttpOptions } from "../sources/http/http-client.js";
import { listedUpFront, listMembers } from "../sources/list-members.js";
import type { Source } from "../sources/source.js";
import {
  type AnnotationKind,
  type AnnotationSpecs,
  CELEBA_FILES,
  loadAnnotations,
} from "./annotation-files.js";
import { holdoutPercent } from "./holdout.js";
import {
  annotationTables,
  classesText,
  folderIdentity,
  type LabelMode,
  type LabelTables,
  sortIdentities,
} from "./labeler.js";

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
 * The tables a run labels with, or `undefined` when it is asked for none: `folder` takes
 * identities from the photos' identity folders, classes dense over the sorted identities of the
 * whole photo side (its listing, so the same whatever the archive kind, order, --limit or
 * --resume); `annotations` takes CelebA's files.
 */
export async function planLabels(
  request: LabelRequest,
  photos: Source,
): Promise<LabelPlan | undefined> {
  const files: Record<string, string> = {};
  const classFile =
    request.classes === undefined ? undefined : await readClassFile(request.classes);
  if (classFile !== undefined) files.classes = classFile.sha256;
  const holdout =
    request.holdout === undefined ? undefined : holdoutPercent("holdout", request.holdout);
  let tables: LabelTables;
  let notFound: AnnotationKind[] = [];
  if (request.labels === "none") return undefined;
  if (request.labels === "annotations") {
    const specs = request.annotationFiles ?? {};
    const kinds = Object.keys(CELEBA_FILES) as AnnotationKind[];
    if (request.annotations === undefined && Object.keys(specs).length === 0) {
      return { notFound: kinds };
    }
    const texts = await loadAnnotations(request.annotations, specs, request.http);
    for (const { kind, text } of texts) files[kind] = sha256(text);
    notFound = kinds.filter((kind) => !texts.some((text) => text.kind === kind));
    const parsed = annotationTables(texts);
    if (parsed.identities === undefined) {
      throw new MaskpipeError(
        "ERR_ANNOTATION",
        `${request.annotations ?? "the annotation files"}: the identity file (identity_CelebA.txt, --identities) is needed for the classes`,
      );
    }
    const classes =
      classFile?.classes ?? sortIdentities([...parsed.identities.rows.values()].map(String));
    tables = { ...parsed, mode: "annotations", classes, source: parsed.identities.file };
  } else {
    const listed = classFile === undefined ? await photoIdentities(photos, request) : undefined;
    tables = {
      mode: "folder",
      classes: classFile?.classes ?? listed!.identities,
      source:
        listed === undefined ? request.classes! : `the identity folders of the ${listed.side}`,
    };
  }
  if (holdout !== undefined) {
    if (tables.splits !== undefined) {
      throw new MaskpipeError(
        "ERR_INVALID_OPTION",
        "Expected --holdout or a split file (list_eval_partition.txt), not both",
      );
    }
    tables.holdoutPercent = holdout;
  }
  return {
    tables,
    notFound,
    identity: {
      mode: tables.mode,
      files,
      classes: sha256(classesText(tables.classes)),
      ...(holdout !== undefined && { holdout }),
    },
  };
}

/**
 * The sorted identity folders of every image on the photo side, from its listing; when the
 * photos are remote and listed only by being read through (a tar over HTTP), from the listing of
 * the mask side instead, if it has one up front (a zip): the folder of each mask's key, which is
 * the folder of the photo it goes on. Either way every partition gets the same list.
 */
async function photoIdentities(
  photos: Source,
  request: LabelRequest,
): Promise<{ identities: string[]; side: "photos" | "masks" }> {
  const { signal } = request;
  const identities = new Set<string>();
  const add = (path: string, kind: Parameters<typeof skipReason>[1]) => {
    if (skipReason(path, kind) !== undefined) return;
    const identity = folderIdentity(path);
    if (identity !== undefined) identities.add(identity);
  };
  const listed = await listedUpFront(photos, signal);
  if (listed === undefined && /^https?:|^hf:/.test(photos.name)) {
    const fromMasks = await maskIdentities(request.maskSide, signal);
    if (fromMasks !== undefined && fromMasks.length > 0)
      return { identities: fromMasks, side: "masks" };
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `${photos.name}: the class list comes from the photos' listing (or the masks', when they are a zip or a folder), and a remote tar would have to be downloaded twice for it; pass --classes FILE (one identity a line), or the photos or the masks as a zip`,
    );
  }
  // A local tar lists only by being read through: one pass that keeps no member's bytes.
  for (const member of listed ?? (await listMembers(photos, signal))) add(member.path, member.kind);
  return { identities: sortIdentities(identities), side: "photos" };
}

/** The sorted folders of the mask side's keys, when it is listed up front; else `undefined`. */
async function maskIdentities(
  side: LabelRequest["maskSide"],
  signal: AbortSignal | undefined,
): Promise<string[] | undefined> {
  const listed = side === undefined ? undefined : await listedUpFront(side.source, signal);
  if (side === undefined || listed === undefined) return undefined;
  const identities = new Set<string>();
  for (const member of listed) {
    if (skipReason(member.path, member.kind) !== undefined) continue;
    const identity = folderIdentity(memberKey(member.path, side.keys));
    if (identity !== undefined) identities.add(identity);
  }
  return sortIdentities(identities);
}

async function readClassFile(path: string): Promise<{ classes: string[]; sha256: string }> {
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
