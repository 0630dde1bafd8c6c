import { UNMATCHED_EXAMPLES } from "../../core/stats.js";
import { type RunReport, splitCounts } from "../../dataset/report.js";
import type { RunIdentity } from "../../dataset/run-identity.js";
import { type FailureAllowance, runProblems } from "../../dataset/run-verdict.js";
import type { HttpStats } from "../../sources/http/http-client.js";

/** A partition's identity without its place: what every partition of one run shares. */
export function sharedIdentity(identity: RunIdentity): RunIdentity {
  const { partition: _partition, ...shared } = identity;
  return shared;
}

/**
 * One report for the partitions of a run, as if one process had made it: counts summed, shards
 * in partition order, the verdict drawn again over the whole. Time is the slowest partition's
 * (they run side by side), CPU their sum, peak RSS the largest.
 */
export function mergeReports(
  reports: readonly RunReport[],
  context: { out: string; allowance: FailureAllowance },
): RunReport {
  const first = reports[0]!;
  const sum = (field: (report: RunReport) => number) =>
    reports.reduce((total, report) => total + field(report), 0);
  const seconds = Math.max(...reports.map((report) => report.seconds));
  const written = sum((report) => report.written);
  const shards = reports.flatMap((report) => report.shards);
  const merged: RunReport = {
    ...first,
    out: context.out,
    identity: sharedIdentity(first.identity),
    pairs: sum((report) => report.pairs),
    written,
    unfinished: sum((report) => report.unfinished),
    masksWithoutPhoto: sum((report) => report.masksWithoutPhoto),
    photosWithoutMask: sum((report) => report.photosWithoutMask),
    sizeMismatches: sum((report) => report.sizeMismatches),
    resumed: sum((report) => report.resumed),
    ...(first.kinds !== undefined && {
      kinds: {
        masked: sum((report) => report.kinds?.masked ?? 0),
        unmasked: sum((report) => report.kinds?.unmasked ?? 0),
        unmaskedWithoutMask: sum((report) => report.kinds?.unmaskedWithoutMask ?? 0),
      },
    }),
    skipped: sum((report) => report.skipped),
    skippedByReason: sumRecords(reports.map((report) => report.skippedByReason)),
    failed: sum((report) => report.failed),
    failedByReason: sumRecords(reports.map((report) => report.failedByReason)),
    failureExamples: Object.assign({}, ...[...reports].reverse().map((r) => r.failureExamples)),
    unmatchedExamples: {
      photos: reports.flatMap((r) => r.unmatchedExamples.photos).slice(0, UNMATCHED_EXAMPLES),
      masks: reports.flatMap((r) => r.unmatchedExamples.masks).slice(0, UNMATCHED_EXAMPLES),
    },
    seconds,
    imagesPerSecond: seconds > 0 ? Math.round((written / seconds) * 10) / 10 : 0,
    peakRssBytes: Math.max(...reports.map((report) => report.peakRssBytes)),
    cpuSeconds: Math.round(sum((report) => report.cpuSeconds) * 1000) / 1000,
    interrupted: false,
    shards,
    network: {
      ...sumNetwork(
        reports.map((report) => report.network.originals),
        "originals",
      ),
      ...sumNetwork(
        reports.map((report) => report.network.masks),
        "masks",
      ),
    },
    partition: { count: reports.length, merged: true },
    problems: [],
  };
  delete merged.hub;
  if (first.labels !== undefined) {
    merged.labels = {
      ...first.labels,
      missing: sumRecords(reports.map((report) => report.labels?.missing ?? {})),
      annotationsWithoutPhoto: sum((report) => report.labels?.annotationsWithoutPhoto ?? 0),
    };
  }
  if (reports.some((report) => report.splits !== undefined)) merged.splits = splitCounts(shards);
  merged.problems = runProblems(merged, context.allowance);
  return merged;
}

function sumRecords(records: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const record of records) {
    for (const [reason, count] of Object.entries(record))
      total[reason] = (total[reason] ?? 0) + count;
  }
  return total;
}

function sumNetwork<K extends "originals" | "masks">(
  stats: readonly (HttpStats | undefined)[],
  side: K,
): Partial<Record<K, HttpStats>> {
  const present = stats.filter((s) => s !== undefined);
  if (present.length === 0) return {};
  const total: HttpStats = { requests: 0, retries: 0, bytes: 0 };
  for (const s of present) {
    total.requests += s.requests;
    total.retries += s.retries;
    total.bytes += s.bytes;
  }
  return { [side]: total } as Partial<Record<K, HttpStats>>;
}
