import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import type { JoinedPhoto } from "../core/pair.js";
import type { Sample } from "../core/sample.js";
import type { Side } from "../core/stats.js";
import { usableCores } from "../core/thread-pool.js";
import type { SampleSink } from "../sinks/sink.js";
import { labelPair } from "../transforms/attach-labels.js";
import { checkedPairs } from "../transforms/input-check.js";
import { joinedPairs } from "../transforms/join.js";
import { overlaySamples } from "../transforms/overlay.js";
import type { WorkerUsage } from "../transforms/overlay-messages.js";
import { overlayPool } from "../transforms/overlay-pool.js";
import { firstPairs } from "../transforms/take.js";
import { sevenZipOf } from "./final-report.js";
import type { KeptOutput } from "./make-sink.js";
import { sideNames } from "./pairing-guard.js";
import type { RunContext, RunInputs } from "./run-context.js";

/** What the stream stage needs beyond the run and its inputs. */
export interface StreamPlan {
  sink: SampleSink;
  kept: KeptOutput;
  /** Pairs expected, for progress; undefined when the streamed side cannot be listed. */
  expected: number | undefined;
  /** At most this many pairs (the looked-up side's count when the streamed side is unknown). */
  atMost: number | undefined;
  /** Example members of each side, for the message when keys never meet. */
  examples: () => Record<Side, readonly string[]>;
}

/**
 * Fewer pairs than this, when the run knows its count, are overlaid in the run's own process by
 * default: a worker's start (node and sharp, ~0.3 CPU s each) costs more than it saves on a few
 * hundred images.
 */
export const MIN_PAIRS_FOR_WORKERS = 500;

/** The overlay's processes: as given, else the usable cores, or 1 for a small run. */
export function overlayWorkerCount(given: number | undefined, atMost: number | undefined): number {
  if (given !== undefined) return given;
  return atMost !== undefined && atMost < MIN_PAIRS_FOR_WORKERS ? 1 : usableCores();
}

/** How the stream stage ended: interrupted or not, and what its overlay workers used. */
export interface StreamOutcome {
  interrupted: boolean;
  /** The processes the overlay ran in (1: this one). */
  overlayWorkers: number;
  /** Each overlay worker process's CPU and peak memory, when the overlay ran in processes. */
  workerUsage?: WorkerUsage[];
}

/**
 * The stages, one pipeline: join, --limit, the input check, labels, skip what --resume kept,
 * overlay (in this process, or in `overlayWorkers` child processes: the same samples), progress,
 * the sink. Returns whether the run was interrupted (its signal aborted); any other failure is
 * thrown. The stages are generator functions, not streams (the library's stream stages wrap the
 * same code): each stream between two stages cost the main thread promises and buffering for
 * every pair, and that thread packs the shards, so its time caps a run on many cores.
 */
export async function streamPairs(
  run: RunContext,
  inputs: RunInputs,
  plan: StreamPlan,
): Promise<StreamOutcome> {
  const { options, stats, signal } = run;
  const { photos, masks } = inputs;
  const pairs = joinedPairs({
    photos,
    masks,
    photoKeys: options.photoKeys,
    maskKeys: options.maskKeys,
    memoryBudget: options.joinMemory,
    stats,
    ...(options.partition !== undefined && { partition: options.partition }),
    keepUnmasked: options.keepUnmasked,
    signal,
  });
  const workers = overlayWorkerCount(options.overlayWorkers, plan.atMost);
  const outcome: StreamOutcome = { interrupted: false, overlayWorkers: workers };
  try {
    await pipeline(
      options.limit === undefined ? pairs : firstPairs(pairs, options.limit),
      (source: AsyncIterable<JoinedPhoto>) => preparedPairs(source, run, inputs, plan),
      overlayStage(run, workers, (usage) => {
        outcome.workerUsage = usage;
      }),
      (samples: AsyncIterable<Sample>) => withProgress(samples, run, inputs, plan.expected),
      plan.sink,
      { signal },
    );
  } catch (error) {
    // The sink may still be putting a whole shard in place: the run ends once it has, so
    // nothing in the output changes after runPipeline returns or throws.
    await closed(plan.sink);
    if (signal?.aborted !== true) throw error;
    return { interrupted: true, overlayWorkers: workers };
  }
  return outcome;
}

/** The input check, labels and skipping what --resume kept, in one pass over the pairs. */
async function* preparedPairs(
  pairs: AsyncIterable<JoinedPhoto>,
  run: RunContext,
  inputs: RunInputs,
  plan: StreamPlan,
): AsyncGenerator<JoinedPhoto> {
  const { options, stats } = run;
  const { labeler } = inputs;
  const check = { ...sideNames(options), examples: plan.examples, stats };
  for await (const pair of checkedPairs(pairs, check)) {
    const labelled =
      labeler === undefined
        ? pair
        : labelPair(pair, { labeler, strict: options.strictLabels }, stats);
    if (labelled === undefined) continue;
    if (plan.kept.isDone(labelled.key)) {
      stats.resumed++;
      continue;
    }
    yield labelled;
  }
}

/** The overlay in this process (`overlayWorkers` 1), or in worker processes. */
function overlayStage(
  run: RunContext,
  workers: number,
  onUsage: (usage: WorkerUsage[]) => void,
): (pairs: AsyncIterable<JoinedPhoto>) => AsyncGenerator<Sample> {
  const { options, stats } = run;
  const settings = {
    format: options.format,
    quality: options.quality,
    optimizeCoding: options.optimizeCoding,
    concurrency: options.concurrency,
    maxPixels: options.maxPixels,
    onError: options.onError,
    with: options.with,
    ...(options.masked !== undefined && { masked: options.masked }),
    keepUnmasked: options.keepUnmasked,
    stats,
  };
  if (workers === 1) return (pairs) => overlaySamples(pairs, settings);
  return overlayPool({ ...settings, workers, onUsage }).samples;
}

async function closed(sink: SampleSink): Promise<void> {
  if (sink.closed) return;
  const closing = once(sink, "close").catch(() => {});
  if (!sink.destroyed) sink.destroy();
  await closing;
}

/** Passes samples on and tells `onProgress` how far the run is, once each is taken. */
async function* withProgress(
  samples: AsyncIterable<Sample>,
  run: RunContext,
  inputs: RunInputs,
  expected: number | undefined,
): AsyncGenerator<Sample> {
  const { options, stats, started } = run;
  const unpacked = sevenZipOf(inputs.photos, inputs.masks)?.unpacked;
  for await (const sample of samples) {
    yield sample;
    options.onProgress?.({
      written: stats.written,
      failed: stats.failed,
      expected,
      seconds: (performance.now() - started) / 1000,
      networkBytes: (inputs.photos.http?.bytes ?? 0) + (inputs.masks.http?.bytes ?? 0),
      ...(unpacked !== undefined && { unpacked }),
    });
  }
}
