import { createHash } from "node:crypto";
import { pathComponents } from "../core/keys.js";
import { inPartition, type Partition } from "../core/partition.js";
import type { SampleLabel } from "../core/sample.js";
import type { AnnotationText } from "./annotation-files.js";
import {
  type AnnotationTable,
  type NamedTable,
  parseAttributes,
  parseBoxes,
  parseIdentities,
  parseLandmarks,
  parseSplits,
  rowOf,
  type Split,
} from "./celeba-annotations.js";

/** Where identities come from: none, the photo's identity folder (CASIA), or CelebA's files. */
export type LabelMode = "none" | "folder" | "annotations";

/** Why a photo has no label of a kind: it is missing from that file. */
export type MissingLabel = "identity" | "split" | "attributes" | "bbox" | "landmarks";

/** The class list and the tables a run labels its samples from. */
export interface LabelTables {
  mode: LabelMode;
  /** Identities in class order: line n of classes.txt is class n. */
  classes: readonly string[];
  /** Says where the identities came from, for the report and the card. */
  source: string;
  identities?: AnnotationTable<number>;
  splits?: AnnotationTable<Split>;
  attributes?: NamedTable;
  bboxes?: NamedTable;
  landmarks?: NamedTable;
  /** A share of identities (0-100) held out as the `test` split, by a hash of the identity. */
  holdoutPercent?: number;
}

/** Parses the annotation files a run was given into tables. */
export function annotationTables(
  texts: readonly AnnotationText[],
): Omit<LabelTables, "mode" | "classes" | "source"> {
  const tables: Omit<LabelTables, "mode" | "classes" | "source"> = {};
  for (const { kind, file, text } of texts) {
    if (kind === "identities") tables.identities = parseIdentities(file, text);
    else if (kind === "splits") tables.splits = parseSplits(file, text);
    else if (kind === "attributes") tables.attributes = parseAttributes(file, text);
    else if (kind === "bboxes") tables.bboxes = parseBoxes(file, text);
    else tables.landmarks = parseLandmarks(file, text);
  }
  return tables;
}

/** Identities sorted as numbers when they all are (CelebA's 1..10177), else as text. */
export function sortIdentities(identities: Iterable<string>): string[] {
  const all = [...new Set(identities)];
  const numeric = all.every((identity) => /^\d+$/.test(identity));
  return numeric
    ? all.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : 1))
    : all.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** classes.txt: one identity a line, line n is class n. */
export function classesText(classes: readonly string[]): string {
  return `${classes.join("\n")}\n`;
}

/** The identity folder of a photo: the folder it is in (`CASIA-WebFace/0000045/001.jpg`). */
export function folderIdentity(photoPath: string): string | undefined {
  return pathComponents(photoPath).at(-2);
}

/** True when `identity` falls in the held-out share: a stable hash, the same on every machine. */
export function heldOut(identity: string, percent: number): boolean {
  const hash = createHash("sha256").update(identity).digest().readUInt32BE(0);
  return hash / 2 ** 32 < percent / 100;
}

/**
 * Labels samples from `tables`: the class index and identity, the split, CelebA's attributes,
 * box and landmarks. Remembers which annotated images it saw, so the report can count the
 * annotations that found no photo.
 */
export class Labeler {
  private readonly classIndex: Map<string, number>;
  private readonly seen = new Set<string>();

  constructor(readonly tables: LabelTables) {
    this.classIndex = new Map(tables.classes.map((identity, index) => [identity, index]));
  }

  /** The splits a run writes, in order: none when there is no split file and no holdout. */
  get splits(): readonly Split[] {
    if (this.tables.splits !== undefined) return ["train", "validation", "test"];
    if (this.tables.holdoutPercent !== undefined) return ["train", "test"];
    return [];
  }

  /** The label of a photo (`key` as the join made it), and what was missing for it. */
  label(key: string, photoPath: string): { label: SampleLabel; missing: MissingLabel[] } {
    const { tables } = this;
    const missing: MissingLabel[] = [];
    const image = pathComponents(key).at(-1) ?? key;
    if (tables.identities !== undefined || tables.splits !== undefined) this.seen.add(image);
    const identity =
      tables.mode === "annotations"
        ? tables.identities?.rows.get(image)?.toString()
        : folderIdentity(photoPath);
    const cls = identity === undefined ? undefined : this.classIndex.get(identity);
    if (cls === undefined) missing.push("identity");
    const label: SampleLabel = { cls: cls ?? -1, identity: identity ?? null };
    if (tables.splits !== undefined) {
      const split = tables.splits.rows.get(image);
      if (split === undefined) missing.push("split");
      label.split = split ?? "unassigned";
    } else if (tables.holdoutPercent !== undefined && identity !== undefined) {
      label.split = heldOut(identity, tables.holdoutPercent) ? "test" : "train";
    } else if (tables.holdoutPercent !== undefined) {
      label.split = "unassigned";
    }
    // A table's row as a label field: absent without the table, null for a photo it lacks.
    const fromRow = <T>(
      table: NamedTable | undefined,
      reason: MissingLabel,
      make: (row: Int32Array, columns: readonly string[]) => T,
    ): T | null | undefined => {
      if (table === undefined) return undefined;
      const row = rowOf(table, image);
      if (row === undefined) missing.push(reason);
      return row === undefined ? null : make(row, table.columns);
    };
    const byName = <V>(row: Int32Array, columns: readonly string[], value: (n: number) => V) =>
      Object.fromEntries(columns.map((name, i) => [name, value(row[i]!)]));
    const attributes = fromRow(tables.attributes, "attributes", (row, columns) =>
      byName(row, columns, (n) => n > 0),
    );
    const bbox = fromRow(tables.bboxes, "bbox", (row) => ({
      x: row[0]!,
      y: row[1]!,
      width: row[2]!,
      height: row[3]!,
    }));
    const landmarks = fromRow(tables.landmarks, "landmarks", (row, columns) =>
      byName(row, columns, (n) => n),
    );
    if (attributes !== undefined) label.attributes = attributes;
    if (bbox !== undefined) label.bbox = bbox;
    if (landmarks !== undefined) label.landmarks = landmarks;
    return { label, missing };
  }

  /**
   * Images the identity or split file lists that no photo of the run matched; a partition
   * counts those whose name falls in its slice (exact where the key is the image's name, as
   * CelebA's is), so the partitions' counts add up.
   */
  annotationsWithoutPhoto(partition?: Partition): number {
    const listed = this.tables.identities?.rows ?? this.tables.splits?.rows;
    if (listed === undefined) return 0;
    let count = 0;
    for (const image of listed.keys()) {
      if (!this.seen.has(image) && inPartition(partition, image)) count++;
    }
    return count;
  }
}
