import { resumeCommand } from "../core/resume-command.js";
import type { RunReport } from "../dataset/report.js";
import { shellWord } from "./invocation.js";
import { formatBytes, formatDuration } from "./progress.js";

export { resumeCommand };

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join("\n");
}

function byReason(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0
    ? ""
    : ` (${entries.map(([reason, count]) => `${reason}: ${count}`).join(", ")})`;
}

/** How the run ended, as the summary's first line says it. */
function outcome(report: RunReport): string {
  if (report.dryRun === true)
    return report.problems.length > 0 ? "dry run, problems found" : "dry run";
  if (report.interrupted) return "interrupted";
  if (report.problems.length > 0) return "incomplete";
  return report.limit === undefined ? "done" : `done (trial run of ${report.limit} pairs, --limit)`;
}

/**
 * The table printed on stderr at the end of a run; `command` (the run's arguments) gives the
 * command that resumes an interrupted run, and `prefix` the words that start maskpipe as the
 * user started it, for every command the table prints.
 */
export function summaryText(
  report: RunReport,
  reportPath: string,
  command?: string,
  prefix = "maskpipe",
): string {
  const n = (value: number) => value.toLocaleString("en-US");
  const unfinished =
    report.unfinished > 0
      ? ` (${n(report.unfinished)} more were in the unfinished shard: not kept)`
      : "";
  const rows: [string, string][] = [
    ["pairs", n(report.pairs)],
    ...(report.dryRun === true
      ? []
      : ([["written", n(report.written) + unfinished]] as [string, string][])),
    ...(report.dryRun === true
      ? []
      : ([["failed", n(report.failed) + byReason(report.failedByReason)]] as [string, string][])),
    [
      "photos without mask",
      n(report.photosWithoutMask) + (report.identity?.keepUnmasked ? " (kept, unmasked)" : ""),
    ],
    ["masks without photo", n(report.masksWithoutPhoto)],
    ...(report.dryRun === true
      ? []
      : ([["mask size mismatches", n(report.sizeMismatches)]] as [string, string][])),
    ...(report.resumed > 0 ? ([["resumed (kept)", n(report.resumed)]] as [string, string][]) : []),
    ...kindRows(report),
    ["skipped members", n(report.skipped) + byReason(report.skippedByReason)],
    ...labelRows(report),
    ...exampleRows(report),
    ["join", report.join],
    [
      "time",
      report.dryRun === true
        ? formatDuration(report.seconds)
        : `${formatDuration(report.seconds)} (${report.imagesPerSecond} img/s)`,
    ],
    ["peak RSS", peakRss(report)],
  ];
  if (report.layout === "webdataset" && report.dryRun !== true) {
    const bytes = report.shards.reduce((sum, shard) => sum + shard.bytes, 0);
    rows.push(["shards", `${report.shards.length} (${formatBytes(bytes)})`]);
  }
  for (const side of ["originals", "masks"] as const) {
    const network = report.network[side];
    if (network === undefined) continue;
    rows.push([
      `${side} over HTTP`,
      `${n(network.requests)} requests, ${(network.bytes / 1e6).toFixed(1)} MB, ${n(network.retries)} retries`,
    ]);
  }
  if (report.sevenZip !== undefined) {
    rows.push([
      "7-Zip",
      `${report.sevenZip.version} (${report.sevenZip.origin}: ${report.sevenZip.path})`,
    ]);
  }
  if (report.hub !== undefined) {
    const hub = report.hub;
    rows.push([
      "hub",
      `${n(hub.commits)} commits, ${n(hub.shardsUploaded)} shards uploaded, ${n(hub.shardsUnchanged + hub.shardsKept)} already there, ${(hub.bytesUploaded / 1e6).toFixed(1)} MB sent, ${n(hub.retries)} retries`,
    ]);
  }
  if (report.interrupted) {
    rows.push(["interrupted", "yes: the shards listed are complete, the rest was not written"]);
    if (command !== undefined) rows.push(["continue with", resumeCommand(command, prefix)]);
  }
  for (const note of report.notes ?? []) rows.push(["note", note]);
  for (const problem of report.problems) rows.push(["problem", problem.message]);
  const partition = report.partition;
  if (partition !== undefined && "index" in partition && report.dryRun !== true) {
    rows.push([
      "partition",
      `${partition.index} of ${partition.count}; when all ${partition.count} are done: ${prefix} merge ${shellWord(report.out)}`,
    ]);
  } else if (partition !== undefined && "merged" in partition) {
    rows.push([
      "partitions",
      `${partition.count} merged (their own reports: ${report.out}/partitions/)`,
    ]);
  }
  if (report.dryRun !== true) rows.push(["report", reportPath]);
  return `maskpipe ${report.name}: ${outcome(report)}\n${table(rows)}\n`;
}

