import { cpuSecondsUsed, mainThreadCpuSeconds, peakRssBytes } from "../core/process-usage.js";
import { publicName } from "../core/redact.js";
import type { RunStats, SampleKinds } from "../core/stats.js";
import type { HubStats } from "../sinks/hub/hub-stats.js";
import type { ShardInfo } from "../sinks/sink.js";
import { SPLIT_ORDER } from "../sinks/split-sink.js";
import type { HttpStats } from "../sources/http/http-client.js";
import { publishedIdentity, type RunIdentity } from "./run-identity.js";
import type { RunProblem } from "./run-verdict.js";

/** What a run did, written as report.json and printed as the summary. */
export interface RunReport {
  maskpipe: string;
  name: string;
  originals: string;
  masks: string;
  out: string;
  layout: string;
  /** How the two sides were paired: `lookup-masks`, `lookup-photos` or `merge`. */
  join: string;
  /** What made this output: compared by `--resume`. */
  identity: RunIdentity;
  /** A `--dry-run`: both inputs listed and paired, nothing decoded or written. */
  dryRun?: boolean;
  /** A trial run stopped after this many pairs (`--limit`). */
  limit?: number;
  pairs: number;
  /** Samples in the output that this run wrote (shards: complete shards only). */
  written: number;
  /** Samples made but lost with the shard an interruption left unfinished; `--resume` redoes them. */
  unfinished: number;
  masksWithoutPhoto: number;
  photosWithoutMask: number;
  /** Pairs written whose mask and photo sizes differ (the mask was clipped or covers part). */
  sizeMismatches: number;
  /** Samples kept from an earlier, interrupted run (--resume). */
  resumed: number;
  /**
   * A run that mixes (`--masked`, `--keep-unmasked`): the samples this run made of each kind
   * (masked, unmasked, unmasked without a mask), kept ones not counted.
   */
  kinds?: SampleKinds;
  /** True when --resume found the run already complete and did nothing. */
  nothingToDo?: boolean;
  skipped: number;
  skippedByReason: Record<string, number>;
  failed: number;
  failedByReason: Record<string, number>;
  /** One message of each failure reason. */
  failureExamples: Record<string, string>;
  /**
   * Why the output is not complete and trustworthy (nothing written, too many failed pairs, masks
   * that found no photo); empty when it is. The CLI exits 3 when there are any.
   */
  problems: RunProblem[];
  unmatchedExamples: { photos: string[]; masks: string[] };
  seconds: number;
  imagesPerSecond: number;
  peakRssBytes: number;
  /** CPU time of the whole process (user + system, all threads). */
  cpuSeconds: number;
  /** CPU time of this process's JavaScript thread alone (Linux). */
  mainThreadCpuSeconds?: number;
  /**
   * The processes the overlay ran in (`overlayWorkers`; 1 is this process itself). With more,
   * the child processes' CPU seconds and the sum of their peak memory, not counted in
   * `cpuSeconds` and `peakRssBytes`. Not part of the identity: the bytes are the same whatever
   * the count.
   */
  overlayWorkers?: { count: number; cpuSeconds?: number; peakRssBytes?: number };
  /**
   * The node that ran it, its flags (the command's worker runs with HEAP_FLAGS), and libuv's
   * thread pool size, which caps the cores sharp uses (the command sizes it: thread-pool.ts).
   */
  node: { version: string; flags: string[]; threadPool: number };
  interrupted: boolean;
  /** Complete shards, named as the index names them (`train/...` with splits); MD5 for the index. */
  shards: ShardInfo[];
  /** Requests, retries and bytes read over the network, per remote source. */
  network: { originals?: HttpStats; masks?: HttpStats };
  /**
   * Labels, when the run was asked for them: where identities came from, the class count, the
   * annotation files used and those not found, photos missing from them (by what they lack),
   * annotations that found no photo. `mode: "none"`: asked for CelebA's annotations, it found
   * none, so the samples have no `.cls` (hasLabels).
   */
  labels?: {
    mode: string;
    source: string;
    classes: number;
    annotations: string[];
    missing: Record<string, number>;
    annotationsWithoutPhoto: number;
    /** Annotation files looked for and not found: `splits (list_eval_partition.txt)`. */
    notFound?: string[];
    /**
     * Where the label files were read (absolute paths, URLs redacted; file names only once
     * published), so `verify --inputs` can read them again: the identity has only their hashes.
     */
    from?: LabelSources;
  };
  /** With splits: each split's samples (kept and written) and shards. */
  splits?: Record<string, { samples: number; shards: number }>;
  /** The 7-Zip that read a 7z input: its path, version and where it came from. */
  sevenZip?: { path: string; version: string; origin: string };
  /** Publishing to a Hub repo: commits, shards uploaded and unchanged, requests, retries. */
  hub?: HubStats;
  /** What the run left alone in its output, and why (a README.md that is the user's). */
  notes?: string[];
  /** The `maskpipe run` arguments that made it (a token left out), when the command ran it. */
  command?: string;
  /**
   * A partition's report: which one. A merged report: how many partitions it joins (their own
   * reports stay in `partitions/`); its time is the slowest partition's, its CPU their sum.
   */
  partition?: { index: number; count: number } | { count: number; merged: true };
}

/** The label files a run was given, as its report records them. */
export interface LabelSources {
  /** `--annotations`: a CelebA folder, or an archive of its files. */
  annotations?: string;
  /** Each annotation file given by itself (`--identities`, ...). */
  annotationFiles?: Partial<Record<string, string>>;
  /** `--classes`: the class list. */
  classes?: string;
}

