import { Duplex } from "node:stream";
import { type ErrorCode, MaskpipeError, where } from "../core/errors.js";
import { type CheckedMix, checkMix, type MixOptions } from "../core/mix.js";
import type { JoinedPhoto, MemberData } from "../core/pair.js";
import type { Sample } from "../core/sample.js";
import { type FailureRecord, RunStats } from "../core/stats.js";
import { defaultConcurrency } from "../core/thread-pool.js";
import { boolean, integerBetween, oneOf } from "../core/validate.js";
import { blendMaskInto, type RawPixels } from "./blend.js";
import { decodeMask, decodePhoto, ImageProblem } from "./decode.js";
import { type EncodeOptions, encodeRgb, FILE_EXTENSION, type OutputFormat } from "./encode.js";
import { imageSize } from "./image-size.js";
import { checkPairSizes, pairPixels } from "./mask-size.js";
import { orderedMap } from "./ordered-map.js";
import { PixelBudget } from "./pixel-budget.js";
import {
  alphaPng,
  blendsPhoto,
  keepsPhotoBytes,
  type MadeImages,
  needsPixels,
  passedThrough,
  sampleOf,
} from "./sample-parts.js";

export type OnError = "skip" | "fail";

export interface OverlayOptions extends MixOptions {
  /** Output format. Default `jpeg` (byte-identical to the reference scripts' files). */
  format?: OutputFormat;
  /** JPEG/WebP quality 1-100. Default 95, OpenCV's default. */
  quality?: number;
  /** Optimised JPEG Huffman tables: smaller, slower, not reference-identical. Default false. */
  optimizeCoding?: boolean;
  /**
   * Images in flight at once. Default: twice the number of cores. sharp runs each image on one
   * thread of libuv's pool, so images in flight are what use the cores, up to the pool's size:
   * start the process with UV_THREADPOOL_SIZE at least this (`threadPoolSize`; the `maskpipe`
   * command does it), or a big machine uses 4 cores.
   */
  concurrency?: number;
  /** Largest photo or mask, in pixels, that is decoded. Default 100 million. */
  maxPixels?: number;
  /**
   * Pixels (photos and masks, from their headers) decoded at once across the images in flight;
   * a pair waits until its pixels fit, and one larger than this runs alone. Default 100 million
   * (about 700 MB of raw pixels; CelebA-sized pairs never wait).
   */
  pixelsInFlight?: number;
  /** `skip`: record a bad image and go on (default); `fail`: stop the run. */
  onError?: OnError;
  stats?: RunStats;
}

export const OVERLAY_DEFAULTS = {
  format: "jpeg",
  quality: 95,
  optimizeCoding: false,
  concurrency: defaultConcurrency(),
  maxPixels: 100_000_000,
  pixelsInFlight: 100_000_000,
  onError: "skip",
} as const;

export interface ResolvedOverlay extends EncodeOptions, CheckedMix {
  concurrency: number;
  maxPixels: number;
  pixelsInFlight: number;
  onError: OnError;
}

export function resolveOverlayOptions(options: OverlayOptions = {}): ResolvedOverlay {
  return {
    format: oneOf("format", options.format ?? OVERLAY_DEFAULTS.format, ["jpeg", "png", "webp"]),
    quality: integerBetween("quality", options.quality ?? OVERLAY_DEFAULTS.quality, 1, 100),
    optimizeCoding: boolean(
      "optimizeCoding",
      options.optimizeCoding ?? OVERLAY_DEFAULTS.optimizeCoding,
    ),
    concurrency: integerBetween(
      "concurrency",
      options.concurrency ?? OVERLAY_DEFAULTS.concurrency,
      1,
      256,
    ),
    maxPixels: integerBetween(
      "maxPixels",
      options.maxPixels ?? OVERLAY_DEFAULTS.maxPixels,
      1,
      2 ** 40,
    ),
    pixelsInFlight: integerBetween(
      "pixelsInFlight",
      options.pixelsInFlight ?? OVERLAY_DEFAULTS.pixelsInFlight,
      1,
      2 ** 40,
    ),
    onError: oneOf("onError", options.onError ?? OVERLAY_DEFAULTS.onError, ["skip", "fail"]),
    ...checkMix(options),
  };
}

