import { MaskpipeError } from "../core/errors.js";

/*
 * CelebA's annotation files as the release ships them, parsed as pure functions. Every file is
 * one line per image, `000001.jpg` first, values separated by runs of spaces; the list_* files
 * start with a count line and a header line. A malformed line is an error naming file and line.
 */

/** One table: image key (the file name without extension) -> its row of values. */
export interface AnnotationTable<Row> {
  /** The file, as messages name it. */
  readonly file: string;
  readonly rows: ReadonlyMap<string, Row>;
}

/** The image key CelebA's files use: `000001.jpg` -> `000001`. */
export function imageKey(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

function lines(text: string): string[] {
  const all = text.split(/\r?\n/);
  while (all.length > 0 && all.at(-1)!.trim() === "") all.pop();
  return all;
}

function fields(line: string): string[] {
  return line.trim().split(/\s+/);
}

function malformed(file: string, line: number, what: string): MaskpipeError {
  return new MaskpipeError("ERR_ANNOTATION", `${file}: line ${line}: ${what}`, {
    archive: file,
  });
}

function integer(file: string, line: number, text: string): number {
  if (!/^-?\d+$/.test(text)) throw malformed(file, line, `"${text}" is not a whole number`);
  return Number(text);
}

/** Rows of `{image} {value}`: identity_CelebA.txt and list_eval_partition.txt. */
function twoColumns(file: string, text: string, what: string): Map<string, number> {
  const rows = new Map<string, number>();
  lines(text).forEach((line, index) => {
    const number = index + 1;
    if (line.trim() === "") throw malformed(file, number, "empty line");
    const parts = fields(line);
    if (parts.length !== 2) {
      throw malformed(
        file,
        number,
        `expected "{image} {${what}}" but found ${parts.length} fields`,
      );
    }
    const key = imageKey(parts[0]!);
    if (rows.has(key)) throw malformed(file, number, `${parts[0]} is listed twice`);
    rows.set(key, integer(file, number, parts[1]!));
  });
  return rows;
}

/** `identity_CelebA.txt`: `000001.jpg 2880` -> identity 2880. */
export function parseIdentities(file: string, text: string): AnnotationTable<number> {
  return { file, rows: twoColumns(file, text, "identity") };
}

/** The split names of `list_eval_partition.txt`'s 0, 1 and 2. */
export const CELEBA_SPLITS = ["train", "validation", "test"] as const;
export type Split = string;

/** `list_eval_partition.txt`: `000001.jpg 0` -> train (1 validation, 2 test). */
export function parseSplits(file: string, text: string): AnnotationTable<Split> {
  const rows = new Map<string, Split>();
  let number = 0;
  for (const [key, value] of twoColumns(file, text, "partition")) {
    number++;
    const split = CELEBA_SPLITS[value];
    if (split === undefined) {
      throw malformed(
        file,
        number,
        `partition ${value} is not 0 (train), 1 (validation) or 2 (test)`,
      );
    }
    rows.set(key, split);
  }
  return { file, rows };
}

/**
 * A table with named columns: the attributes, boxes and landmarks files. Columnar, so 200,000
 * rows are one key index and one Int32Array, not 200,000 objects.
 */
export interface NamedTable {
  readonly file: string;
  readonly columns: readonly string[];
  /** Image key -> row number. */
  readonly index: ReadonlyMap<string, number>;
  /** Row `r`'s values are `values[r * columns.length ...]`. */
  readonly values: Int32Array;
}

/** The values of `key`'s row, or `undefined` when the table has no such image. */
export function rowOf(table: NamedTable, key: string): Int32Array | undefined {
  const row = table.index.get(key);
  if (row === undefined) return undefined;
  const width = table.columns.length;
  return table.values.subarray(row * width, (row + 1) * width);
}

/**
 * A list_* file: a count line, a header line of column names (the box file's starts with
 * `image_id`, which names the first field), then `{image} {value} ...` rows, `check`ed.
 */
function numericTable(
  file: string,
  text: string,
  check?: (value: number) => string | undefined,
): NamedTable {
  const all = lines(text);
  if (all.length < 2)
    throw malformed(file, all.length + 1, "expected a count line and a header line");
  const count = integer(file, 1, all[0]!.trim());
  const columns = fields(all[1]!).filter((name, index) => !(index === 0 && name === "image_id"));
  const width = columns.length;
  const rows = all.length - 2;
  if (rows !== count)
    throw malformed(file, 1, `the count line says ${count} images but ${rows} follow`);
  const index = new Map<string, number>();
  const values = new Int32Array(rows * width);
  for (let row = 0; row < rows; row++) {
    const number = row + 3;
    const parts = fields(all[row + 2]!);
    if (parts.length !== width + 1) {
      throw malformed(
        file,
        number,
        `expected an image and ${width} values (${columns.slice(0, 3).join(", ")}, ...) but found ${parts.length} fields`,
      );
    }
    const key = imageKey(parts[0]!);
    if (index.has(key)) throw malformed(file, number, `${parts[0]} is listed twice`);
    index.set(key, row);
    for (let column = 0; column < width; column++) {
      const value = integer(file, number, parts[column + 1]!);
      const problem = check?.(value);
      if (problem !== undefined) throw malformed(file, number, problem);
      values[row * width + column] = value;
    }
  }
  return { file, columns, index, values };
}

/** `list_attr_celeba.txt`: 40 named attributes, each -1 or 1 in the file (kept as is). */
export function parseAttributes(file: string, text: string): NamedTable {
  return numericTable(file, text, (value) =>
    value === 1 || value === -1 ? undefined : `attribute value ${value} is not -1 or 1`,
  );
}

/** `list_bbox_celeba.txt`: `x_1 y_1 width height` in the in-the-wild photo's pixels. */
export function parseBoxes(file: string, text: string): NamedTable {
  return numericTable(file, text);
}

/** `list_landmarks_celeba.txt`: five points (`lefteye_x lefteye_y ...`) in the photo's pixels. */
export function parseLandmarks(file: string, text: string): NamedTable {
  return numericTable(file, text);
}