/** What buildReport takes beyond the counts: the report's own fields, as the run knows them. */
export interface ReportContext
  extends Pick<
    RunReport,
    | "identity"
    | "dryRun"
    | "limit"
    | "written"
    | "name"
    | "originals"
    | "masks"
    | "out"
    | "layout"
    | "join"
    | "seconds"
    | "interrupted"
    | "network"
  > {
  version: string;
  shards: readonly ShardInfo[];
}

/** Samples and shards per split, from shard names `train/celeba-000000.tar`. */
export function splitCounts(
  shards: readonly { name: string; samples: number }[],
): Record<string, { samples: number; shards: number }> {
  const counts: Record<string, { samples: number; shards: number }> = {};
  for (const split of SPLIT_ORDER) {
    for (const shard of shards.filter((s) => s.name.startsWith(`${split}/`))) {
      counts[split] ??= { samples: 0, shards: 0 };
      counts[split].samples += shard.samples;
      counts[split].shards++;
    }
  }
  return counts;
}

/** True when the samples of the output carry labels (`.cls`, and classes.txt beside them). */
export function hasLabels(report: Pick<RunReport, "labels">): boolean {
  return report.labels !== undefined && report.labels.mode !== "none";
}

function mainThread(): { mainThreadCpuSeconds?: number } {
  const seconds = mainThreadCpuSeconds();
  return seconds === undefined ? {} : { mainThreadCpuSeconds: Math.round(seconds * 1000) / 1000 };
}

/** True when the run's samples say whether they are masked (`--masked`, `--keep-unmasked`). */
export function mixes(identity: RunIdentity | undefined): boolean {
  return identity?.masked !== undefined || identity?.keepUnmasked === true;
}

/** libuv's thread pool when UV_THREADPOOL_SIZE does not say. */
const LIBUV_DEFAULT_POOL = 4;

export function buildReport(stats: RunStats, context: ReportContext): RunReport {
  const { version, seconds, shards, written, ...rest } = context;
  return {
    maskpipe: version,
    ...rest,
    pairs: stats.pairs,
    written,
    unfinished: stats.written - written,
    masksWithoutPhoto: stats.masksWithoutPhoto,
    photosWithoutMask: stats.photosWithoutMask,
    sizeMismatches: stats.sizeMismatches,
    resumed: stats.resumed,
    ...(mixes(context.identity) && { kinds: { ...stats.kinds } }),
    skipped: stats.skipped,
    skippedByReason: { ...stats.skippedByReason },
    failed: stats.failed,
    failedByReason: { ...stats.failedByReason },
    failureExamples: { ...stats.failureExamples },
    problems: [],
    unmatchedExamples: stats.unmatchedExamples,
    seconds: Math.round(seconds * 1000) / 1000,
    imagesPerSecond: seconds > 0 ? Math.round((written / seconds) * 10) / 10 : 0,
    peakRssBytes: peakRssBytes(),
    cpuSeconds: Math.round(cpuSecondsUsed() * 1000) / 1000,
    ...mainThread(),
    node: {
      version: process.version,
      flags: [...process.execArgv],
      threadPool: Number(process.env.UV_THREADPOOL_SIZE ?? LIBUV_DEFAULT_POOL),
    },
    interrupted: context.interrupted,
    shards: shards.map(({ name, samples, bytes, sha256, md5 }) => ({
      name,
      samples,
      bytes,
      sha256,
      md5,
    })),
    network: {
      ...(context.network.originals && { originals: { ...context.network.originals } }),
      ...(context.network.masks && { masks: { ...context.network.masks } }),
    },
  };
}

function publicFlag(flag: string): string {
  const at = flag.indexOf("=");
  const value = flag.slice(at + 1);
  if (!value.includes("/") && !value.includes("\\")) return flag;
  return `${flag.slice(0, at + 1)}${publicName(value)}`;
}

/**
 * The report as a published file (a Hub repo's report.json, a dataset card) holds it: local
 * paths (inputs, output, label files, the 7-Zip binary) reduced to file names, URLs redacted.
 */
export function publishedReport(report: RunReport): RunReport {
  return {
    ...report,
    originals: publicName(report.originals),
    masks: publicName(report.masks),
    out: publicName(report.out),
    // A flag may name a file (`--require /home/me/hook.cjs`): its name only.
    node: { ...report.node, flags: report.node.flags.map(publicFlag) },
    ...(report.identity !== undefined && { identity: publishedIdentity(report.identity) }),
    ...(report.labels !== undefined && {
      labels: {
        ...report.labels,
        source: publicName(report.labels.source),
        ...(report.labels.from !== undefined && { from: publishedSources(report.labels.from) }),
      },
    }),
    ...(report.sevenZip !== undefined && {
      sevenZip: { ...report.sevenZip, path: publicName(report.sevenZip.path) },
    }),
  };
}

/** Label sources as a published report holds them: file names, URLs redacted. */
function publishedSources(from: LabelSources): LabelSources {
  const files = Object.entries(from.annotationFiles ?? {}).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
  return {
    ...(from.annotations !== undefined && { annotations: publicName(from.annotations) }),
    ...(files.length > 0 && {
      annotationFiles: Object.fromEntries(files.map(([kind, spec]) => [kind, publicName(spec)])),
    }),
    ...(from.classes !== undefined && { classes: publicName(from.classes) }),
  };
}
