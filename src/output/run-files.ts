import { shardFilePattern } from "../sinks/webdataset-names.js";

/**
 * The files a run writes beside its shards. A run owns these names (and the shards of its own
 * name) in its output folder: the output-folder policy finds, refuses or removes exactly them.
 */
export const RUN_FILES = {
  /** The run identity, written before the first sample: what `--resume` compares. */
  identity: "run.json",
  report: "report.json",
  errors: "errors.jsonl",
  /** The wids shard index. */
  index: "index.json",
  /** The dataset card, so `datasets.load_dataset(folder)` reads the shards. */
  card: "README.md",
  /** With labels: one identity a line, line n (from 0) is class n. */
  classes: "classes.txt",
  /** A Hub run's contact sheet, shown on its card. */
  preview: "preview.jpg",
} as const;

/** A line in every card maskpipe writes: a README.md without it is the user's, never touched. */
export const CARD_MARKER = "<!-- written by maskpipe: remove this line to keep the file -->";

const FIXED = new Set<string>(Object.values(RUN_FILES));

/**
 * True for a top-level file name that run `name` writes: its shards (`{name}-000000.tar`), a
 * shard or file left half-written (`.partial`), and the fixed files above.
 */
export function isRunFile(file: string, name: string): boolean {
  if (shardFilePattern(name, "(\\.partial)?").test(file)) return true;
  const whole = file.endsWith(".partial") ? file.slice(0, -".partial".length) : file;
  return FIXED.has(whole);
}
