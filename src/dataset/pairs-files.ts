import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The verification lists `maskpipe pairs` writes beside a run's shards, in `pairs/`: their
 * names, and how one is told from a user's file at the same path (only maskpipe's own is
 * replaced or removed, as with the report and errors file).
 */

/** The folder of an output (a local folder or a Hub repo) that holds the pair lists. */
export const PAIRS_FOLDER = "pairs";

/** The CSV list's header line: the columns, in order. */
export const PAIRS_CSV_COLUMNS = [
  "left_key",
  "left_member",
  "left_shard",
  "left_identity",
  "left_masked",
  "right_key",
  "right_member",
  "right_shard",
  "right_identity",
  "right_masked",
  "same_identity",
] as const;

/** What a list may be called: `pairs/{name}.csv` or `pairs/{name}.txt`. */
export const PAIRS_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** True for a name a list of pairs has in `pairs/`: `test.csv`, `test.txt`. */
export function isPairsFileName(file: string): boolean {
  const match = /^(.+)\.(csv|txt)$/.exec(file);
  return match !== null && PAIRS_NAME.test(match[1]!);
}

/**
 * True for a list maskpipe wrote: a CSV starting with its header line, or LFW's
 * `pairs.txt` form (a line `1 N`, then N lines `name n1 n2` and N lines `name1 n1 name2 n2`).
 */
export function isMaskpipePairs(text: string): boolean {
  const lines = text.split("\n");
  if (lines.at(-1) !== "") return false;
  lines.pop();
  if (lines[0] === PAIRS_CSV_COLUMNS.join(",")) return lines.length > 1;
  const head = /^1\t(\d+)$/.exec(lines[0] ?? "");
  if (head === null) return false;
  const half = Number(head[1]);
  const body = lines.slice(1);
  return (
    half > 0 &&
    body.length === 2 * half &&
    body.every((line, i) =>
      (i < half ? /^[^\t]+\t\d+\t\d+$/ : /^[^\t]+\t\d+\t[^\t]+\t\d+$/).test(line),
    )
  );
}

/**
 * The pair lists maskpipe wrote in an output folder's `pairs/` (full paths, by name): what
 * `--overwrite` removes with the run they were made of. A user's file there, a link, or a
 * `pairs` that is not a folder is left alone.
 */
export async function pairListsIn(dir: string): Promise<string[]> {
  const folder = join(dir, PAIRS_FOLDER);
  if (!(await lstat(folder).catch(() => undefined))?.isDirectory()) return [];
  const lists: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    if (!entry.isFile() || !isPairsFileName(entry.name)) continue;
    const path = join(folder, entry.name);
    if (isMaskpipePairs(await readFile(path, "utf8"))) lists.push(path);
  }
  return lists.sort();
}
