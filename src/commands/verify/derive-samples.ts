import type { JoinedPhoto } from "../../core/pair.js";
import type { Sample } from "../../core/sample.js";
import { RunStats } from "../../core/stats.js";
import type { RunIdentity } from "../../dataset/run-identity.js";
import type { Labeler } from "../../labels/labeler.js";
import { safeRelativePath } from "../../sinks/folder-names.js";
import { folderFiles } from "../../sinks/folder-sink.js";
import { sampleMembers, type TarMember } from "../../sinks/webdataset-names.js";
import type { Source } from "../../sources/source.js";
import type { OutputFormat } from "../../transforms/encode.js";
import { join } from "../../transforms/join.js";
import { overlaySamples } from "../../transforms/overlay.js";
import { digestOf, type MemberDigest } from "./output-samples.js";

/** What the inputs give for the chosen keys: each sample's members, and why a key gave none. */
export interface DerivedSamples {
  /** By the sample's key: its members by name, as the run writes them now. */
  members: Map<string, Map<string, MemberDigest>>;
  /** By key: why the inputs gave no sample for it (the failure's own words). */
  failures: Map<string, string>;
  /** With `everyPair`: samples the inputs give whose keys the output lacks (a few named). */
  absent: { count: number; examples: string[] };
}

/** Keys of absent samples a proof names; the rest are counted. */
const ABSENT_EXAMPLES = 10;

export interface DeriveOptions {
  labeler?: Labeler | undefined;
  /**
   * Make every pair of the inputs, not only `keys`'s (`--sample all`): the samples the output
   * lacks are then found too. Pairs whose overlay fails again are the run's failures, not lost.
   */
  everyPair?: boolean;
  signal?: AbortSignal;
}

/**
 * The files a sample is in the output: its tar members, or the folder layout's image and its
 * paired parts, named as the sinks name them.
 */
export function outputMembers(sample: Sample, layout: string): TarMember[] {
  if (layout === "folder") {
    return folderFiles(sample).map(({ extension, data }) => ({
      name: safeRelativePath(sample.key, extension),
      data,
    }));
  }
  return sampleMembers(sample);
}

/**
 * Makes the samples of `keys` again through the run's own stages, with the options its
 * identity records: the join by its key rules (only these keys read), the labels, the overlay
 * (format, quality, optimize-coding, max-pixels, and the mix: `with`, `masked`,
 * `keepUnmasked`), and the layout's naming of the members.
 * Only digests are kept, so proving every sample of a large output holds no image in memory.
 */
export async function deriveSamples(
  identity: RunIdentity,
  sources: { photos: Source; masks: Source },
  keys: ReadonlySet<string>,
  options: DeriveOptions = {},
): Promise<DerivedSamples> {
  const derived: DerivedSamples = {
    members: new Map(),
    failures: new Map(),
    absent: { count: 0, examples: [] },
  };
  const stats = new RunStats();
  stats.onFailure = (failure) => {
    if (failure.key !== undefined) derived.failures.set(failure.key, failure.message);
  };
  const pairs = join({
    ...sources,
    photoKeys: identity.keys.photos,
    maskKeys: identity.keys.masks,
    ...(options.everyPair !== true && { keys }),
    keepUnmasked: identity.keepUnmasked === true,
    stats,
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  try {
    const samples = overlaySamples(labelled(pairs, options.labeler), {
      format: identity.format as OutputFormat,
      quality: identity.quality,
      optimizeCoding: identity.optimizeCoding,
      maxPixels: identity.maxPixels,
      // The mix the run recorded: the same samples masked, the same parts beside them.
      ...(identity.with !== undefined && { with: identity.with }),
      ...(identity.masked !== undefined && { masked: identity.masked }),
      ...(identity.keepUnmasked === true && { keepUnmasked: true }),
      onError: "skip",
      stats,
    });
    for await (const sample of samples) {
      if (!keys.has(sample.key)) {
        // A pair the run would write that is not in the output, nor a failure of its own.
        if (derived.absent.examples.length < ABSENT_EXAMPLES)
          derived.absent.examples.push(sample.key);
        derived.absent.count++;
        continue;
      }
      addMembers(derived, sample, identity.layout);
      // Every key answered: a streamed tar need not be read past the last member needed.
      const answered = derived.members.size + derived.failures.size >= keys.size;
      if (answered && options.everyPair !== true) break;
    }
  } finally {
    pairs.destroy();
  }
  return derived;
}

/** A sample's members as digests; a key the layout cannot name is that key's failure. */
function addMembers(derived: DerivedSamples, sample: Sample, layout: string): void {
  let named: TarMember[];
  try {
    named = outputMembers(sample, layout);
  } catch (error) {
    derived.failures.set(sample.key, (error as Error).message);
    return;
  }
  derived.members.set(sample.key, new Map(named.map((m) => [m.name, digestOf(m.data)])));
}

/** Each pair with its label, as the run's labels stage gives it. */
async function* labelled(
  pairs: AsyncIterable<JoinedPhoto>,
  labeler: Labeler | undefined,
): AsyncGenerator<JoinedPhoto> {
  for await (const pair of pairs) {
    yield labeler === undefined
      ? pair
      : { ...pair, label: labeler.label(pair.key, pair.photo.path).label };
  }
}
