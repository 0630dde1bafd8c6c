import { once } from "node:events";
import { type Duplex, PassThrough, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Side } from "../core/stats.js";
import { usableCores } from "../core/thread-pool.js";
import type { SampleSink } from "../sinks/sink.js";
import { attachLabels } from "../transforms/attach-labels.js";
import { inputCheck } from "../transforms/input-check.js";
import { join } from "../transforms/join.js";
import { overlay } from "../transforms/overlay.js";
import type { WorkerUsage } from "../transforms/overlay-messages.js";
import { overlayInProcesses } from "../transforms/overlay-pool.js";
import { skipDone } from "../transforms/skip-done.js";
import { takePairs } from "../transforms/take.js";
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
 * thrown.
 */
export async function streamPairs(
  run: RunContext,
  inputs: RunInputs,
  plan: StreamPlan,
): Promise<StreamOutcome> {
  const { options, stats, signal } = run;
  const { photos, masks, labeler } = inputs;
  const pairs = join({
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
      options.limit === undefined ? pairs : takePairs(pairs, options.limit),
      inputCheck({ ...sideNames(options), examples: plan.examples, stats }),
      labeler === undefined
        ? new PassThrough({ objectMode: true })
        : attachLabels({ labeler, strict: options.strictLabels, stats }),
      skipDone(plan.kept.isDone, stats),
      overlayStage(run, workers, (usage) => {
        outcome.workerUsage = usage;
      }),
      progress(run, inputs, plan.expected),
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

/** The overlay in this process (`overlayWorkers` 1), or in worker processes. */
function overlayStage(
  run: RunContext,
  workers: number,
  onUsage: (usage: WorkerUsage[]) => void,
): Duplex {
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
  return workers === 1 ? overlay(settings) : overlayInProcesses({ ...settings, workers, onUsage });
}

async function closed(sink: SampleSink): Promise<void> {
  if (sink.closed) return;
  const closing = once(sink, "close").catch(() => {});
  if (!sink.destroyed) sink.destroy();
  await closing;
}

/** Passes samples on and tells `onProgress` how far the run is. */
function progress(run: RunContext, inputs: RunInputs, expected: number | undefined): Transform {
  const { options, stats, started } = run;
  const unpacked = sevenZipOf(inputs.photos, inputs.masks)?.unpacked;
  return new Transform({
    objectMode: true,
    transform(sample, _encoding, callback) {
      callback(null, sample);
      options.onProgress?.({
        written: stats.written,
        failed: stats.failed,
        expected,
        seconds: (performance.now() - started) / 1000,
        networkBytes: (inputs.photos.http?.bytes ?? 0) + (inputs.masks.http?.bytes ?? 0),
        ...(unpacked !== undefined && { unpacked }),
      });
    },
  });
}
