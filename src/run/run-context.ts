import type { RunStats } from "../core/stats.js";
import type { OutputMode } from "../dataset/output-policy.js";
import type { RunIdentity } from "../dataset/run-identity.js";
import type { LabelPlan } from "../labels/label-plan.js";
import type { Labeler } from "../labels/labeler.js";
import type { OpenedSource } from "../sources/opened-source.js";
import type { CheckedRunOptions } from "./run-options.js";

/** One run as its phases share it: the checked options, its counts, where its output goes. */
export interface RunContext {
  readonly options: CheckedRunOptions;
  readonly stats: RunStats;
  /** `performance.now()` when the run started. */
  readonly started: number;
  readonly signal: AbortSignal | undefined;
  /** The output is a Hub repo, not a folder. */
  readonly toHub: boolean;
  readonly mode: OutputMode;
  /** What the shards are named: the run's name, or its partition's `{name}-03of16`. */
  readonly shardSet: string;
  /** Where run.json and the records go: the output, or its partition's folder. */
  readonly records: string;
}

/** The run's two inputs, opened, with its labels and identity. */
export interface RunInputs {
  readonly photos: OpenedSource;
  readonly masks: OpenedSource;
  readonly labeler: Labeler | undefined;
  /** What the labels were planned from, and the annotation files not found. */
  readonly labelPlan: LabelPlan | undefined;
  readonly identity: RunIdentity;
  /** How the two sides are paired: `lookup-masks`, `lookup-photos` or `merge`. */
  readonly strategy: string;
}
