import type { PairedPart } from "../core/mix.js";
import type { MemberRef } from "../core/sample.js";
import type { EncodeOptions } from "./encode.js";
import type { OverlayFailure } from "./overlay.js";
import type { FrameHeader } from "./overlay-frames.js";

/*
 * What the overlay stage and its worker processes say to each other (overlay-frames.ts carries
 * it). The stage sends pairs in batches, one frame a batch with each pair's photo and mask bytes
 * as two payloads; the worker runs `running` pairs at once and answers each batch with one frame
 * once all its pairs are done, the encoded images or the failures as values, by `id`. A frame a
 * batch rather than a pair: each frame wakes the process that reads it, and on a machine whose
 * cores are all busy those wakeups, not the bytes, were most of what the pipes cost. When the
 * stage closes the worker's input, the worker sends what it used and exits.
 */

/** What a worker is started with (its first argument, as JSON). */
export interface WorkerSettings extends EncodeOptions {
  maxPixels: number;
  /** The paired parts the worker makes: `mask` has it encode the mask's alpha. */
  with: readonly PairedPart[];
  /** Pairs the worker decodes and encodes at once; the rest of a batch waits its turn. */
  running: number;
}

/** One pair to overlay; its payloads are the photo's bytes and the mask's (empty without one). */
export interface OverlayRequest {
  id: number;
  key: string;
  photo: MemberRef;
  mask: MemberRef | null;
  /** Put the mask on the photo (false: the photo stays unmasked, `--masked`). */
  blend: boolean;
}

/** A batch of pairs: payloads two a pair, in order. */
export interface OverlayRequestBatch extends FrameHeader {
  requests: OverlayRequest[];
}

/**
 * A pair's result: the sample's fields with the image (and the mask's alpha PNG, when asked
 * for) as `parts` payloads, or the failure.
 */
export interface OverlayReply {
  id: number;
  /** How many of the frame's payloads are this pair's: 0, 1 (image) or 2 (image, alpha PNG). */
  parts: number;
  sample?: {
    width: number;
    height: number;
    maskWidth: number;
    maskHeight: number;
    extension: string;
  };
  failure?: OverlayFailure;
  /** An unexpected error (not a bad image): it ends the run, as it would in one process. */
  fatal?: string;
}

/** A batch's results, in any order, payloads in the order of `replies`; or the last message. */
export interface OverlayReplyBatch extends FrameHeader {
  replies: OverlayReply[];
  /** The worker's last message: its CPU seconds and peak memory. */
  usage?: WorkerUsage;
}

/** What a worker process used, reported as it exits. */
export interface WorkerUsage {
  cpuSeconds: number;
  peakRssBytes: number;
}
