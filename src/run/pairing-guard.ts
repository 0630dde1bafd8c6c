import { MaskpipeError } from "../core/errors.js";
import { skipReason } from "../core/member-filter.js";
import { redactUrl } from "../core/redact.js";
import type { RunStats, Side } from "../core/stats.js";
import { listedUpFront } from "../sources/list-members.js";
import type { Source } from "../sources/source.js";
import { mixUpError } from "../transforms/data-set-guess.js";
import { keysDoNotMeet } from "../transforms/input-check.js";
import { NO_PAIR_PATIENCE } from "../transforms/keys-meet.js";
import { archiveHint } from "./archive-hint.js";
import type { CheckedRunOptions } from "./run-options.js";

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
 * and stops the run once the join has read NO_PAIR_PATIENCE members and none found its partner's
 * key (a dry run applies the same rule to the listings: dry-run.ts). Returns the
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
  // Swapped inputs, or two data sets' halves, said as such before any work.
  const mixUp = mixUpError(sideNames(options), listed);
  if (mixUp !== undefined) throw mixUp;
  const examples = (): Record<Side, readonly string[]> => ({
    photos:
      stats.unmatchedExamples.photos.length > 0 ? stats.unmatchedExamples.photos : listed.photos,
    masks: stats.unmatchedExamples.masks.length > 0 ? stats.unmatchedExamples.masks : listed.masks,
  });
  stats.onStreamed = () => {
    if (!stats.keysMet && stats.readBeforeKeysMeet >= NO_PAIR_PATIENCE)
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
      `${source.name}: holds no images (${listing.length.toLocaleString("en-US")} members, none a .jpg, .jpeg, .png or .webp file)${archiveHint(source.name, listing)}`,
      { archive: source.name },
    );
  }
  return examples;
}
