import { MaskpipeError } from "../../core/errors.js";
import { integerBetween, oneOf } from "../../core/validate.js";
import { type OpenOutputOptions, openOutput } from "../../dataset/output-files.js";
import { PAIRS_FOLDER, PAIRS_NAME } from "../../dataset/pairs-files.js";
import { choosePairs, type EvaluationPair } from "./choose-pairs.js";
import { defaultSides, PAIR_SIDES, type PairSides } from "./pair-sides.js";
import {
  PAIRS_EXTENSION,
  PAIRS_FORMATS,
  type PairsFormat,
  pairsCsv,
  pairsLfw,
} from "./pairs-format.js";
import { checkSplit, labelledReport, readSplitSamples } from "./split-samples.js";

export interface PairsOptions extends OpenOutputOptions {
  /** The split to pair samples of; required when the output has splits, none otherwise. */
  split?: string;
  /** Pairs in all, even: half same identity, half different identities. */
  count: number;
  /** The same seed gives the same list. Default 0. */
  seed?: number;
  /**
   * Which photo each side shows. Default `masked-unmasked` when the samples carry their
   * unmasked photo (`{key}.orig.jpg`), `image` otherwise.
   */
  sides?: PairSides;
  /** `csv` (default) or `lfw` (LFW's `pairs.txt` conventions). */
  format?: PairsFormat;
  /** The list's file name in `pairs/`, without extension. Default the split (`all` without). */
  name?: string;
}

/** A verification list chosen from an output's samples, and where it goes in the output. */
export interface PairList {
  /** The output's run. */
  run: string;
  split: string | undefined;
  sides: PairSides;
  format: PairsFormat;
  /** Relative to the output: `pairs/test.csv`. */
  path: string;
  pairs: EvaluationPair[];
  /** The file's text. */
  text: string;
  /** Samples of the split with a known identity, and their identities. */
  samples: number;
  identities: number;
  /** The options that made the list, as `--flag value` text (no output, token or URL). */
  options: string;
}

/** The options checked, with their defaults. */
function checkedOptions(options: PairsOptions) {
  const count = integerBetween("count", options.count, 2, 10_000_000);
  if (count % 2 !== 0) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected an even number (half same-, half different-identity pairs) for count but received ${count}`,
    );
  }
  const name = options.name;
  if (name !== undefined && !PAIRS_NAME.test(name)) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected letters, digits, - and _ for name (the file in ${PAIRS_FOLDER}/) but received ${JSON.stringify(name)}`,
    );
  }
  return {
    count,
    seed: integerBetween("seed", options.seed ?? 0, 0, 2 ** 32 - 1),
    sides: options.sides === undefined ? undefined : oneOf("sides", options.sides, PAIR_SIDES),
    format: oneOf("format", options.format ?? "csv", PAIRS_FORMATS),
    name,
  };
}

/**
 * A balanced, deterministic verification list over the samples of one split of an output (a
 * folder or `hf://datasets/...`), read from its shards' json; nothing is written. Refused when
 * the output has no identities, the split is not one of its own or is too small.
 *
 * @example
 * const list = await evaluationPairs("shards/celeba", { split: "test", count: 600, seed: 1 });
 * for (const pair of list.pairs) console.log(pair.left.member, pair.right.member, pair.sameIdentity);
 */
export async function evaluationPairs(spec: string, options: PairsOptions): Promise<PairList> {
  const checked = checkedOptions(options);
  const files = await openOutput(spec, options);
  try {
    const report = await labelledReport(files);
    const split = checkSplit(spec, report, options.split);
    const samples = await readSplitSamples(files, report, split);
    const sides = checked.sides ?? defaultSides(samples.samples);
    const pairs = choosePairs(samples, { ...checked, sides, split: split ?? "all" });
    const text = checked.format === "csv" ? pairsCsv(pairs) : pairsLfw(pairs, samples.samples);
    const name = checked.name ?? split ?? "all";
    return {
      run: report.name,
      split,
      sides,
      format: checked.format,
      path: `${PAIRS_FOLDER}/${name}.${PAIRS_EXTENSION[checked.format]}`,
      pairs,
      text,
      samples: samples.samples.length,
      identities: new Set(samples.samples.map((sample) => sample.identity)).size,
      options: [
        ...(split === undefined ? [] : ["--split", split]),
        ...["--count", String(checked.count), "--seed", String(checked.seed)],
        ...["--sides", sides, "--format", checked.format],
        ...(checked.name === undefined ? [] : ["--name", checked.name]),
      ].join(" "),
    };
  } finally {
    await files.close();
  }
}
