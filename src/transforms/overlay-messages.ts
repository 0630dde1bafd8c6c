import type { PairedPart } from "../core/mix.js";
import type { MemberRef } from "../core/sample.js";
import type { EncodeOptions } from "./encode.js";
import type { OverlayFailure } from "./overlay.js";
import type { FrameHeader } from "./overlay-frames.js";

/*
 * What the overlay stage and its worker processes say to each other (overlay-frames.ts carries
 * it). The stage sends one request per pair, photo and mask bytes as the payload; the worker
 * answers each with the encoded image or the failure as a value, in any order, by `id`; when the
 * stage closes the worker's input, the worker sends what it used and exits.
 */

/** What a worker is started with (its first argument, as JSON). */
export interface WorkerSettings extends EncodeOptions {
  maxPixels: number;
  /** The paired parts the worker makes: `mask` has it encode the mask's alpha. */
  with: readonly PairedPart[];
}

/** One pair to overlay: payloads photo, mask (empty for a photo without one). */
export interface OverlayRequest extends FrameHeader {
  id: number;
  key: string;
  photo: MemberRef;
  mask: MemberRef | null;
  /** Put the mask on the photo (false: the photo stays unmasked, `--masked`). */
  blend: boolean;
}

/**
 * A pair's result: the sample's fields with the image (and the mask's alpha PNG, when asked
 * for) as the payloads, or the failure.
 */
export interface OverlayReply extends FrameHeader {
  id: number;
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
  /** The worker's last message: its CPU seconds and peak memory. */
  usage?: WorkerUsage;
}

/** What a worker process used, reported as it exits. */
export interface WorkerUsage {
  cpuSeconds: number;
  peakRssBytes: number;
}
