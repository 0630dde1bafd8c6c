import { splitMemberName } from "./webdataset-names.js";

/*
 * NVIDIA DALI's WebDataset index (`wds2idx`, read by `fn.readers.webdataset(index_paths=...)`):
 * a first line `v1.2 {samples}`, then a line per sample, each member of it as
 * `{extension} {offset} {size} {name}`, where the offset is that of the member's data in the tar
 * (a multiple of 512). Members are grouped into samples as WebDataset readers do: consecutive
 * members with the same key (the name up to the first dot of its file name); a member whose file
 * name starts with a dot (no key) is left out, as wds2idx leaves it out.
 */

/** The index version wds2idx writes, with the member names. */
export const DALI_INDEX_VERSION = "v1.2";

/** One member of a shard as the index lists it. */
export interface DaliComponent {
  /** Everything after the first dot of the file name: `jpg`, `json`, `cls`. */
  extension: string;
  /** Where the member's data starts in the tar. */
  offset: number;
  size: number;
  /** The member's name in the tar. */
  name: string;
}

/** The index file of shard `shard`: `celeba-000000.tar` -> `celeba-000000.idx`, as wds2idx names it. */
export function daliIndexName(shard: string): string {
  return shard.replace(/\.tar$/, ".idx");
}

/**
 * Groups a shard's members, in tar order, into the index's samples: what wds2idx makes of the
 * same tar.
 */
export function daliSamples(
  members: readonly { name: string; offset: number; size: number }[],
): DaliComponent[][] {
  const samples: DaliComponent[][] = [];
  let lastKey: string | undefined;
  for (const member of members) {
    const { key, extension } = splitMemberName(member.name);
    if (key === "" || key.endsWith("/")) continue;
    const component = { extension, offset: member.offset, size: member.size, name: member.name };
    if (key === lastKey) samples.at(-1)!.push(component);
    else samples.push([component]);
    lastKey = key;
  }
  return samples;
}

/** The index file's text for these samples. */
export function daliIndexText(samples: readonly (readonly DaliComponent[])[]): string {
  const lines = samples.map((sample) =>
    sample.map((c) => `${c.extension} ${c.offset} ${c.size} ${c.name}`).join(" "),
  );
  return `${DALI_INDEX_VERSION} ${samples.length}\n${lines.map((line) => `${line}\n`).join("")}`;
}

/** An index file read back: its samples, or why it cannot be read as one. */
export type ParsedDaliIndex = { samples: DaliComponent[][] } | { error: string };

/** Reads an index file as DALI does, strictly: version, count, four fields a member. */
export function parseDaliIndex(text: string): ParsedDaliIndex {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const head = /^(v\d+\.\d+) (\d+)$/.exec(lines[0] ?? "");
  if (head === null) return { error: `line 1 is not "${DALI_INDEX_VERSION} {samples}"` };
  if (head[1] !== DALI_INDEX_VERSION) {
    return { error: `version ${head[1]}, expected ${DALI_INDEX_VERSION}` };
  }
  const count = Number(head[2]);
  if (count !== lines.length - 1) {
    return {
      error: `line 1 says ${count} samples, the file has ${lines.length - 1} lines after it`,
    };
  }
  const samples: DaliComponent[][] = [];
  for (const [i, line] of lines.slice(1).entries()) {
    const fields = line.split(" ");
    if (fields.length === 0 || fields.length % 4 !== 0 || fields.includes("")) {
      return { error: `line ${i + 2} is not "{extension} {offset} {size} {name}" per member` };
    }
    const sample: DaliComponent[] = [];
    for (let f = 0; f < fields.length; f += 4) {
      const [extension, offset, size, name] = fields.slice(f, f + 4) as [
        string,
        string,
        string,
        string,
      ];
      if (!/^\d+$/.test(offset) || !/^\d+$/.test(size)) {
        return { error: `line ${i + 2}: offset and size of ${name} are not whole numbers` };
      }
      sample.push({ extension, offset: Number(offset), size: Number(size), name });
    }
    samples.push(sample);
  }
  return { samples };
}
