import { Duplex } from "node:stream";
import type { JoinedPhoto } from "../core/pair.js";
import type { Sample } from "../core/sample.js";
import { RunStats } from "../core/stats.js";
import { integerBetween } from "../core/validate.js";
import { checkPairSizes, type PairSizes, pairPixels } from "./mask-size.js";
import { orderedMap } from "./ordered-map.js";
import {
  attemptOverlay,
  failureOf,
  type OverlayFailure,
  type OverlayOptions,
  recordedInOrder,
  resolveOverlayOptions,
} from "./overlay.js";
import type { WorkerUsage } from "./overlay-messages.js";
import { DEFAULT_RECYCLE_AFTER, OverlayWorkers } from "./overlay-workers.js";
import { PixelBudget } from "./pixel-budget.js";
import { blendsPhoto, needsPixels, sampleOf } from "./sample-parts.js";

export interface OverlayPoolOptions extends OverlayOptions {
  /**
   * Overlay worker processes. Required here; a run's default is the cores it may use
   * (`usableCores()`). Each has `concurrency / workers` images in flight (at least 1).
   */
  workers: number;
  /**
   * Pairs a worker process makes before a fresh one takes its place, so memory stays bounded
   * however long the run (a process's heap fragments as it works). Default 5,000.
   */
  recycleAfter?: number;
  /** Called once the workers have exited, with what each slot's processes used. */
  onUsage?: (usage: WorkerUsage[]) => void;
}

/** Most overlay worker processes one stage starts. */
export const MAX_OVERLAY_WORKERS = 256;

/**
 * The overlay stage with the work in `workers` child processes: `Pair` objects in, `Sample`
 * objects out, as `overlay()` makes them, byte for byte and in input order, whatever the number
 * of workers. Each process has its own JavaScript thread and libvips, so the cores are not
 * shared by one process's threads. Each worker holds two batches of `4 x concurrency / workers`
 * pairs (its images in flight, four times over), and pairs are read only while fewer than twice what
 * the workers hold are in the stage (in a worker, or done and waiting for an earlier one), so
 * memory stays bounded: compressed bytes for those, decoded pixels only for the images in flight. A
 * bad image is recorded and skipped, or ends the stream with `onError: "fail"`, as in
 * `overlay()`; a worker that dies ends the stream with an error naming it. The workers end with
 * the stage, and with this process, even when it is killed.
 *
 * @example
 * await pipeline(join({ photos, masks, photoKeys, maskKeys }), overlayInProcesses({ workers: 4 }),
 *   webDatasetSink({ dir: "shards", name: "celeba" }));
 */
export function overlayInProcesses(
  options: OverlayPoolOptions,
): Duplex & { stats: RunStats; pids: () => number[] } {
  const { samples, stats, pids } = overlayPool(options);
  return Object.assign(Duplex.from(samples), { stats, pids });
}

/** The stage `overlayInProcesses` makes, as a generator function over pairs: no stream of its own. */
export interface OverlayPool {
  samples: (pairs: AsyncIterable<JoinedPhoto>) => AsyncGenerator<Sample>;
  stats: RunStats;
  /** The workers' process ids (started ones). */
  pids: () => number[];
}

/** `overlayInProcesses` without the stream: for a pipeline of generator functions. */
export function overlayPool(options: OverlayPoolOptions): OverlayPool {
  const stats = options.stats ?? new RunStats();
  const resolved = resolveOverlayOptions(options);
  const workers = integerBetween("workers", options.workers, 1, MAX_OVERLAY_WORKERS);
  const pool = new OverlayWorkers(
    workers,
    Math.max(1, Math.round(resolved.concurrency / workers)),
    {
      format: resolved.format,
      quality: resolved.quality,
      optimizeCoding: resolved.optimizeCoding,
      maxPixels: resolved.maxPixels,
      with: resolved.with,
    },
    integerBetween(
      "recycleAfter",
      options.recycleAfter ?? DEFAULT_RECYCLE_AFTER,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
  );
  const window = 2 * pool.capacity;
  const budget = new PixelBudget(resolved.pixelsInFlight);
  // The sizes are read from the headers here, so a pair waits for its pixels before it is sent.
  // An unmasked photo that only passes through (`masked`) is made here: no pixel work.
  const attempt = async (pair: JoinedPhoto): Promise<Sample | OverlayFailure> => {
    const blend = blendsPhoto(pair, resolved);
    if (!needsPixels(pair, blend, resolved)) return attemptOverlay(pair, resolved);
    let sizes: PairSizes | undefined;
    try {
      sizes = pair.mask === undefined ? undefined : checkPairSizes(pair);
    } catch (error) {
      return failureOf(pair, error);
    }
    const release = await budget.take(sizes === undefined ? 0 : pairPixels(sizes));
    try {
      const made = await pool.overlay(pair, blend);
      return "image" in made ? sampleOf(pair, made, blend, resolved) : made;
    } finally {
      release();
    }
  };
  async function* samples(pairs: AsyncIterable<JoinedPhoto>): AsyncGenerator<Sample> {
    let done = false;
    try {
      yield* recordedInOrder(orderedMap(pairs, window, attempt), resolved.onError, stats);
      done = true;
    } finally {
      if (done) options.onUsage?.(await pool.close());
      else pool.destroy();
    }
  }
  return { samples, stats, pids: () => pool.pids };
}
