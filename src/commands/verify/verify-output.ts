import { basename, dirname } from "node:path";
import { MaskpipeError } from "../../core/errors.js";
import { resumeCommand } from "../../core/resume-command.js";
import {
  type OpenOutputOptions,
  type OutputFiles,
  openOutput,
} from "../../dataset/output-files.js";
import { hasLabels, type RunReport } from "../../dataset/report.js";
import { RUN_FILES } from "../../dataset/run-files.js";
import { FILE_EXTENSION, type OutputFormat } from "../../transforms/encode.js";
import { type ListedShard, listOutputShards } from "./output-shards.js";
import { type ProofOptions, proveInputs } from "./prove-inputs.js";
import { unlistedShards } from "./unlisted-shards.js";
import { daliIndexWanted, verifyDaliIndex } from "./verify-dali-index.js";
import { verifyFolder } from "./verify-folder.js";
import { verifyPairLists } from "./verify-pairs.js";
import { emptyReport, type VerifyReport } from "./verify-report.js";
import { verifyShard } from "./verify-shard.js";

export type { ProofOptions } from "./prove-inputs.js";
export type { InputProof, VerifyProblem, VerifyReport } from "./verify-report.js";

export interface VerifyOptions extends OpenOutputOptions {
  /** Decode every image too (slow: a full decode per sample). Default false. */
  decode?: boolean;
  /**
   * Also prove the output against the inputs it was made from: re-derive a choice of its
   * samples (100 unless `sample` says; `all`) and compare every member byte for byte. `{}` uses
   * the inputs the run recorded; `originals`/`masks` give them where they are now.
   */
  inputs?: ProofOptions;
  /** Called after each shard, for progress displays. */
  onShard?: (shard: string, done: number, total: number) => void;
}

/**
 * Checks an output (a folder or `hf://datasets/...`) against its own index and report: every
 * shard there, of its size, MD5 (the index's) and SHA-256 (the report's), and no shard the index
 * does not list; every sample whole (image, json, and cls when the run had labels), consecutive,
 * and no key twice; the counts per shard, per split and in all equal to the index and report;
 * with `decode`, every image decodes. A run that was interrupted is said first; a `--layout
 * folder` output is checked as its tree of images.
 *
 * @example
 * const result = await verifyOutput("shards/casia");
 * for (const problem of result.problems) console.error(problem.shard, problem.message);
 */
export async function verifyOutput(
  spec: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  if (spec.endsWith(".tar") && options.inputs !== undefined) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected the output folder with --inputs, not one shard (${spec}): the run's inputs and options are recorded in the report beside the shards`,
    );
  }
  if (spec.endsWith(".tar")) return verifyOneShard(spec, options);
  const files = await openOutput(spec, options);
  const result = emptyReport(spec);
  const decode = options.decode === true;
  try {
    const reportText = await files.text(RUN_FILES.report);
    if (reportText === undefined) {
      result.problems.push({ message: await noReportMessage(files) });
      return result;
    }
    const report = JSON.parse(reportText) as RunReport;
    // Said first: what follows is what an unfinished run left, not a damaged output.
    if (report.interrupted) result.problems.push({ message: interruptedMessage(report) });
    let shards: ListedShard[] = [];
    if (report.layout === "folder") await verifyFolder(files, report, decode, result);
    else shards = await verifyShards(files, report, options, result);
    if (options.inputs !== undefined)
      await proveInputs(files, report, shards, options.inputs, result);
    return result;
  } finally {
    await files.close();
  }
}

