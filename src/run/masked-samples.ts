import type { KeyRule } from "../core/keys.js";
import type { Sample } from "../core/sample.js";
import { RunStats } from "../core/stats.js";
import { openSource } from "../sources/open-source.js";
import type { OpenSourceOptions } from "../sources/opened-source.js";
import { join } from "../transforms/join.js";
import { type OverlayOptions, overlaySamples } from "../transforms/overlay.js";

export interface MaskedSamplesOptions
  extends Omit<OverlayOptions, "stats">,
    Pick<OpenSourceOptions, "http" | "hub" | "sevenZip"> {
  /** The photos: a folder, zip, tar, tar.gz or 7z, local or remote, as `--originals` takes. */
  originals: string;
  /** The mask PNGs, likewise. */
  masks: string;
  photoKeys: KeyRule;
  maskKeys: KeyRule;
  /** Counts of pairs, unmatched, skipped and failed members; one is made if not given. */
  stats?: RunStats;
  /** Ends the iteration (and closes the inputs) when aborted. */
  signal?: AbortSignal;
}

/**
 * The masked samples of two inputs as an async iterable, for an ETL job of one's own: opens both
 * inputs, pairs them, puts each mask on its photo (byte-identical to the reference scripts with
 * the default JPEG settings), in input order, and closes the inputs when the loop ends, breaks
 * or throws. Nothing is written: the caller does what it wants with each sample.
 *
 * @example
 * const controller = new AbortController();
 * for await (const sample of maskedSamples({
 *   originals: "CASIA-WebFace.zip", masks: "CASIA-WebFace_masks.zip",
 *   photoKeys: { depth: 2, suffixes: [] }, maskKeys: { depth: 2, suffixes: ["_mask"] },
 *   signal: controller.signal,
 * })) {
 *   await upload(sample.key, sample.image);
 * }
 */
export async function* maskedSamples(options: MaskedSamplesOptions): AsyncGenerator<Sample> {
  const { signal } = options;
  const stats = options.stats ?? new RunStats();
  const sourceOptions = {
    ...(options.http !== undefined && { http: options.http }),
    ...(options.hub !== undefined && { hub: options.hub }),
    ...(options.sevenZip !== undefined && { sevenZip: options.sevenZip }),
    ...(signal !== undefined && { signal }),
  };
  const photos = await openSource(options.originals, sourceOptions);
  try {
    const masks = await openSource(options.masks, sourceOptions);
    try {
      const pairs = join({
        photos,
        masks,
        photoKeys: options.photoKeys,
        maskKeys: options.maskKeys,
        stats,
        ...(options.keepUnmasked !== undefined && { keepUnmasked: options.keepUnmasked }),
        ...(signal !== undefined && { signal }),
      });
      try {
        for await (const sample of overlaySamples(pairs, { ...options, stats })) {
          // Samples already made must not outlive an abort: the caller asked to stop.
          signal?.throwIfAborted();
          yield sample;
        }
      } finally {
        pairs.destroy();
      }
    } finally {
      await masks.close();
    }
  } finally {
    await photos.close();
  }
}
