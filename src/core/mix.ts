import { createHash } from "node:crypto";
import { MaskpipeError } from "./errors.js";
import { boolean } from "./validate.js";

/** What a sample may carry beside its image: the unmasked photo, the mask's alpha. */
export type PairedPart = "original" | "mask";

/** Every part `--with` takes, in the order a run records them. */
export const PAIRED_PARTS: readonly PairedPart[] = ["original", "mask"];

/**
 * Which photos a run masks and what each sample carries beside its image (issue 25): the
 * options `runPipeline`, `overlay()` and `overlayInProcesses()` share.
 */
export interface MixOptions {
  /**
   * Parts each sample also carries: `original` gives `{key}.orig.jpg` (the photo's bytes as the
   * archive member had them), `mask` gives `{key}.mask.png` (the mask's alpha, one channel, at
   * the mask's size). A list, or the command line's comma list (`"original,mask"`). Default none.
   */
  with?: readonly PairedPart[] | string;
  /**
   * The share of samples that get the masked photo, as a percent (`"30%"`, `"0%"` to `"100%"`):
   * chosen by a hash of the key, so the same keys on every run, partition and archive kind. The
   * rest get the unmasked photo. Each sample's json then says `masked: true|false`. Default: all.
   */
  masked?: string;
  /**
   * Photos without a mask are written too, unmasked (`masked: false`), instead of being left
   * out, so the set keeps every identity's photos. Default false.
   */
  keepUnmasked?: boolean;
}

/** `MixOptions` after the check: the parts in a fixed order, the share as a number. */
export interface CheckedMix {
  with: readonly PairedPart[];
  /** Percent of samples masked, 0-100; undefined without `masked` (every pair is masked). */
  maskedPercent: number | undefined;
  keepUnmasked: boolean;
}

/** The checked form of `options`' mix fields; throws ERR_INVALID_OPTION naming the option. */
export function checkMix(options: MixOptions): CheckedMix {
  return {
    with: checkWith(options.with),
    maskedPercent: options.masked === undefined ? undefined : maskedPercent(options.masked),
    keepUnmasked: boolean("keepUnmasked", options.keepUnmasked ?? false),
  };
}

/** True when samples say whether they are masked (`masked` in their json). */
export function marksMasked(mix: CheckedMix): boolean {
  return mix.maskedPercent !== undefined || mix.keepUnmasked;
}

function checkWith(value: readonly PairedPart[] | string | undefined): readonly PairedPart[] {
  if (value === undefined) return [];
  const given: unknown[] =
    typeof value === "string"
      ? value.split(",").map((part) => part.trim())
      : Array.isArray(value)
        ? [...value]
        : [value];
  const unknown = given.filter((part) => !(PAIRED_PARTS as readonly unknown[]).includes(part));
  if (unknown.length > 0 || (typeof value === "string" && value.trim() === "")) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected original, mask or original,mask for with but received ${JSON.stringify(value)}`,
    );
  }
  return PAIRED_PARTS.filter((part) => given.includes(part));
}

/**
 * The masked share from `30%` (0% to 100%, decimals allowed). A bare number is refused, not
 * guessed at: `30` and `0.3` would each be a plausible reading.
 */
export function maskedPercent(value: unknown): number {
  const match = typeof value === "string" ? /^\s*(\d+(?:\.\d+)?)%\s*$/.exec(value) : null;
  const percent = match === null ? Number.NaN : Number(match[1]);
  if (percent >= 0 && percent <= 100) return percent;
  const bare = typeof value === "number" || (typeof value === "string" && /^\d/.test(value));
  const hint = bare && match === null ? `: write ${String(value).trim()}% for a percent` : "";
  throw new MaskpipeError(
    "ERR_INVALID_OPTION",
    `Expected a percent between 0% and 100% (30%) for masked but received ${JSON.stringify(value)}${hint}`,
  );
}

/**
 * True when `key`'s sample gets the masked photo under `percent` (undefined: every one). From a
 * SHA-256 of the key, salted so the choice is independent of the partition a key falls in (that
 * hashes the bare key): the same keys on every run, machine, partition and archive kind.
 */
export function isMaskedKey(key: string, percent: number | undefined): boolean {
  if (percent === undefined || percent >= 100) return true;
  if (percent <= 0) return false;
  const hash = createHash("sha256").update(`masked\0${key}`).digest().readUInt32BE(0);
  return hash < (percent / 100) * 2 ** 32;
}