/** Where CelebA's files come from, for a run that did not find some of them. */
const ANNOTATIONS_HINT =
  "--annotations DIR (the CelebA folder, holding Anno/ and Eval/), or a file each: --identities, --partitions, --attributes, --bboxes, --landmarks";

/**
 * Where the classes came from, which annotations the output has and which files were not
 * found, photos missing from the files, and the samples per split.
 */
function labelRows(report: RunReport): [string, string][] {
  const n = (value: number) => value.toLocaleString("en-US");
  const rows: [string, string][] = [];
  if (report.labels?.mode === "none") {
    rows.push([
      "labels",
      "none: CelebA's identities and splits come from --annotations DIR (the CelebA folder)",
    ]);
  } else if (report.labels !== undefined) {
    const { classes, source, missing, annotationsWithoutPhoto, annotations } = report.labels;
    const notFound = report.labels.notFound ?? [];
    rows.push(["labels", `${n(classes)} classes from ${source}${byReason(missing)}`]);
    if (annotations.length > 0) rows.push(["annotations", annotations.join(", ")]);
    if (notFound.length > 0)
      rows.push(["not found", `${notFound.join(", ")}: give ${ANNOTATIONS_HINT}`]);
    if (annotationsWithoutPhoto > 0)
      rows.push(["annotations without photo", n(annotationsWithoutPhoto)]);
  }
  if (report.splits !== undefined) {
    const splits = Object.entries(report.splits).map(([split, c]) => `${split} ${n(c.samples)}`);
    rows.push(["splits", splits.join(", ")]);
  }
  return rows;
}

/** The most common failure with one message, and unmatched members by name. */
function exampleRows(report: RunReport): [string, string][] {
  const rows: [string, string][] = [];
  const [reason, count] =
    Object.entries(report.failedByReason).sort((a, b) => b[1] - a[1])[0] ?? [];
  if (reason !== undefined && count !== undefined && report.failureExamples?.[reason] !== undefined)
    rows.push([
      "most common failure",
      `${reason} (${count}), e.g. ${report.failureExamples[reason]}`,
    ]);
  if (report.dryRun === true) {
    const { photos, masks } = report.unmatchedExamples;
    if (photos.length > 0) rows.push(["e.g. photo without mask", photos.slice(0, 3).join(", ")]);
    if (masks.length > 0) rows.push(["e.g. mask without photo", masks.slice(0, 3).join(", ")]);
  }
  return rows;
}

/** This process's peak memory, and its overlay workers' (summed) when it had them. */
function peakRss(report: RunReport): string {
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  const workers = report.overlayWorkers;
  if (workers === undefined || workers.count === 1 || workers.peakRssBytes === undefined)
    return mib(report.peakRssBytes);
  return `${mib(report.peakRssBytes)}, and ${mib(workers.peakRssBytes)} in ${workers.count} overlay worker processes`;
}

/** A run that mixes: the samples of each kind it made. */
function kindRows(report: RunReport): [string, string][] {
  const kinds = report.kinds;
  if (kinds === undefined || report.dryRun === true) return [];
  const n = (value: number) => value.toLocaleString("en-US");
  return [
    [
      "samples by kind",
      `${n(kinds.masked)} masked, ${n(kinds.unmasked)} unmasked, ${n(kinds.unmaskedWithoutMask)} unmasked without a mask`,
    ],
  ];
}
