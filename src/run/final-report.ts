import { redactUrl } from "../core/redact.js";
import { VERSION } from "../core/version.js";
import { buildReport, type RunReport, splitCounts } from "../dataset/report.js";
import { runProblems } from "../dataset/run-verdict.js";
import type { ShardInfo } from "../sinks/sink.js";
import type { SevenZipSource } from "../sources/sevenzip/seven-zip-source.js";
import type { Source } from "../sources/source.js";
import type { WorkerUsage } from "../transforms/overlay-messages.js";
import { labelReport, labelSources } from "./label-report.js";
import type { RunContext, RunInputs } from "./run-context.js";

/** How the run ended: what it wrote, and whether it was a dry run or interrupted. */
export interface RunOutcome {
  written: number;
  shards: readonly ShardInfo[];
  interrupted?: boolean;
  dryRun?: boolean;
  /** What each overlay worker process used (a run whose overlay ran in processes). */
  workerUsage?: readonly WorkerUsage[];
  /** The processes the overlay ran in, when it ran. */
  overlayWorkers?: number;
}

/** The report of the run so far, with its verdict (problems) when it was not interrupted. */
export function finalReport(run: RunContext, inputs: RunInputs, outcome: RunOutcome): RunReport {
  const { options, stats } = run;
  const interrupted = outcome.interrupted ?? false;
  const report = buildReport(stats, {
    version: VERSION,
    identity: inputs.identity,
    ...(outcome.dryRun === true && { dryRun: true }),
    ...(options.limit !== undefined && { limit: options.limit }),
    written: outcome.written,
    name: options.name,
    originals: redactUrl(options.originals),
    masks: redactUrl(options.masks),
    out: options.out,
    layout: options.layout,
    join: inputs.strategy,
    seconds: (performance.now() - run.started) / 1000,
    interrupted,
    shards: outcome.shards,
    network: { originals: inputs.photos.http, masks: inputs.masks.http },
  });
  const { labeler } = inputs;
  const labels = labelReport(inputs.labelPlan, labeler, stats, options.partition);
  if (labels !== undefined) {
    const from = labelSources(options);
    report.labels = { ...labels, ...(from !== undefined && { from }) };
  }
  if (labeler !== undefined && labeler.splits.length > 0 && outcome.dryRun !== true)
    report.splits = splitCounts(report.shards);
  if (outcome.overlayWorkers !== undefined)
    report.overlayWorkers = overlayWorkers(outcome.overlayWorkers, outcome);
  if (options.partition !== undefined) report.partition = { ...options.partition };
  // A merge's card says how its partitions were made.
  if (options.command !== "") report.command = options.command;
  const sevenZip = sevenZipOf(inputs.photos, inputs.masks);
  if (sevenZip !== undefined) report.sevenZip = { ...sevenZip.binary };
  if (!interrupted) report.problems = runProblems(report, options.maxFailed);
  return report;
}

/** The overlay's processes and, when they ran as children and finished, what they used. */
function overlayWorkers(count: number, outcome: RunOutcome): RunReport["overlayWorkers"] {
  const usage = outcome.workerUsage;
  if (usage === undefined) return { count };
  return {
    count,
    cpuSeconds: Math.round(usage.reduce((sum, u) => sum + u.cpuSeconds, 0) * 1000) / 1000,
    peakRssBytes: usage.reduce((sum, u) => sum + u.peakRssBytes, 0),
  };
}

/** The 7z input of a run, if any: its binary goes in the report, its progress on the screen. */
export function sevenZipOf(...sources: Source[]): SevenZipSource | undefined {
  return sources.find((source): source is SevenZipSource => source.kind === "7z");
}