/** The shards of an output against its index and report. */
async function verifyShards(
  files: OutputFiles,
  report: RunReport,
  options: VerifyOptions,
  result: VerifyReport,
): Promise<ListedShard[]> {
  const listed = await listOutputShards(files, report);
  for (const message of listed.problems) result.problems.push({ message });
  result.problems.push(...(await unlistedShards(files, report, listed.shards)));
  const extension = FILE_EXTENSION[(report.identity?.format ?? "jpeg") as OutputFormat];
  const needed = [
    extension,
    "json",
    ...(hasLabels(report) ? ["cls"] : []),
    ...(report.identity?.with?.includes("mask") ? ["mask.png"] : []),
  ];
  const keys = new Set<string>();
  const daliRequired = report.identity?.daliIndex === true;
  const daliWanted = daliIndexWanted(files, daliRequired);
  let daliIndexes = 0;
  for (const [i, shard] of listed.shards.entries()) {
    const places = await verifyShard(files, shard, needed, keys, options.decode === true, result);
    // A missing shard is named already; its index has nothing to be checked against.
    const wanted = places.length > 0 && (await daliWanted(shard.path));
    if (wanted && (await verifyDaliIndex(files, shard, places, daliRequired, result)))
      daliIndexes++;
    options.onShard?.(shard.path, i + 1, listed.shards.length);
  }
  compareCounts(report, listed.shards, result);
  const pairs = await verifyPairLists(files, listed.shards, keys);
  result.problems.push(...pairs.problems);
  result.checked.push(
    `${result.shards} shards, ${result.bytes.toLocaleString("en-US")} bytes: present, sizes and MD5 as in the index${listed.shards.some((s) => s.sha256 !== undefined) ? ", SHA-256 as in the report" : ""}`,
    `${result.samples.toLocaleString("en-US")} samples: each with ${needed.join(", ")}, members consecutive, no key twice`,
    `counts per shard, per split and in all against the index and report`,
    ...(daliIndexes > 0
      ? [`${daliIndexes} DALI indexes: sample counts, member offsets and sizes against the shards`]
      : []),
    ...(options.decode === true
      ? [`${result.decoded.toLocaleString("en-US")} images decoded`]
      : []),
    ...(pairs.checked === undefined ? [] : [pairs.checked]),
  );
  return listed.shards;
}

/** The first thing verify says of an output whose run was interrupted: how to go on. */
function interruptedMessage(report: RunReport): string {
  const how =
    report.command === undefined
      ? "the same maskpipe run command with --resume"
      : resumeCommand(report.command);
  return `the run that made this output was interrupted (${RUN_FILES.report}): resume it with ${how}; what it left is checked below`;
}

/** Why there is no report: a run that has not finished (its run.json is there), or none at all. */
async function noReportMessage(files: OutputFiles): Promise<string> {
  if ((await files.text(RUN_FILES.identity)) === undefined)
    return `${RUN_FILES.report}: missing, so nothing can be checked against it`;
  return `${RUN_FILES.report}: missing beside ${RUN_FILES.identity}: the run that made this output has not finished (it is still running, or was killed); resume it with the same maskpipe run command and --resume, then verify again`;
}

/**
 * One shard by itself, with no index or report beside it to compare with: its samples whole
 * (each with the members its first sample has), consecutive, no key twice; images decode with
 * `decode`; its DALI index, when there is one beside it.
 */
async function verifyOneShard(spec: string, options: VerifyOptions): Promise<VerifyReport> {
  const files = await openOutput(dirname(spec), options);
  const result = emptyReport(spec);
  try {
    const shard = {
      path: basename(spec),
      split: undefined,
      nsamples: -1,
      filesize: -1,
      md5sum: "",
      sha256: undefined,
    };
    const places = await verifyShard(
      files,
      shard,
      undefined,
      new Set(),
      options.decode === true,
      result,
    );
    // A DALI index beside the shard is checked too; none is no problem: nothing says it should be.
    const wanted = places.length > 0 && (await daliIndexWanted(files, false)(shard.path));
    const daliIndex = wanted && (await verifyDaliIndex(files, shard, places, false, result));
    result.checked.push(
      `${result.samples.toLocaleString("en-US")} samples in ${basename(spec)}: each with the members of the first, consecutive, no key twice (no index or report to compare sizes, hashes and counts with)`,
      ...(daliIndex ? [`its DALI index: sample count, member offsets and sizes`] : []),
      ...(options.decode === true
        ? [`${result.decoded.toLocaleString("en-US")} images decoded`]
        : []),
    );
    return result;
  } finally {
    await files.close();
  }
}

function compareCounts(
  report: RunReport,
  shards: readonly ListedShard[],
  result: VerifyReport,
): void {
  const expected = report.written + report.resumed;
  if (result.samples !== expected) {
    result.problems.push({
      message: `${result.samples.toLocaleString("en-US")} samples in the shards, the report says ${expected.toLocaleString("en-US")} (written ${report.written} + resumed ${report.resumed})`,
    });
  }
  for (const [split, counts] of Object.entries(report.splits ?? {})) {
    const found = result.samplesBySplit[split] ?? 0;
    if (found !== counts.samples) {
      result.problems.push({
        message: `split ${split}: ${found} samples in its shards, the report says ${counts.samples}`,
      });
    }
  }
  // The report names shards as the run did: `casia-000000.tar`, or `train/...` with splits.
  const listed = new Set(
    shards.map(
      (shard) =>
        `${shard.split === undefined ? "" : `${shard.split}/`}${shard.path.split("/").at(-1)}`,
    ),
  );
  for (const shard of report.shards) {
    if (!listed.has(shard.name)) {
      result.problems.push({ shard: shard.name, message: "in the report but in no index" });
    }
  }
}
