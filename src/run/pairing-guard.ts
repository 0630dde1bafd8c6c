import { MaskpipeError } from "../core/errors.js";
import { skipReason } from "../core/member-filter.js";
import { redactUrl } from "../core/redact.js";
import type { RunStats, Side } from "../core/stats.js";
import { listedUpFront } from "../sources/list-members.js";
import type { Source } from "../sources/source.js";
import { keysDoNotMeet } from "../transforms/input-check.js";
import type { CheckedRunOptions } from "./run-options.js";

/**
 * Unmatched members with no pair yet before a run stops, sure the inputs do not belong
 * together: real CelebA and CASIA-WebFace inputs pair from their first members.
 */
const NO_PAIR_PATIENCE = 1000;

/** Example members of a side the key-mismatch message shows. */
const EXAMPLES = 3;

/** Each side's name as messages show it (redacted) and its key rule, for the input checks. */
export function sideNames(options: CheckedRunOptions) {
  return {
    photoKeys: options.photoKeys,
    maskKeys: options.maskKeys,
    photosName: redactUrl(options.originals),
    masksName: redactUrl(options.masks),
  };
}

/**
 * Watches the join for inputs that never pair: refuses a side with no image before any work,
 * and stops the run once NO_PAIR_PATIENCE members found no partner and none did. Returns the
 * example members of each side a key-mismatch message shows.
 */
export async function guardPairing(
  options: CheckedRunOptions,
  sides: { photos: Source; masks: Source },
  stats: RunStats,
  signal?: AbortSignal,
): Promise<() => Record<Side, readonly string[]>> {
  const listed = {
    photos: await imageExamples(sides.photos, signal),
    masks: await imageExamples(sides.masks, signal),
  };
  const examples = (): Record<Side, readonly string[]> => ({
    photos:
      stats.unmatchedExamples.photos.length > 0 ? stats.unmatchedExamples.photos : listed.photos,
    masks: stats.unmatchedExamples.masks.length > 0 ? stats.unmatchedExamples.masks : listed.masks,
  });
  stats.onUnmatched = () => {
    if (stats.pairs === 0 && stats.photosWithoutMask + stats.masksWithoutPhoto >= NO_PAIR_PATIENCE)
      throw keysDoNotMeet(sideNames(options), examples());
  };
  return examples;
}

/**
 * A few image members of a side that can be listed (for a message about keys that never meet);
 * refuses a side with no image at all before any work.
 */
async function imageExamples(source: Source, signal?: AbortSignal): Promise<string[]> {
  const listing = await listedUpFront(source, signal);
  if (listing === undefined) return [];
  const examples: string[] = [];
  for (const member of listing) {
    if (skipReason(member.path, member.kind) !== undefined) continue;
    examples.push(member.path);
    if (examples.length >= EXAMPLES) return examples;
  }
  if (examples.length === 0) {
    throw new MaskpipeError(
      "ERR_INPUTS_MISMATCH",
      `${source.name}: holds no images (${listing.length.toLocaleString("en-US")} members, none a .jpg, .jpeg, .png or .webp file)`,
      { archive: source.name },
    );
  }
  return examples;
}
