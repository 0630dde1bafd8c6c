import { join } from "node:path";
import { jsonText } from "../core/json-text.js";
import { VERSION } from "../core/version.js";
import { datasetCard } from "../dataset/dataset-card.js";
import type { HubSink } from "../dataset/hub-dataset.js";
import { publishedReport, type RunReport } from "../dataset/report.js";
import { RUN_FILES } from "../dataset/run-files.js";
import { classesText } from "../labels/labeler.js";
import { rootOf, writeOutputFile } from "../sinks/output-file.js";
import type { SampleSink } from "../sinks/sink.js";
import type { WorkerUsage } from "../transforms/overlay-messages.js";
import { localOutput } from "./claim-output.js";
import type { ErrorLog } from "./error-log.js";
import { finalReport } from "./final-report.js";
import type { KeptOutput } from "./make-sink.js";
import type { RunContext, RunInputs } from "./run-context.js";

/** The stream stage's end: the sink and what it held, and whether the run was interrupted. */
export interface StreamEnd {
  sink: SampleSink;
  hub: HubSink | undefined;
  kept: KeptOutput;
  interrupted: boolean;
  /** The processes the overlay ran in. */
  overlayWorkers: number;
  /** What each overlay worker process used, when there were any and they finished. */
  workerUsage?: readonly WorkerUsage[];
}

/**
 * The run's last writes once its samples are in: the report with its verdict, then, unless
 * interrupted, the Hub's last commit (card, index, report, errors); for a folder, the class
 * list, the card (not for a partition: the merge writes one for all) and the report file.
 */
export async function finishRun(
  run: RunContext,
  inputs: RunInputs,
  end: StreamEnd,
  errors: ErrorLog,
): Promise<RunReport> {
  const { options } = run;
  const { interrupted, sink, hub } = end;
  const inShards = sink.result.shards.reduce((sum, shard) => sum + shard.samples, 0);
  const report = finalReport(run, inputs, {
    interrupted,
    // A shard counts once complete: samples of one an interruption left are not in the output.
    written: options.layout === "folder" ? run.stats.written : inShards,
    shards: [...end.kept.shards, ...sink.result.shards],
    overlayWorkers: end.overlayWorkers,
    ...(end.workerUsage !== undefined && { workerUsage: end.workerUsage }),
  });
  const { labeler } = inputs;
  const classes = labeler === undefined ? undefined : classesText(labeler.tables.classes);
  const notes = [...end.kept.redone, ...(hub?.notes ?? [])];
  if (notes.length > 0) report.notes = notes;
  if (hub !== undefined && !interrupted) {
    await hub.publish(publishedReport(report), {
      command: options.command,
      version: VERSION,
      errors: errors.publishedLines(),
      ...(classes !== undefined && { classes }),
    });
    report.hub = hub.hub;
  }
  // A partition's list goes in its folder: the merge checks they agree and writes the one.
  if (!run.toHub && classes !== undefined) {
    await writeOutputFile(options.out, join(run.records, RUN_FILES.classes), classes);
  }
  if (!run.toHub && options.layout === "webdataset" && !interrupted && !options.partition) {
    const splits = labeler?.splits ?? [];
    const card = datasetCard(report, {
      repo: options.out,
      dataFolder: (split) => (splits.length === 0 ? "" : `${split}/`),
      command: options.command,
      version: VERSION,
    });
    await writeOutputFile(options.out, join(options.out, RUN_FILES.card), card);
  }
  // Before the report: a report saying "done" vouches for the errors file beside it.
  await errors.close();
  if (options.report !== undefined) {
    const root = rootOf(options.report, localOutput(run));
    await writeOutputFile(root, options.report, jsonText(report));
  }
  return report;
}
