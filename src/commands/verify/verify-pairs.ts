import type { OutputFiles } from "../../dataset/output-files.js";
import {
  isMaskpipePairs,
  isPairsFileName,
  PAIRS_CSV_COLUMNS,
  PAIRS_FOLDER,
} from "../../dataset/pairs-files.js";
import { RUN_FILES } from "../../dataset/run-files.js";
import { splitMemberName } from "../../sinks/webdataset-names.js";
import type { ListedShard } from "./output-shards.js";
import type { VerifyProblem } from "./verify-report.js";

const COLUMNS: readonly string[] = PAIRS_CSV_COLUMNS;

/** What checking the output's pair lists found. */
export interface CheckedPairs {
  /** One line for the report's `checked`, or none when the output has no list. */
  checked: string | undefined;
  problems: VerifyProblem[];
}

/**
 * The pair lists `maskpipe pairs` wrote in the output (`pairs/*.csv`): every sample a line names
 * is one the output holds (`keys`, read from the shards), in a shard its index lists. A list
 * made of other samples (an output made again without --overwrite removing it) is named by line.
 * A folder's lists are found by listing `pairs/`, a Hub repo's by its card.
 */
export async function verifyPairLists(
  files: OutputFiles,
  shards: readonly ListedShard[],
  keys: ReadonlySet<string>,
): Promise<CheckedPairs> {
  const listed = new Set(shards.map((shard) => shard.path));
  const problems: VerifyProblem[] = [];
  let pairs = 0;
  const paths = await pairListPaths(files);
  for (const path of paths) {
    const text = await files.text(path);
    if (text === undefined || !isMaskpipePairs(text) || !path.endsWith(".csv")) continue;
    const [, ...rows] = csvRows(text);
    pairs += rows.length;
    for (const [line, row] of rows.entries()) {
      for (const side of ["left", "right"]) {
        const member = row[COLUMNS.indexOf(`${side}_member`)] ?? "";
        const shard = row[COLUMNS.indexOf(`${side}_shard`)] ?? "";
        if (listed.has(shard) && keys.has(splitMemberName(member).key)) continue;
        problems.push({
          shard: path,
          member: `line ${line + 2}`,
          message: `names ${member} in ${shard}, a sample the output does not hold: the list was made of other samples; make it again with maskpipe pairs`,
        });
      }
    }
  }
  const csv = paths.filter((path) => path.endsWith(".csv")).length;
  return {
    checked:
      csv === 0
        ? undefined
        : `${csv} pair list${csv === 1 ? "" : "s"} in ${PAIRS_FOLDER}/, ${pairs.toLocaleString("en-US")} pairs: every sample named is in the shards`,
    problems,
  };
}

/** `pairs/test.csv`, ...: listed in a folder; on the Hub, as the dataset card names them. */
async function pairListPaths(files: OutputFiles): Promise<string[]> {
  const listing = await files.list(PAIRS_FOLDER);
  if (listing !== undefined) {
    return listing.files.filter(isPairsFileName).map((file) => `${PAIRS_FOLDER}/${file}`);
  }
  const card = (await files.text(RUN_FILES.card)) ?? "";
  const named = [...card.matchAll(/^\| `(pairs\/[^`/]+)` \|/gm)].map((match) => match[1]!);
  return named.filter((path) => isPairsFileName(path.slice(PAIRS_FOLDER.length + 1)));
}

/** The fields of each line of a CSV (RFC 4180 quoting). */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') field += text[++i];
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\n") {
      rows.push([...row, field]);
      row = [];
      field = "";
    } else field += char;
  }
  return rows;
}
