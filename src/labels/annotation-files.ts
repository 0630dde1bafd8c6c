import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { MaskpipeError } from "../core/errors.js";
import { readTextFile } from "../core/read-text.js";
import type { HttpOptions } from "../sources/http/http-client.js";
import { openSource } from "../sources/open-source.js";
import { isUrl } from "../sources/opened-source.js";

/** CelebA's annotation files by their release names, and where the release puts them. */
export const CELEBA_FILES = {
  identities: "identity_CelebA.txt",
  splits: "list_eval_partition.txt",
  attributes: "list_attr_celeba.txt",
  bboxes: "list_bbox_celeba.txt",
  landmarks: "list_landmarks_celeba.txt",
} as const;
export type AnnotationKind = keyof typeof CELEBA_FILES;
const RELEASE_FOLDERS = ["", "Anno", "Eval"];
/** `--annotations CelebA/Anno` is an easy slip: its split file is in `Eval/` beside it. */
const BESIDE_ANNO = ["../Eval"];

/** An annotation file as a report names one: `splits (list_eval_partition.txt)`. */
export function annotationName(kind: AnnotationKind): string {
  return `${kind} (${CELEBA_FILES[kind]})`;
}

/** One annotation file's text and where it came from (for messages and the run identity). */
export interface AnnotationText {
  kind: AnnotationKind;
  /** A path, a URL, or `archive: member`. */
  file: string;
  text: string;
}

/** Per-file specs (flags), each a local path or an http(s) URL, overriding the folder's. */
export type AnnotationSpecs = Partial<Record<AnnotationKind, string>>;

/**
 * The annotation files a run uses: each named one (`--identities FILE`, ...), and the standard
 * names found in `folder` (`--annotations`: a CelebA folder with `Anno/` and `Eval/`, or a
 * zip, tar or 7z of them, local or remote).
 */
export async function loadAnnotations(
  folder: string | undefined,
  specs: AnnotationSpecs,
  http?: HttpOptions,
): Promise<AnnotationText[]> {
  const found: AnnotationText[] = [];
  const wanted = Object.keys(CELEBA_FILES) as AnnotationKind[];
  for (const kind of wanted) {
    const spec = specs[kind];
    if (spec !== undefined) found.push({ kind, file: spec, text: await readText(spec, http) });
  }
  const missing = wanted.filter((kind) => specs[kind] === undefined);
  if (folder === undefined || missing.length === 0) return found;
  if (!isUrl(folder) && existsSync(join(folder, "."))) {
    const folders =
      basename(resolve(folder)) === "Anno" ? [...RELEASE_FOLDERS, ...BESIDE_ANNO] : RELEASE_FOLDERS;
    for (const kind of missing) {
      for (const sub of folders) {
        const path = join(folder, sub, CELEBA_FILES[kind]);
        if (existsSync(path)) {
          found.push({ kind, file: path, text: await readFile(path, "utf8") });
          break;
        }
      }
    }
  } else {
    found.push(...(await fromArchive(folder, missing, http)));
  }
  if (
    !found.some((annotation) => annotation.kind === "identities" || annotation.kind === "splits")
  ) {
    throw new MaskpipeError(
      "ERR_ANNOTATION",
      `${folder}: holds none of CelebA's annotation files (${Object.values(CELEBA_FILES).join(", ")}), here or in Anno/ or Eval/`,
      { archive: folder },
    );
  }
  return found;
}

async function fromArchive(
  spec: string,
  kinds: readonly AnnotationKind[],
  http?: HttpOptions,
): Promise<AnnotationText[]> {
  const byName = new Map<string, AnnotationKind>(kinds.map((kind) => [CELEBA_FILES[kind], kind]));
  const source = await openSource(spec, { http });
  const found: AnnotationText[] = [];
  try {
    const wanted = (path: string) => byName.has(path.split("/").at(-1) ?? "");
    for await (const entry of source.entries({ want: (member) => wanted(member.path) })) {
      const kind = byName.get(entry.member.path.split("/").at(-1) ?? "");
      if (kind === undefined || entry.data === undefined) continue;
      found.push({
        kind,
        file: `${spec}: ${entry.member.path}`,
        text: entry.data.toString("utf8"),
      });
    }
  } finally {
    await source.close();
  }
  return found;
}

async function readText(spec: string, http?: HttpOptions): Promise<string> {
  if (isUrl(spec)) {
    const { HttpClient } = await import("../sources/http/http-client.js");
    const client = new HttpClient(http);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await client.stream(spec)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    } finally {
      await client.close();
    }
  }
  return readTextFile(spec, "annotation file", "ERR_ANNOTATION");
}
