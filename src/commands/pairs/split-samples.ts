import { MaskpipeError } from "../../core/errors.js";
import type { OutputFiles } from "../../dataset/output-files.js";
import { hasLabels, type RunReport } from "../../dataset/report.js";
import { RUN_FILES } from "../../dataset/run-files.js";
import { splitMemberName } from "../../sinks/webdataset-names.js";
import { FILE_EXTENSION, type OutputFormat } from "../../transforms/encode.js";
import { listOutputShards } from "../verify/output-shards.js";
import { tarMembers } from "../verify/tar-members.js";

/** The member extension of a sample's unmasked photo, when the run wrote it (`--with original`). */
export const ORIGINAL_EXTENSION = "orig.jpg";

/** One sample of a split, as a pair list names it. */
export interface PairSample {
  /** The key its json records (the photo's path without extension). */
  key: string;
  /** The key as its members are named in the shard (`webDatasetKey`). */
  memberKey: string;
  /** The shard that holds it, relative to the output. */
  shard: string;
  identity: string;
  /** Its image member is a masked photo: true unless its json says `masked: false`. */
  masked: boolean;
  /** It carries its unmasked photo as `{key}.orig.jpg`. */
  hasOriginal: boolean;
}

/** The samples of a split with a known identity, and what was left out. */
export interface SplitSamples {
  /** The image member's extension (`jpg`, `png`, `webp`). */
  imageExtension: string;
  samples: PairSample[];
  /** Samples whose identity is unknown (null): they cannot be in a pair. */
  unknownIdentity: number;
}

/** The run's report, read from the output; refused when it is missing or has no identities. */
export async function labelledReport(files: OutputFiles): Promise<RunReport> {
  const text = await files.text(RUN_FILES.report);
  if (text === undefined) {
    throw new MaskpipeError(
      "ERR_OUTPUT",
      `${files.where}: has no ${RUN_FILES.report}: pairs are chosen among a finished run's samples; finish (or --resume) the run first`,
      { archive: files.where },
    );
  }
  const report = JSON.parse(text) as RunReport;
  if (!hasLabels(report)) {
    throw new MaskpipeError(
      "ERR_OUTPUT",
      `${files.where}: its samples have no identities (the run ${report.name} had no labels), so no same- or different-identity pair can be told; make the output with labels (CASIA's identity folders, or CelebA's --annotations)`,
      { archive: files.where },
    );
  }
  if (report.interrupted) {
    throw new MaskpipeError(
      "ERR_OUTPUT",
      `${files.where}: the run ${report.name} that made it was interrupted (${RUN_FILES.report}): resume it with the same maskpipe run command and --resume, then make the pairs of the whole output`,
      { archive: files.where },
    );
  }
  if (report.layout === "folder") {
    throw new MaskpipeError(
      "ERR_OUTPUT",
      `${files.where}: is a --layout folder tree; pairs are chosen among the samples of WebDataset shards`,
      { archive: files.where },
    );
  }
  return report;
}

/**
 * The split a list is made of: `split` must be one of the run's (named otherwise); a run
 * without splits takes none. Returns the split, `undefined` for a run without splits.
 */
export function checkSplit(
  where: string,
  report: RunReport,
  split: string | undefined,
): string | undefined {
  const splits = Object.keys(report.splits ?? {});
  if (splits.length === 0) {
    if (split === undefined) return undefined;
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected no split: ${where} has none (its samples are one set); leave out --split`,
    );
  }
  if (split !== undefined && splits.includes(split)) return split;
  throw new MaskpipeError(
    "ERR_INVALID_OPTION",
    `Expected one of the splits of ${where} (${splits.join(", ")}) for split but received ${split === undefined ? "none" : JSON.stringify(split)}`,
  );
}

/**
 * Reads every sample of `split` (all of them for a run without splits) from the shards its
 * index lists: the json's key, identity and `masked`, and whether an `orig.jpg` is there.
 * Sorted by key, so the list depends on the samples, not on the shards' order.
 */
export async function readSplitSamples(
  files: OutputFiles,
  report: RunReport,
  split: string | undefined,
): Promise<SplitSamples> {
  const listed = await listOutputShards(files, report);
  if (listed.problems.length > 0) {
    throw new MaskpipeError(
      "ERR_OUTPUT",
      `${files.where}: ${listed.problems.join("; ")}; run maskpipe verify on it`,
      { archive: files.where },
    );
  }
  const imageExtension = FILE_EXTENSION[(report.identity?.format ?? "jpeg") as OutputFormat];
  const samples: PairSample[] = [];
  let unknownIdentity = 0;
  for (const shard of listed.shards.filter((listedShard) => listedShard.split === split)) {
    const input = await files.stream(shard.path);
    if (input === undefined) {
      throw new MaskpipeError("ERR_OUTPUT", `${files.where}: ${shard.path}: missing`, {
        archive: files.where,
        member: shard.path,
      });
    }
    const inShard = new Map<string, { json?: Buffer; hasOriginal: boolean }>();
    for await (const member of tarMembers(input)) {
      const { key, extension } = splitMemberName(member.name);
      const sample = inShard.get(key) ?? { hasOriginal: false };
      if (extension === "json") sample.json = member.data;
      if (extension === ORIGINAL_EXTENSION) sample.hasOriginal = true;
      inShard.set(key, sample);
    }
    for (const [memberKey, { json, hasOriginal }] of inShard) {
      const where = `${shard.path}: ${memberKey}.json`;
      const metadata = parseJson(files.where, where, json);
      if (typeof metadata.identity !== "string") {
        unknownIdentity++;
        continue;
      }
      samples.push({
        key: typeof metadata.key === "string" ? metadata.key : memberKey,
        memberKey,
        shard: shard.path,
        identity: metadata.identity,
        masked: metadata.masked !== false,
        hasOriginal,
      });
    }
  }
  samples.sort((a, b) => (a.memberKey < b.memberKey ? -1 : a.memberKey > b.memberKey ? 1 : 0));
  return { imageExtension, samples, unknownIdentity };
}

function parseJson(
  output: string,
  where: string,
  json: Buffer | undefined,
): { key?: unknown; identity?: unknown; masked?: unknown } {
  if (json === undefined) {
    throw new MaskpipeError("ERR_OUTPUT", `${output}: ${where}: missing; run maskpipe verify`, {
      archive: output,
      member: where,
    });
  }
  try {
    const value: unknown = JSON.parse(json.toString("utf8"));
    if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
  } catch {
    // said below
  }
  throw new MaskpipeError("ERR_OUTPUT", `${output}: ${where}: not a JSON object`, {
    archive: output,
    member: where,
  });
}
