import { PAIRS_CSV_COLUMNS } from "../../dataset/pairs-files.js";
import type { EvaluationPair } from "./choose-pairs.js";
import type { PairSide } from "./pair-sides.js";
import type { PairSample } from "./split-samples.js";

/** `csv`: a header and a line per pair; `lfw`: LFW's `pairs.txt` conventions. */
export type PairsFormat = "csv" | "lfw";

export const PAIRS_FORMATS: readonly PairsFormat[] = ["csv", "lfw"];

/** The file extension of each format. */
export const PAIRS_EXTENSION: Record<PairsFormat, string> = { csv: "csv", lfw: "txt" };

/** A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The CSV list: the header, then a line per pair, `\n` line ends. */
export function pairsCsv(pairs: readonly EvaluationPair[]): string {
  const side = (s: PairSide) => [s.key, s.member, s.shard, s.identity, String(s.masked)];
  const lines = pairs.map((pair) =>
    [...side(pair.left), ...side(pair.right), String(pair.sameIdentity)].map(field).join(","),
  );
  return `${[PAIRS_CSV_COLUMNS.join(","), ...lines].join("\n")}\n`;
}

/**
 * LFW's `pairs.txt` with one set: a line `1<TAB>N`, then N same-identity lines
 * `name<TAB>n1<TAB>n2` and N different-identity lines `name1<TAB>n1<TAB>name2<TAB>n2`. The name
 * is the identity (a tab, a space, a line break or `%` in it written as `%XX`); n is the
 * sample's place, from 1, among that identity's samples of the split in the order of their keys.
 */
export function pairsLfw(pairs: readonly EvaluationPair[], samples: readonly PairSample[]): string {
  const place = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const sample of samples) {
    const n = (seen.get(sample.identity) ?? 0) + 1;
    seen.set(sample.identity, n);
    place.set(`${sample.shard}\n${sample.key}`, n);
  }
  const number = (side: PairSide) => place.get(`${side.shard}\n${side.key}`)!;
  const same = pairs.filter((pair) => pair.sameIdentity);
  const lines = pairs.map(({ left, right, sameIdentity }) =>
    sameIdentity
      ? [lfwName(left.identity), number(left), number(right)].join("\t")
      : [lfwName(left.identity), number(left), lfwName(right.identity), number(right)].join("\t"),
  );
  return `${[`1\t${same.length}`, ...lines].join("\n")}\n`;
}

function lfwName(identity: string): string {
  return identity.replace(
    /[\s%]/g,
    (char) => `%${char.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`,
  );
}