/**
 * Puts one pair's mask on its photo and encodes the result. Throws a MaskpipeError naming the
 * archive and member when an image cannot be decoded. With `masked` or a photo without a mask,
 * the sample may be the unmasked photo; `with` adds the paired parts (sample-parts.ts).
 */
export async function overlayPair(
  pair: JoinedPhoto,
  options: OverlayOptions = {},
): Promise<Sample> {
  return overlayResolved(pair, resolveOverlayOptions(options));
}

async function overlayResolved(
  item: JoinedPhoto,
  options: ResolvedOverlay,
  budget?: PixelBudget,
): Promise<Sample> {
  const blend = blendsPhoto(item, options);
  if (!needsPixels(item, blend, options)) {
    return sampleOf(item, passedThrough(item, options.format), blend, options);
  }
  // A mask far larger than its photo is refused before its pixels take any memory.
  const pixels = item.mask === undefined ? 0 : pairPixels(checkPairSizes(item));
  const release = await budget?.take(pixels);
  try {
    return sampleOf(item, await madeImages(item, blend, options), blend, options);
  } finally {
    release?.();
  }
}

/**
 * The pixel work for one photo, where the blend is done (this process or an overlay worker):
 * decode what is needed, blend when `blend`, encode, and the mask's alpha PNG with `with` mask.
 */
export async function madeImages(
  item: JoinedPhoto,
  blend: boolean,
  options: ResolvedOverlay,
): Promise<MadeImages> {
  const { photo: photoMember, mask: maskMember } = item;
  const maskPng = options.with.includes("mask");
  const decodesPhoto = blend || !keepsPhotoBytes(photoMember.data, options.format);
  // Both decodes run at once; when both fail, the photo is blamed, so the report is the same
  // on every run.
  const [photoResult, maskResult] = await Promise.allSettled([
    decodesPhoto
      ? decoded(photoMember, () => decodePhoto(photoMember.data, options.maxPixels))
      : undefined,
    maskMember !== undefined && (blend || maskPng)
      ? decoded(maskMember, () => decodeMask(maskMember.data, options.maxPixels))
      : undefined,
  ]);
  if (photoResult.status === "rejected") throw photoResult.reason;
  if (maskResult.status === "rejected") throw maskResult.reason;
  const photo = photoResult.value;
  const mask = maskResult.value;
  if (photo === undefined) {
    // Not decoded: the photo's own bytes are the image.
    const kept = passedThrough(item, options.format);
    return { ...kept, ...(maskPng && { maskAlpha: await alphaPng(mask, kept) }) };
  }
  if (mask !== undefined && blend) blendMaskInto(photo, mask);
  const maskSize = mask ?? (maskMember === undefined ? undefined : imageSize(maskMember.data));
  return {
    width: photo.width,
    height: photo.height,
    maskWidth: (maskSize ?? photo).width,
    maskHeight: (maskSize ?? photo).height,
    extension: FILE_EXTENSION[options.format],
    image: await encoded(item.key, photo, options),
    ...(maskPng && { maskAlpha: await alphaPng(mask, photo) }),
  };
}

