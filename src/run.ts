import { createWriteStream, existsSync, type WriteStream } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type ErrorCode, MaskpipeError } from "./errors.js";
import { buildReport, type RunReport } from "./report.js";
import { checkRunOptions, type RunOptions } from "./run-options.js";
import { RunStats } from "./run-stats.js";
import { folderOutputPath, folderSink } from "./sinks/folder-sink.js";
import { findResumePoint, type ResumePoint } from "./sinks/resume.js";
import type { SampleSink } from "./sinks/sink.js";
import { webDatasetSink } from "./sinks/webdataset-sink.js";
import { writeFileAtomic } from "./sinks/write-file-atomic.js";
import { isHfUrl } from "./sources/http/hf-url.js";
import { skipReason } from "./sources/member-filter.js";
import { type OpenedSource, openSource } from "./sources/open-source.js";
import type { Source } from "./sources/source.js";
import { FILE_EXTENSION } from "./transforms/encode.js";
import { join, joinStrategy } from "./transforms/join.js";
import { overlay } from "./transforms/overlay.js";
import { skipDone } from "./transforms/skip-done.js";
import { VERSION } from "./version.js";

/**
 * One whole run: open both sources, join, overlay, write, then the report. Assembles the public
 * stages and nothing more, so a user's own pipeline built from them behaves the same.
 *
 * @example
 * const report = await runPipeline({ name: "celeba", originals: "img_celeba.zip",
 *   masks: "celeba_masks.zip", out: "shards/celeba",
 *   photoKeys: { depth: 1, suffixes: [] }, maskKeys: { depth: 1, suffixes: ["_mask"] } });
 */
export async function runPipeline(input: RunOptions): Promise<RunReport> {
  const options = checkRunOptions(input);
  const started = performance.now();
  const stats = new RunStats();
  const sources: OpenedSource[] = [];
  const toHub = isHfUrl(options.out);
  let errorsFile: WriteStream | undefined;
  // A Hub run keeps its failure lines for errors.jsonl in the repo (a line per failed pair).
  const errorLines: string[] = [];
  stats.onFailure = (failure) => {
    const line = `${JSON.stringify(failure)}\n`;
    if (toHub) errorLines.push(line);
    if (errorsFile === undefined && options.errors !== undefined) {
      errorsFile = createWriteStream(options.errors);
      errorsFile.on("error", () => {}); // an unwritable errors file must not mask the run's result
    }
    errorsFile?.write(line);
    // Unreadable members are recorded by the join, not the overlay: --on-error fail stops here.
    if (options.onError === "fail") {
      throw new MaskpipeError(failure.code as ErrorCode, `${failure.message} (--on-error fail)`, {
        archive: failure.archive,
        member: failure.member,
      });
    }
  };

  if (options.resume && options.report !== undefined) {
    const finished = await finishedReport(options.report);
    if (finished !== undefined) return { ...finished, nothingToDo: true };
  }

  try {
    const photos = await openSource(options.originals, { http: options.http, hub: options.hub });
    sources.push(photos);
    const masks = await openSource(options.masks, { http: options.http, hub: options.hub });
    sources.push(masks);
    const strategy = joinStrategy(photos, masks);
    const expected = await expectedPairs(strategy === "lookup-photos" ? masks : photos);
    if (!toHub) await makeOutputFolder(options.out);
    if (options.errors !== undefined) await makeOutputFolder(dirname(options.errors));
    // A report left by an earlier run must not describe the shards this run is about to replace.
    if (options.report !== undefined) await rm(options.report, { force: true });
    const hub = toHub
      ? await (await import("./sinks/hub-sink.js")).hubSink({
          repo: options.out,
          name: options.name,
          maxCount: options.shardMaxCount,
          maxBytes: options.shardMaxBytes,
          stats,
          private: options.private,
          xet: options.xet,
          buffer: options.hubBuffer,
          resume: options.resume,
          ...(options.hub?.token !== undefined && { token: options.hub.token }),
          ...(options.hub?.endpoint !== undefined && { hubUrl: options.hub.endpoint }),
        })
      : undefined;
    const { kept, isDone } = await resumePlan(options, hub?.kept);
    const sink: SampleSink =
      hub ??
      (options.layout === "folder"
        ? folderSink({ dir: options.out, stats })
        : webDatasetSink({
            dir: options.out,
            name: options.name,
            maxCount: options.shardMaxCount,
            maxBytes: options.shardMaxBytes,
            resumeFrom: kept.shards,
            stats,
          }));
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
        });
      },
    });
    let interrupted = false;
    try {
      await pipeline(
        join({
          photos,
          masks,
          photoKeys: options.photoKeys,
          maskKeys: options.maskKeys,
          memoryBudget: options.joinMemory,
          stats,
          signal: options.signal,
        }),
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
        { signal: options.signal },
      );
    } catch (error) {
      if (options.signal?.aborted !== true) throw error;
      interrupted = true;
    }
    const report = buildReport(stats, {
      version: VERSION,
      name: options.name,
      originals: options.originals,
      masks: options.masks,
      out: options.out,
      layout: options.layout,
      join: strategy,
      seconds: (performance.now() - started) / 1000,
      interrupted,
      shards: [...kept.shards, ...sink.result.shards],
      network: { originals: photos.http, masks: masks.http },
    });
    if (hub !== undefined && !interrupted) {
      await hub.publish(report, {
        command: options.command,
        version: VERSION,
        errors: Buffer.from(errorLines.join("")),
      });
      report.hub = hub.hub;
    }
    if (options.report !== undefined) {
      await writeFileAtomic(options.report, `${JSON.stringify(report, null, 2)}\n`);
    }
    return report;
  } finally {
    await Promise.allSettled(sources.map((source) => source.close()));
    const file = errorsFile;
    if (file !== undefined) await new Promise((resolve) => file.end(resolve));
  }
}

/**
 * What --resume keeps: complete shards and their keys (WebDataset: found in `out`, or by the
 * Hub sink in its repo and passed as `fromHub`), or the files already in place (folder layout).
 * Without --resume, nothing.
 */
async function resumePlan(options: ReturnType<typeof checkRunOptions>, fromHub?: ResumePoint) {
  const nothing = { kept: { shards: [], keys: new Set<string>() }, isDone: () => false };
  if (!options.resume) return nothing;
  if (options.layout === "folder") {
    const extension = FILE_EXTENSION[options.format];
    return {
      ...nothing,
      isDone: (key: string) => existsSync(folderOutputPath(options.out, key, extension)),
    };
  }
  const kept = fromHub ?? (await findResumePoint(options.out, options.name));
  return { kept, isDone: (key: string) => kept.keys.has(key) };
}

async function makeOutputFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (cause) {
    throw new MaskpipeError(
      "ERR_OUTPUT",
      `${path}: cannot create the output folder (${(cause as Error).message})`,
      { cause },
    );
  }
}

/** The report of an earlier run that finished, if `reportPath` holds one. */
async function finishedReport(reportPath: string): Promise<RunReport | undefined> {
  try {
    const report = JSON.parse(await readFile(reportPath, "utf8")) as RunReport;
    return report.interrupted === false ? report : undefined;
  } catch {
    return undefined;
  }
}

/** The number of image members on the streamed side, when it can be listed up front. */
async function expectedPairs(streamed: Source): Promise<number | undefined> {
  if (!streamed.randomAccess) return undefined;
  let count = 0;
  for (const member of await streamed.list()) {
    if (skipReason(member.path, member.kind) === undefined) count++;
  }
  return count;
}
