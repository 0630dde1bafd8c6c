import type { RunReport } from "../report.js";
import { formatDuration } from "./progress.js";

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

/** The table printed on stderr at the end of a run. */
export function summaryText(report: RunReport, reportPath: string): string {
  const n = (value: number) => value.toLocaleString("en-US");
  const rows: [string, string][] = [
    ["pairs", n(report.pairs)],
    ["written", n(report.written)],
    ["failed", n(report.failed) + byReason(report.failedByReason)],
    ["photos without mask", n(report.photosWithoutMask)],
    ["masks without photo", n(report.masksWithoutPhoto)],
    ["mask size mismatches", n(report.sizeMismatches)],
    ...(report.resumed > 0 ? ([["resumed (kept)", n(report.resumed)]] as [string, string][]) : []),
    ["skipped members", n(report.skipped) + byReason(report.skippedByReason)],
    ["join", report.join],
    ["time", `${formatDuration(report.seconds)} (${report.imagesPerSecond} img/s)`],
    ["peak RSS", `${Math.round(report.peakRssBytes / 2 ** 20)} MiB`],
  ];
  if (report.layout === "webdataset") {
    const bytes = report.shards.reduce((sum, shard) => sum + shard.bytes, 0);
    rows.push(["shards", `${report.shards.length} (${(bytes / 1e6).toFixed(1)} MB)`]);
  }
  for (const side of ["originals", "masks"] as const) {
    const network = report.network[side];
    if (network === undefined) continue;
    rows.push([
      `${side} over HTTP`,
      `${n(network.requests)} requests, ${(network.bytes / 1e6).toFixed(1)} MB, ${n(network.retries)} retries`,
    ]);
  }
  if (report.hub !== undefined) {
    const hub = report.hub;
    rows.push([
      "hub",
      `${n(hub.commits)} commits, ${n(hub.shardsUploaded)} shards uploaded, ${n(hub.shardsUnchanged + hub.shardsKept)} already there, ${(hub.bytesUploaded / 1e6).toFixed(1)} MB sent, ${n(hub.retries)} retries`,
    ]);
  }
  if (report.interrupted)
    rows.push(["interrupted", "yes: the shards listed are complete, the rest was not written"]);
  rows.push(["report", reportPath]);
  return `maskpipe ${report.name}: ${report.interrupted ? "interrupted" : "done"}\n${table(rows)}\n`;
}
