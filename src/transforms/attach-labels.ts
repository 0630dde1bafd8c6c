import { Transform } from "node:stream";
import type { JoinedPhoto } from "../core/pair.js";
import { RunStats } from "../core/stats.js";
import type { Labeler } from "../labels/labeler.js";

export interface AttachLabelsOptions {
  labeler: Labeler;
  /** A photo missing from an annotation file fails (not written) instead of going on unlabelled. */
  strict?: boolean;
  stats?: RunStats;
}

/**
 * Gives each pair its label (class, identity, split, annotations) before any decoding. A photo
 * missing from an annotation file is counted by what it lacks and goes on with `cls` -1 and
 * null fields, or, with `strict`, is recorded as a failure and left out.
 *
 * @example
 * pipeline(join(...), attachLabels({ labeler }), overlay(), webDatasetSink(...))
 */
export function attachLabels(options: AttachLabelsOptions): Transform {
  const stats = options.stats ?? new RunStats();
  return new Transform({
    objectMode: true,
    highWaterMark: 1,
    transform(pair: JoinedPhoto, _encoding, callback) {
      let labelled: JoinedPhoto | undefined;
      try {
        labelled = labelPair(pair, options, stats);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, labelled);
    },
  });
}

/**
 * One pair with its label, or undefined when `strict` leaves it out (recorded in `stats`):
 * what `attachLabels` does to each pair, for a stage that does more than label.
 */
export function labelPair(
  pair: JoinedPhoto,
  options: AttachLabelsOptions,
  stats: RunStats,
): JoinedPhoto | undefined {
  const { label, missing } = options.labeler.label(pair.key, pair.photo.path);
  stats.labelMissing(missing);
  if (missing.length > 0 && options.strict === true) {
    stats.fail({
      key: pair.key,
      archive: pair.photo.archive,
      member: pair.photo.path,
      stage: "label",
      code: "ERR_LABEL_MISSING",
      message: `${pair.photo.archive}: ${pair.photo.path}: no ${missing.join(", ")} in the annotation files (--strict-labels)`,
    });
    return undefined;
  }
  return { ...pair, label };
}
