import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { jsonText } from "../core/json-text.js";
import { checkOutputPath, type OutputPath, prepareOutputPaths } from "../dataset/output-paths.js";
import { claimOutput } from "../dataset/output-policy.js";
import { isMaskpipeErrors, isMaskpipeReport } from "../dataset/owned-file.js";
import type { RunReport } from "../dataset/report.js";
import { RUN_FILES } from "../dataset/run-files.js";
import { identityDifferences, type RunIdentity } from "../dataset/run-identity.js";
import { checkResumable, readIdentityFile } from "../dataset/run-record.js";
import {
  makeOutputFolder,
  removeOutputFile,
  rootOf,
  writeOutputFile,
} from "../sinks/output-file.js";
import { FILE_EXTENSION } from "../transforms/encode.js";
import type { RunContext } from "./run-context.js";

/** What a run made before its first sample, taken back if it stops before writing one. */
export interface MadeBeforeFirstSample {
  folders: string[];
  record?: string;
}

/** The paths a local run writes: checked before any work, made just before the first sample. */
export function outputPaths(run: RunContext): OutputPath[] {
  const { options } = run;
  return [
    ...(run.toHub ? [] : [{ path: options.out, role: "output folder", kind: "folder" as const }]),
    // An existing --report or --errors is replaced only when an earlier maskpipe run wrote it.
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

/** Refuses output paths that cannot be written (a file where a folder goes, ...) before any work. */
export async function checkOutputPaths(run: RunContext): Promise<void> {
  for (const output of outputPaths(run)) await checkOutputPath(output);
}

/**
 * Claims a local output folder by the output-folder policy (new, --overwrite, --resume with the
 * same identity). Returns the report of the same run, finished before, when --resume has
 * nothing to do.
 */
export async function claimFolder(
  run: RunContext,
  identity: RunIdentity,
): Promise<RunReport | undefined> {
  const { options, mode } = run;
  if (mode === "resume") {
    const finished = await finishedReport(options.report, identity);
    if (finished !== undefined) return finished;
  }
  const found = await claimOutput({
    dir: options.out,
    name: options.name,
    ...(options.layout === "folder" && { imageExtension: FILE_EXTENSION[options.format] }),
    files: [options.report, options.errors].filter((file) => file !== undefined),
    mode,
    ...(options.partition !== undefined && { partition: options.partition }),
  });
  if (mode === "resume") {
    const record = join(run.records, RUN_FILES.identity);
    const recorded = await readIdentityFile(record);
    const others = found.filter((file) => resolve(file) !== resolve(record));
    checkResumable(options.out, recorded, identity, others.length > 0);
  }
  return undefined;
}

/**
 * Makes the output's folders, removes a report an earlier run left (it must not describe the
 * shards this run is about to replace) and, for a folder, writes run.json before the first
 * sample. What it made is added to `made`.
 */
export async function prepareOutput(
  run: RunContext,
  identity: RunIdentity,
  made: MadeBeforeFirstSample,
): Promise<void> {
  const { options } = run;
  made.folders.push(...(await prepareOutputPaths(outputPaths(run))));
  if (options.report !== undefined)
    await removeOutputFile(rootOf(options.report, localOutput(run)), options.report);
  if (run.toHub) return;
  const record = join(run.records, RUN_FILES.identity);
  if (run.mode !== "resume" || !existsSync(record)) made.record = record;
  if (options.partition !== undefined)
    made.folders.push(...(await makeOutputFolder(options.out, run.records)));
  await writeOutputFile(options.out, record, jsonText(identity));
}

/** The output folder of a local run, below which a report or errors file follows no link. */
export function localOutput(run: RunContext): string | undefined {
  return run.toHub ? undefined : run.options.out;
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
