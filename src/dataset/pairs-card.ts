import { PAIRS_CSV_COLUMNS } from "./pairs-files.js";
import { CARD_MARKER } from "./run-files.js";

/** A pair list as the dataset card lists it. */
export interface CardPairs {
  /** Relative to the output: `pairs/test.csv`. */
  path: string;
  split: string | undefined;
  count: number;
  sides: string;
  /** The options that made it, as `--flag value` text. */
  options: string;
}

const START = "<!-- maskpipe pairs: the list below is rewritten by maskpipe pairs -->";
const END = "<!-- end of maskpipe pairs -->";
const ROW = /^\| `([^`]+)` \|.*\|$/;

/**
 * The dataset card with its "Evaluation pairs" section naming `pairs` (beside the lists named
 * there before, the one at the same path replaced), before the licence; `undefined` for a
 * README.md maskpipe did not write, which is never changed.
 */
export function cardWithPairs(card: string, pairs: CardPairs): string | undefined {
  if (!card.includes(CARD_MARKER)) return undefined;
  const start = card.indexOf(START);
  const end = card.indexOf(END);
  const had = start >= 0 && end > start;
  const rows = new Map<string, string>();
  if (had) {
    for (const line of card.slice(start, end).split("\n")) {
      const match = ROW.exec(line);
      if (match !== null && match[1] !== "file") rows.set(match[1]!, line);
    }
  }
  rows.set(
    pairs.path,
    `| \`${pairs.path}\` | ${pairs.split ?? "all"} | ${pairs.count.toLocaleString("en-US")} | ${pairs.sides} | \`maskpipe pairs OUT ${pairs.options}\` |`,
  );
  const section = pairsSection([...rows.keys()].sort().map((path) => rows.get(path)!));
  if (had) return `${card.slice(0, start)}${section}${card.slice(end + END.length)}`;
  const licence = card.indexOf("## Licence and citation");
  if (licence < 0) return `${card.replace(/\n*$/, "\n\n")}${section}\n`;
  return `${card.slice(0, licence)}${section}\n\n${card.slice(licence)}`;
}

function pairsSection(rows: readonly string[]): string {
  return `${START}
## Evaluation pairs

Face verification lists made with \`maskpipe pairs\` from this data set's samples: half the
pairs show one identity twice, half two identities; no sample is paired with itself and no pair
is there twice. The same seed gives the same list.

| file | split | pairs | sides | made with |
|---|---|---|---|---|
${rows.join("\n")}

A \`.csv\` list has a header and a line per pair: ${PAIRS_CSV_COLUMNS.map((c) => `\`${c}\``).join(", ")}.
\`*_member\` is the photo's member in the shard \`*_shard\` (\`{key}.jpg\`, or \`{key}.orig.jpg\`
for the unmasked photo of a sample), \`*_masked\` says whether that photo has the mask on.
A \`.txt\` list follows LFW's \`pairs.txt\`: a line \`1 N\`, N lines \`name n1 n2\` of one
identity, then N lines \`name1 n1 name2 n2\`; the name is the identity and n the sample's
place, from 1, among that identity's samples of the split ordered by member name.
${END}`;
}
