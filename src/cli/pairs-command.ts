import type { PairSides } from "../commands/pairs/pair-sides.js";
import type { PairsFormat } from "../commands/pairs/pairs-format.js";
import { writePairs } from "../commands/pairs/write-pairs.js";
import { MaskpipeError } from "../core/errors.js";
import { outputCommandArgs } from "./args.js";

export const PAIRS_HELP = `Usage: maskpipe pairs <output> --split SPLIT --count N [options]

Writes a face verification list over the samples of one split of an output (a folder, or
hf://datasets/{owner}/{repo}, where it is committed): N pairs, half of one identity, half of
two, no sample with itself, no pair twice; the same seed gives the same file. It goes in the
output as pairs/{split}.csv (or .txt), and the dataset card names it.

  --split SPLIT          train, validation, test, ... (leave out for an output without splits)
  --count N              pairs in all, even (N/2 same identity, N/2 different)
  --seed S               which pairs: the same seed, the same list (default 0)
  --sides SIDES          image (each sample's image as written), masked-unmasked (a masked
                         photo against an unmasked one), masked-masked, unmasked-unmasked
                         (default masked-unmasked when samples carry {key}.orig.jpg, else image)
  --format FORMAT        csv (a header, a line per pair) or lfw (LFW's pairs.txt) (default csv)
  --name NAME            the file pairs/NAME.csv or .txt (default the split's name)
  --hf-token TOKEN       for a Hub repo (default: HF_TOKEN)
  --hub-url URL          the Hub or a mirror
  -h, --help             this text

Exit codes: 0 written, 1 the output cannot give the list, 2 bad options.
`;

const FLAGS = {
  split: { type: "string" },
  count: { type: "string" },
  seed: { type: "string" },
  sides: { type: "string" },
  format: { type: "string" },
  name: { type: "string" },
  "hf-token": { type: "string" },
  "hub-url": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** `maskpipe pairs`: returns the exit code. */
export async function pairsCommand(argv: string[]): Promise<number> {
  const args = outputCommandArgs(argv, FLAGS, {
    name: "pairs",
    help: PAIRS_HELP,
    expected:
      "one output to pair samples of: maskpipe pairs shards/celeba --split test --count 600",
  });
  if (args === undefined) return 0;
  const { values, output } = args;
  const text = (name: keyof typeof FLAGS) => {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
  };
  const number = (name: "count" | "seed") => {
    const value = text(name);
    return value === undefined || !/^\d+$/.test(value) ? value : Number(value);
  };
  if (text("count") === undefined) {
    throw new MaskpipeError("ERR_INVALID_OPTION", "Expected --count N: how many pairs in all");
  }
  const written = await writePairs(output, {
    count: number("count") as number,
    ...(text("split") !== undefined && { split: text("split") }),
    ...(text("seed") !== undefined && { seed: number("seed") as number }),
    ...(text("sides") !== undefined && { sides: text("sides") as PairSides }),
    ...(text("format") !== undefined && { format: text("format") as PairsFormat }),
    ...(text("name") !== undefined && { name: text("name") }),
    ...(text("hf-token") !== undefined && { token: text("hf-token") }),
    ...(text("hub-url") !== undefined && { hubUrl: text("hub-url") }),
  });
  const same = written.pairs.filter((pair) => pair.sameIdentity).length;
  process.stderr.write(
    `maskpipe pairs: ${written.path}: ${same} same-identity and ${written.pairs.length - same} different-identity pairs (sides ${written.sides}) from ${written.samples} samples of ${written.identities} identities${written.card ? "; the dataset card names it" : ""}\n`,
  );
  return 0;
}
