import { abortable } from "../core/abortable.js";
import { MaskpipeError } from "../core/errors.js";
import { removeMadeDirectories } from "../core/make-directory.js";
import { partitionShardSet } from "../core/partition.js";
import { RunStats } from "../core/stats.js";
import type { RunReport } from "../dataset/report.js";
import { removeOutputFile } from "../sinks/output-file.js";
import { isHfUrl } from "../sources/hf/hf-url.js";
import type { OpenedSource } from "../sources/opened-source.js";
import { keysDoNotMeet } from "../transforms/input-check.js";
import type { JoinStrategy } from "../transforms/join.js";
import { NO_PAIR_PATIENCE, type Streamed } from "../transforms/keys-meet.js";
import {
  checkOutputPaths,
  claimFolder,
  localOutput,
  type MadeBeforeFirstSample,
  prepareOutput,
} from "./claim-output.js";
import { countPairs } from "./dry-run.js";
import { ErrorLog } from "./error-log.js";
import { expectedPairs } from "./expected-pairs.js";
import { finalReport } from "./final-report.js";
import { finishRun } from "./finish-run.js";
import { makeSink } from "./make-sink.js";
import { openInputs } from "./open-inputs.js";
import { guardPairing, sideNames } from "./pairing-guard.js";
import type { RunContext, RunInputs } from "./run-context.js";
import { checkRunOptions, type RunOptions, runRecordsFolder } from "./run-options.js";
import { streamPairs } from "./stream-pairs.js";

/**
 * One whole run, in phases: check the output paths, open both inputs (labels and the run's
 * identity with them), claim the output (the output-folder policy, or the resume check), make
 * the sink, stream the pairs through the public stages, then the report and its verdict. A
 * user's own pipeline built from the same stages behaves the same.
 *
 * @example
 * const report = await runPipeline({ name: "celeba", originals: "img_celeba.zip",
 *   masks: "celeba_masks.zip", out: "shards/celeba",
 *   photoKeys: { depth: 1, suffixes: [] }, maskKeys: { depth: 1, suffixes: ["_mask"] } });
 * if (report.problems.length > 0) console.error(report.problems);
 */
export async function runPipeline(input: RunOptions): Promise<RunReport> {
  const run = runContext(input);
  const { options, stats, signal } = run;
  if (!options.dryRun) await checkOutputPaths(run);
  const errors = new ErrorLog(options, localOutput(run));
  stats.onFailure = (failure) => errors.record(failure, run.toHub);
  const opened: OpenedSource[] = [];
  const made: MadeBeforeFirstSample = { folders: [] };
  let inputs: RunInputs | undefined;
  try {
    inputs = await openInputs(run, opened);
    if (options.dryRun) return await dryRun(run, inputs);
    const examples = await abortable(guardPairing(options, inputs, stats, signal), signal);
    const { expected, atMost } = await abortable(expectedOf(run, inputs), signal);
    if (!run.toHub) {
      const finished = await claimFolder(run, inputs.identity);
      if (finished !== undefined) return { ...finished, nothingToDo: true };
    }
    await prepareOutput(run, inputs.identity, made);
    const { sink, hub, kept } = await makeSink(run, inputs);
    const streamed = await streamPairs(run, inputs, { sink, kept, expected, atMost, examples });
    // The join reads a little ahead: pairs past the limit were made but never taken.
    if (options.limit !== undefined) stats.pairs = Math.min(stats.pairs, options.limit);
    return await finishRun(run, inputs, { sink, hub, kept, ...streamed }, errors);
  } catch (error) {
    throw await stoppedEarly(run, made, error, inputs === undefined);
  } finally {
    await Promise.allSettled(opened.map((source) => source.close()));
    // A run that failed anyway: its own error is the one to report.
    await errors.close().catch(() => {});
  }
}

function runContext(input: RunOptions): RunContext {
  const options = checkRunOptions(input);
  return {
    options,
    stats: new RunStats(),
    started: performance.now(),
    signal: options.signal,
    toHub: isHfUrl(options.out),
    mode: options.overwrite ? "overwrite" : options.resume ? "resume" : "new",
    // A partition's shards are named for it; its run.json is in its own folder.
    shardSet: partitionShardSet(options.name, options.partition),
    records: runRecordsFolder(options.out, options.partition),
  };
}

/** The side(s) each join strategy reads in order. */
const STREAMED: Record<JoinStrategy, Streamed> = {
  "lookup-masks": "photos",
  "lookup-photos": "masks",
  merge: "both",
};

/** `--dry-run`: what the run would pair, from the listings alone; nothing is written. */
async function dryRun(run: RunContext, inputs: RunInputs): Promise<RunReport> {
  const { options, stats, signal } = run;
  const { photos, masks, labeler } = inputs;
  const streamed = STREAMED[inputs.strategy as JoinStrategy];
  const { readBeforeKeysMeet } = await countPairs({
    ...options,
    photos,
    masks,
    stats,
    signal,
    labeler,
    streamed,
  });
  // The run's rule, on the listings: no pair in the first members read stops it, here too.
  const neverMeet = stats.pairs === 0 && stats.photosWithoutMask > 0 && stats.masksWithoutPhoto > 0;
  if (neverMeet || readBeforeKeysMeet >= NO_PAIR_PATIENCE)
    throw keysDoNotMeet(sideNames(options), stats.unmatchedExamples);
  return finalReport(run, inputs, { dryRun: true, written: 0, shards: [] });
}

/**
 * Pairs expected, for progress: counted on the side the join streams when it can be listed.
 * `atMost` bounds them by the side it looks members up in when the streamed side cannot be
 * listed, for the overlay's worker count (a few dozen pairs from a tar are a small run too).
 */
async function expectedOf(
  run: RunContext,
  inputs: RunInputs,
): Promise<{ expected: number | undefined; atMost: number | undefined }> {
  const { options } = run;
  const masksStreamed = inputs.strategy === "lookup-photos";
  const count = (side: "photos" | "masks") =>
    expectedPairs(
      side === "masks" ? inputs.masks : inputs.photos,
      side === "masks" ? options.maskKeys : options.photoKeys,
      options.limit,
      options.partition,
    );
  const expected = await count(masksStreamed ? "masks" : "photos");
  return { expected, atMost: expected ?? (await count(masksStreamed ? "photos" : "masks")) };
}

/**
 * A run that stopped on an error: one that wrote no sample leaves no trace (its run.json and the
 * folders it made go); an interruption before the first sample says nothing was written.
 */
async function stoppedEarly(
  run: RunContext,
  made: MadeBeforeFirstSample,
  error: unknown,
  opening: boolean,
): Promise<unknown> {
  const { stats, signal } = run;
  if (stats.written === 0 && stats.resumed === 0) {
    if (made.record !== undefined) await removeOutputFile(run.options.out, made.record);
    await removeMadeDirectories(made.folders);
  }
  if (signal?.aborted !== true) return error;
  if (opening) {
    return new MaskpipeError(
      "ERR_INTERRUPTED",
      "interrupted while opening the inputs; nothing was written",
    );
  }
  if (!(error instanceof MaskpipeError)) {
    return new MaskpipeError(
      "ERR_INTERRUPTED",
      "interrupted before the first sample; nothing was written",
      { cause: error },
    );
  }
  return error;
}