async function encoded(key: string, photo: RawPixels, options: EncodeOptions): Promise<Buffer> {
  try {
    return await encodeRgb(photo, options);
  } catch (cause) {
    throw new MaskpipeError(
      "ERR_IMAGE_ENCODE",
      `${key}: encoding failed: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

async function decoded<T>(member: MemberData, decode: () => Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (cause) {
    const detail =
      cause instanceof ImageProblem ? cause.message : `cannot decode: ${(cause as Error).message}`;
    throw new MaskpipeError(
      "ERR_IMAGE_DECODE",
      `${where(member.archive, member.path)}: ${detail}`,
      {
        archive: member.archive,
        member: member.path,
        cause,
      },
    );
  }
}

/**
 * The overlay stage: `Pair` objects in, `Sample` objects out, in input order, with
 * `concurrency` images in flight. A bad image is recorded in `stats` and skipped, or ends the
 * stream with `onError: "fail"`.
 *
 * @example
 * await pipeline(join({ photos, masks, photoKeys, maskKeys }), overlay({ concurrency: 4 }),
 *   webDatasetSink({ dir: "shards", name: "celeba" }));
 */
export function overlay(options: OverlayOptions = {}): Duplex & { stats: RunStats } {
  const stats = options.stats ?? new RunStats();
  const resolved = { ...options, stats };
  resolveOverlayOptions(resolved); // checked when the stage is made, not at the first pair
  const stage = Duplex.from((pairs: AsyncIterable<JoinedPhoto>) => overlaySamples(pairs, resolved));
  return Object.assign(stage, { stats });
}

/**
 * The overlay as an async generator: pairs in, samples out in input order, `concurrency`
 * images in flight. What `overlay()` wraps as a stream, for code that iterates instead.
 */
export async function* overlaySamples(
  pairs: AsyncIterable<JoinedPhoto>,
  options: OverlayOptions = {},
): AsyncGenerator<Sample> {
  const resolved = resolveOverlayOptions(options);
  const stats = options.stats ?? new RunStats();
  const budget = new PixelBudget(resolved.pixelsInFlight);
  yield* recordedInOrder(
    orderedMap(pairs, resolved.concurrency, (pair) => attemptOverlay(pair, resolved, budget)),
    resolved.onError,
    stats,
  );
}

/** A failed pair as a value: which member of it, at which stage, with the error's own words. */
export type OverlayFailure = FailureRecord & { stage: "decode" | "encode" };

/**
 * One pair's overlay, an expected failure (a MaskpipeError: a bad image) returned as a value;
 * anything else is thrown.
 */
export async function attemptOverlay(
  pair: JoinedPhoto,
  options: ResolvedOverlay,
  budget?: PixelBudget,
): Promise<Sample | OverlayFailure> {
  try {
    return await overlayResolved(pair, options, budget);
  } catch (error) {
    return failureOf(pair, error);
  }
}

/** A bad image's error as the pair's failure; anything else is thrown again. */
export function failureOf(pair: JoinedPhoto, error: unknown): OverlayFailure {
  if (!(error instanceof MaskpipeError)) throw error;
  const member =
    pair.mask !== undefined &&
    error.member === pair.mask.path &&
    error.archive === pair.mask.archive
      ? pair.mask
      : pair.photo;
  return {
    key: pair.key,
    archive: member.archive,
    member: member.path,
    stage: error.code === "ERR_IMAGE_ENCODE" ? "encode" : "decode",
    code: error.code,
    message: error.message,
  };
}

/**
 * Results in input order into samples: failures are recorded in `stats` (so errors.jsonl is the
 * same on every run whatever finished first) and skipped, or end the stream with
 * `onError: "fail"`; mask sizes that differ from their photo's are counted, and in a run that
 * mixes, the samples of each kind.
 */
export async function* recordedInOrder(
  results: AsyncIterable<Sample | OverlayFailure>,
  onError: OnError,
  stats: RunStats,
): AsyncGenerator<Sample> {
  for await (const result of results) {
    if (!("image" in result)) {
      if (onError === "fail") {
        throw new MaskpipeError(result.code as ErrorCode, result.message, {
          archive: result.archive,
          member: result.member,
        });
      }
      stats.fail(result);
      continue;
    }
    if (result.maskWidth !== result.width || result.maskHeight !== result.height)
      stats.sizeMismatches++;
    if (result.masked !== undefined) stats.made(result.masked, result.mask !== undefined);
    yield result;
  }
}
