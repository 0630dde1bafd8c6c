import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join as joinPath, resolve } from "node:path";
import { PassThrough, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { abortable } from "../core/abortable.js";
import { type ErrorCode, MaskpipeError } from "../core/errors.js";
import { jsonText } from "../core/json-text.js";
import type { KeyRule } from "../core/keys.js";
import { removeMadeDirectories } from "../core/make-directory.js";
import { skipReason } from "../core/member-filter.js";
import { type Partition, partitionShardSet } from "../core/partition.js";
import { publishedText, Redactor, redactUrl } from "../core/redact.js";
import { RunStats, type Side } from "../core/stats.js";
import { VERSION } from "../core/version.js";
import { datasetCard } from "../dataset/dataset-card.js";
import { ErrorsFile } from "../dataset/errors-file.js";
import { checkOutputPath, type OutputPath, prepareOutputPaths } from "../dataset/output-paths.js";
import { claimOutput, type OutputMode } from "../dataset/output-policy.js";
import { isMaskpipeErrors, isMaskpipeReport } from "../dataset/owned-file.js";
import { RUN_FILES } from "../dataset/run-files.js";
import { checkResumable, readIdentityFile } from "../dataset/run-record.js";
import { type LabelIdentity, planLabels } from "../labels/label-plan.js";
import { Labeler } from "../labels/labeler.js";
import { folderOutputPath, folderSink } from "../sinks/folder-sink.js";
import {
  makeOutputFolder,
  removeOutputFile,
  rootOf,
  writeOutputFile,
} from "../sinks/output-file.js";
import { findResumePoint, type ResumePoint } from "../sinks/resume.js";
import type { SampleSink, ShardInfo } from "../sinks/sink.js";
import { SPLIT_ORDER, SplitSink } from "../sinks/split-sink.js";
import { webDatasetSink } from "../sinks/webdataset-sink.js";
import { isHfUrl } from "../sources/hf/hf-url.js";
import { openSource } from "../sources/open-source.js";
import type { OpenedSource } from "../sources/opened-source.js";
import type { SevenZipSource } from "../sources/sevenzip/seven-zip-source.js";
import type { Source } from "../sources/source.js";
import { attachLabels } from "../transforms/attach-labels.js";
import { FILE_EXTENSION } from "../transforms/encode.js";
import { inputCheck, keysDoNotMeet } from "../transforms/input-check.js";
import { join, joinStrategy } from "../transforms/join.js";
import { isWanted } from "../transforms/keyed-side.js";
import { overlay } from "../transforms/overlay.js";
import { skipDone } from "../transforms/skip-done.js";
import { takePairs } from "../transforms/take.js";
import { countPairs } from "./dry-run.js";
import { buildReport, publishedReport, type RunReport, splitCounts } from "./report.js";
import {
  identityDifferences,
  inputVersion,
  publishedIdentity,
  type RunIdentity,
} from "./run-identity.js";
import {
  type CheckedRunOptions,
  checkRunOptions,
  type RunOptions,
  runRecordsFolder,
} from "./run-options.js";
import { runProblems } from "./run-verdict.js";

/**
 * Unmatched members with no pair yet before a run stops, sure the inputs do not belong
 * together: real CelebA and CASIA-WebFace inputs pair from their first members.
 */
const NO_PAIR_PATIENCE = 1000;

/** Example members of a side the key-mismatch message shows. */
const EXAMPLES = 3;

/**
 * One whole run: check the output paths, open both sources, record the run's identity, claim
 * the output (the output-folder policy, or the resume check), join, overlay, write, then the
 * report and its verdict. Assembles the public stages and nothing more, so a user's own
 * pipeline built from them behaves the same.
 *
 * @example
 * const report = await runPipeline({ name: "celeba", originals: "img_celeba.zip",
 *   masks: "celeba_masks.zip", out: "shards/celeba",
 *   photoKeys: { depth: 1, suffixes: [] }, maskKeys: { depth: 1, suffixes: ["_mask"] } });
 * if (report.problems.length > 0) console.error(report.problems);
 */
export async function runPipeline(input: RunOptions): Promise<RunReport> {
  const options = checkRunOptions(input);
  const started = performance.now();
  const stats = new RunStats();
  const sources: OpenedSource[] = [];
  const toHub = isHfUrl(options.out);
  const signal = options.signal;
  const mode: OutputMode = options.overwrite ? "overwrite" : options.resume ? "resume" : "new";
  const { partition } = options;
  // A partition's shards are named for it; its run.json is in its own folder, not the output's.
  const shardSet = partitionShardSet(options.name, partition);
  const records = runRecordsFolder(options.out, partition);
  const outputs = outputPaths(options, toHub);
  // A report or errors file in a local output folder is written below it, no link followed.
  const localOut = toHub ? undefined : options.out;
  if (!options.dryRun) for (const output of outputs) await checkOutputPath(output);

  const errorsFile =
    options.errors === undefined
      ? undefined
      : new ErrorsFile(rootOf(options.errors, localOut), options.errors);
  // A Hub run keeps its failure lines for errors.jsonl in the repo (a line per failed pair).
  const errorLines: string[] = [];
  // A failure's message may quote what a library said of a URL or a header: none of it is kept.
  const redactor = new Redactor({
    headers: options.http?.headers,
    tokens: [options.hub?.token, process.env.HF_TOKEN],
    specs: [options.originals, options.masks],
  });
  stats.onFailure = (failure) => {
    const line = `${redactor.text(JSON.stringify(failure))}\n`;
    if (toHub) errorLines.push(publishedText(line, [options.originals, options.masks]));
    errorsFile?.append(line);
    // Unreadable members are recorded by the join, not the overlay: --on-error fail stops here.
    if (options.onError === "fail") {
      throw new MaskpipeError(failure.code as ErrorCode, `${failure.message} (--on-error fail)`, {
        archive: failure.archive,
        member: failure.member,
      });
    }
  };

  let identity: RunIdentity | undefined;
  // What this run made before its first sample, taken back if it stops before writing one.
  const madeFolders: string[] = [];
  let madeRecord: string | undefined;
  try {
    const open = (spec: string) =>
      abortable(
        openSource(spec, {
          http: options.http,
          hub: options.hub,
          signal,
          ...(options.sevenZip !== undefined && { sevenZip: options.sevenZip }),
        }),
        signal,
        (late) => late.close(),
      );
    const photos = await open(options.originals);
    sources.push(photos);
    const masks = await open(options.masks);
    sources.push(masks);
    const labelPlan = await abortable(planLabels({ ...options, signal }, photos), signal);
    const labeler = labelPlan === undefined ? undefined : new Labeler(labelPlan.tables);
    const made = await runIdentity(options, photos, masks, labelPlan?.identity);
    identity = made;
    const strategy = joinStrategy(photos, masks);
    const context = { identity, strategy, started, stats, photos, masks, labeler };
    if (options.dryRun) {
      await countPairs({ ...options, photos, masks, stats, signal });
      if (stats.pairs === 0 && stats.photosWithoutMask > 0 && stats.masksWithoutPhoto > 0)
        throw keysDoNotMeet(sideNames(options), stats.unmatchedExamples);
      return finalReport(options, context, { dryRun: true, written: 0, shards: [] });
    }
    const listed = {
      photos: await abortable(imageExamples(photos, signal), signal),
      masks: await abortable(imageExamples(masks, signal), signal),
    };
    const examples = (): Record<Side, readonly string[]> => ({
      photos:
        stats.unmatchedExamples.photos.length > 0 ? stats.unmatchedExamples.photos : listed.photos,
      masks:
        stats.unmatchedExamples.masks.length > 0 ? stats.unmatchedExamples.masks : listed.masks,
    });
    stats.onUnmatched = () => {
      if (
        stats.pairs === 0 &&
        stats.photosWithoutMask + stats.masksWithoutPhoto >= NO_PAIR_PATIENCE
      )
        throw keysDoNotMeet(sideNames(options), examples());
    };
    const streamed = strategy === "lookup-photos" ? masks : photos;
    const unpacked = sevenZipOf(photos, masks)?.unpacked;
    const streamedKeys = streamed === masks ? options.maskKeys : options.photoKeys;
    const expected = await abortable(
      expectedPairs(streamed, streamedKeys, options.limit, partition),
      signal,
    );

    if (!toHub) {
      if (mode === "resume") {
        const finished = await finishedReport(options.report, identity);
        if (finished !== undefined) return { ...finished, nothingToDo: true };
      }
      const found = await claimOutput({
        dir: options.out,
        name: options.name,
        ...(options.layout === "folder" && { imageExtension: FILE_EXTENSION[options.format] }),
        files: [options.report, options.errors].filter((file) => file !== undefined),
        mode,
        ...(partition !== undefined && { partition }),
      });
      if (mode === "resume") {
        const record = joinPath(records, RUN_FILES.identity);
        const recorded = await readIdentityFile(record);
        const others = found.filter((file) => resolve(file) !== resolve(record));
        checkResumable(options.out, recorded, identity, others.length > 0);
      }
    }
    madeFolders.push(...(await prepareOutputPaths(outputs)));
    // A report left by an earlier run must not describe the shards this run is about to replace.
    if (options.report !== undefined)
      await removeOutputFile(rootOf(options.report, localOut), options.report);
    if (!toHub) {
      const record = joinPath(records, RUN_FILES.identity);
      if (mode !== "resume" || !existsSync(record)) madeRecord = record;
      if (partition !== undefined)
        madeFolders.push(...(await makeOutputFolder(options.out, records)));
      await writeOutputFile(options.out, record, jsonText(identity));
    }
    const hub = toHub
      ? await abortable(
          import("../sinks/hub-sink.js").then(({ hubSink }) =>
            hubSink({
              repo: options.out,
              name: options.name,
              ...(partition !== undefined && { partition }),
              maxCount: options.shardMaxCount,
              maxBytes: options.shardMaxBytes,
              stats,
              private: options.private,
              xet: options.xet,
              buffer: options.hubBuffer,
              ...(options.hubSpool !== undefined && { spool: options.hubSpool }),
              mode,
              // A Hub repo records and compares the identity as published: no local paths.
              identity: publishedIdentity(made),
              ...(labeler !== undefined && labeler.splits.length > 0 && { splits: SPLIT_ORDER }),
              ...(options.hub?.token !== undefined && { token: options.hub.token }),
              ...(options.hub?.endpoint !== undefined && { hubUrl: options.hub.endpoint }),
            }),
          ),
          signal,
        )
      : undefined;
    const splits = labeler?.splits ?? [];
    const { kept, isDone } = await resumePlan(options, shardSet, splits, hub?.kept);
    const shardsInto = (dir: string, resumeFrom: readonly ShardInfo[]) =>
      webDatasetSink({
        dir,
        root: options.out,
        name: shardSet,
        index: partition === undefined,
        maxCount: options.shardMaxCount,
        maxBytes: options.shardMaxBytes,
        resumeFrom,
        stats,
      });
    const sink: SampleSink =
      hub ??
      (options.layout === "folder"
        ? folderSink({ dir: options.out, stats })
        : splits.length === 0
          ? shardsInto(options.out, kept.shards)
          : new SplitSink((split) =>
              shardsInto(joinPath(options.out, split), kept.bySplit.get(split)?.shards ?? []),
            ));
    const progress = new Transform({
      objectMode: true,
      transform(sample, _encoding, callback) {
        callback(null, sample);
        options.onProgress?.({
          written: stats.written,
          failed: stats.failed,
          expected,
          seconds: (performance.now() - started) / 1000,
          networkBytes: (photos.http?.bytes ?? 0) + (masks.http?.bytes ?? 0),
          ...(unpacked !== undefined && { unpacked }),
        });
      },
    });
    const pairs = join({
      photos,
      masks,
      photoKeys: options.photoKeys,
      maskKeys: options.maskKeys,
      memoryBudget: options.joinMemory,
      stats,
      ...(partition !== undefined && { partition }),
      signal,
    });
    let interrupted = false;
    try {
      await pipeline(
        options.limit === undefined ? pairs : takePairs(pairs, options.limit),
        inputCheck({ ...sideNames(options), examples, stats }),
        labeler === undefined
          ? new PassThrough({ objectMode: true })
          : attachLabels({ labeler, strict: options.strictLabels, stats }),
        skipDone(isDone, stats),
        overlay({
          format: options.format,
          quality: options.quality,
          optimizeCoding: options.optimizeCoding,
          concurrency: options.concurrency,
          maxPixels: options.maxPixels,
          onError: options.onError,
          stats,
        }),
        progress,
        sink,
        { signal },
      );
    } catch (error) {
      if (signal?.aborted !== true) throw error;
      interrupted = true;
    }
    // The join reads a little ahead: pairs past the limit were made but never taken.
    if (options.limit !== undefined) stats.pairs = Math.min(stats.pairs, options.limit);
    const shards = [...kept.shards, ...sink.result.shards];
    const inShards = sink.result.shards.reduce((sum, shard) => sum + shard.samples, 0);
    const report = finalReport(options, context, {
      interrupted,
      // A shard counts once complete: samples of one an interruption left are not in the output.
      written: options.layout === "folder" ? stats.written : inShards,
      shards,
    });
    const classes = labeler === undefined ? undefined : `${labeler.tables.classes.join("\n")}\n`;
    if (hub !== undefined && hub.notes.length > 0) report.notes = [...hub.notes];
    if (hub !== undefined && !interrupted) {
      await hub.publish(publishedReport(report), {
        command: options.command,
        version: VERSION,
        errors: Buffer.from(errorLines.join("")),
        ...(classes !== undefined && { classes }),
      });
      report.hub = hub.hub;
    }
    // A partition's list goes in its folder: the merge checks they agree and writes the one.
    if (!toHub && classes !== undefined) {
      await writeOutputFile(options.out, joinPath(records, RUN_FILES.classes), classes);
    }
    // A partition's index and card are the merge's to write, once for all of them.
    if (!toHub && options.layout === "webdataset" && !interrupted && partition === undefined) {
      const card = datasetCard(report, {
        repo: options.out,
        dataFolder: (split) => (splits.length === 0 ? "" : `${split}/`),
        command: options.command,
        version: VERSION,
      });
      await writeOutputFile(options.out, joinPath(options.out, RUN_FILES.card), card);
    }
    // Before the report: a report saying "done" vouches for the errors file beside it.
    await errorsFile?.close();
    if (options.report !== undefined) {
      const root = rootOf(options.report, localOut);
      await writeOutputFile(root, options.report, jsonText(report));
    }
    return report;
  } catch (error) {
    if (stats.written === 0 && stats.resumed === 0) {
      // Stopped before its first sample (inputs that do not fit, say): leave no trace.
      if (madeRecord !== undefined) await removeOutputFile(options.out, madeRecord);
      await removeMadeDirectories(madeFolders);
    }
    if (signal?.aborted === true && identity === undefined) {
      throw new MaskpipeError(
        "ERR_INTERRUPTED",
        "interrupted while opening the inputs; nothing was written",
      );
    }
    if (signal?.aborted === true && !(error instanceof MaskpipeError)) {
      throw new MaskpipeError(
        "ERR_INTERRUPTED",
        "interrupted before the first sample; nothing was written",
        { cause: error },
      );
    }
    throw error;
  } finally {
    await Promise.allSettled(sources.map((source) => source.close()));
    // A run that failed anyway: its own error is the one to report.
    await errorsFile?.close().catch(() => {});
  }
}

interface RunContext {
  labeler: Labeler | undefined;
  identity: RunIdentity;
  strategy: string;
  started: number;
  stats: RunStats;
  photos: OpenedSource;
  masks: OpenedSource;
}

/** The report of the run so far, with its verdict (problems) when it was not interrupted. */
function finalReport(
  options: CheckedRunOptions,
  context: RunContext,
  outcome: {
    written: number;
    shards: readonly ShardInfo[];
    interrupted?: boolean;
    dryRun?: boolean;
  },
): RunReport {
  const interrupted = outcome.interrupted ?? false;
  const report = buildReport(context.stats, {
    version: VERSION,
    identity: context.identity,
    ...(outcome.dryRun === true && { dryRun: true }),
    ...(options.limit !== undefined && { limit: options.limit }),
    written: outcome.written,
    name: options.name,
    originals: redactUrl(options.originals),
    masks: redactUrl(options.masks),
    out: options.out,
    layout: options.layout,
    join: context.strategy,
    seconds: (performance.now() - context.started) / 1000,
    interrupted,
    shards: outcome.shards,
    network: { originals: context.photos.http, masks: context.masks.http },
  });
  const labeler = context.labeler;
  if (labeler !== undefined) {
    report.labels = {
      mode: labeler.tables.mode,
      source: labeler.tables.source,
      classes: labeler.tables.classes.length,
      annotations: annotationKinds(labeler),
      missing: { ...context.stats.labelsMissing },
      annotationsWithoutPhoto: labeler.annotationsWithoutPhoto(options.partition),
    };
    if (labeler.splits.length > 0 && outcome.dryRun !== true)
      report.splits = splitCounts(report.shards);
  }
  if (options.partition !== undefined) report.partition = { ...options.partition };
  // A merge's card says how its partitions were made.
  if (options.command !== "") report.command = options.command;
  const sevenZip = sevenZipOf(context.photos, context.masks);
  if (sevenZip !== undefined) report.sevenZip = { ...sevenZip.binary };
  if (!interrupted) {
    report.problems = runProblems(report, options.maxFailed);
  }
  return report;
}

function sideNames(options: CheckedRunOptions) {
  return {
    photoKeys: options.photoKeys,
    maskKeys: options.maskKeys,
    photosName: redactUrl(options.originals),
    masksName: redactUrl(options.masks),
  };
}

/** The paths a local run writes: checked before any work, made just before the first sample. */
function outputPaths(options: CheckedRunOptions, toHub: boolean): OutputPath[] {
  return [
    ...(toHub ? [] : [{ path: options.out, role: "output folder", kind: "folder" as const }]),
    ...(options.report === undefined
      ? []
      : [{ path: options.report, role: "report", kind: "file" as const, owned: isMaskpipeReport }]),
    ...(options.errors === undefined
      ? []
      : [
          {
            path: options.errors,
            role: "errors file",
            kind: "file" as const,
            owned: isMaskpipeErrors,
          },
        ]),
  ];
}

async function runIdentity(
  options: CheckedRunOptions,
  photos: OpenedSource,
  masks: OpenedSource,
  labels: LabelIdentity | undefined,
): Promise<RunIdentity> {
  return {
    maskpipe: VERSION,
    name: options.name,
    layout: options.layout,
    format: options.format,
    quality: options.quality,
    optimizeCoding: options.optimizeCoding,
    maxPixels: options.maxPixels,
    ...(options.layout === "webdataset" && {
      shardMaxCount: options.shardMaxCount,
      shardMaxBytes: options.shardMaxBytes,
    }),
    keys: { photos: options.photoKeys, masks: options.maskKeys },
    ...(options.limit !== undefined && { limit: options.limit }),
    originals: await inputVersion(options.originals, photos),
    masks: await inputVersion(options.masks, masks),
    ...(labels !== undefined && { labels }),
    ...(options.partition !== undefined && { partition: options.partition }),
  };
}

/** The annotation tables a labeler has, by kind. */
function annotationKinds(labeler: Labeler): string[] {
  const { tables } = labeler;
  return (["identities", "splits", "attributes", "bboxes", "landmarks"] as const).filter(
    (kind) => tables[kind] !== undefined,
  );
}

/**
 * What --resume keeps: complete shards and their keys (WebDataset: found in `out`, or by the
 * Hub sink in its repo and passed as `fromHub`), or the files already in place (folder layout).
 * Without --resume, nothing.
 */
async function resumePlan(
  options: CheckedRunOptions,
  shardSet: string,
  splits: readonly string[],
  fromHub?: ResumePoint,
) {
  const bySplit = new Map<string, ResumePoint>();
  const nothing = {
    kept: { shards: [] as ShardInfo[], keys: new Set<string>(), bySplit },
    isDone: (_key: string) => false,
  };
  if (!options.resume) return nothing;
  if (options.layout === "folder") {
    const extension = FILE_EXTENSION[options.format];
    return {
      ...nothing,
      isDone: (key: string) => existsSync(folderOutputPath(options.out, key, extension)),
    };
  }
  if (fromHub !== undefined) {
    return { kept: { ...fromHub, bySplit }, isDone: (key: string) => fromHub.keys.has(key) };
  }
  if (splits.length === 0) {
    const kept = await findResumePoint(options.out, shardSet);
    return { kept: { ...kept, bySplit }, isDone: (key: string) => kept.keys.has(key) };
  }
  // Each split is a shard set of its own, resumed on its own; a key is done in any of them.
  const keys = new Set<string>();
  const shards: ShardInfo[] = [];
  for (const split of SPLIT_ORDER) {
    const point = await findResumePoint(joinPath(options.out, split), shardSet);
    bySplit.set(split, point);
    for (const key of point.keys) keys.add(key);
    shards.push(...point.shards.map((shard) => ({ ...shard, name: `${split}/${shard.name}` })));
  }
  return { kept: { shards, keys, bySplit }, isDone: (key: string) => keys.has(key) };
}

/** The report of an earlier run with this identity that finished, if `reportPath` holds one. */
async function finishedReport(
  reportPath: string | undefined,
  identity: RunIdentity,
): Promise<RunReport | undefined> {
  if (reportPath === undefined) return undefined;
  try {
    const report = JSON.parse(await readFile(reportPath, "utf8")) as RunReport;
    if (report.interrupted !== false || report.identity === undefined) return undefined;
    return identityDifferences(report.identity, identity).length === 0 ? report : undefined;
  } catch {
    return undefined;
  }
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

/** A side's members when it can say them without being read through: zip, folder, 7z. */
async function listedUpFront(source: Source, signal?: AbortSignal) {
  if (source.randomAccess) return source.list(signal);
  return source.catalog?.(signal);
}

/** The 7z input of a run, if any: its binary goes in the report, its progress on the screen. */
function sevenZipOf(...sources: Source[]): SevenZipSource | undefined {
  return sources.find((source): source is SevenZipSource => source.kind === "7z");
}

/** The number of pairs expected when the streamed side can be listed up front. */
async function expectedPairs(
  streamed: Source,
  keys: KeyRule,
  limit: number | undefined,
  partition: Partition | undefined,
): Promise<number | undefined> {
  const listing = await listedUpFront(streamed);
  if (listing === undefined) return limit;
  let count = 0;
  // A partition expects its own slice only.
  for (const member of listing) if (isWanted(member, keys, partition)) count++;
  return limit === undefined ? count : Math.min(count, limit);
}
