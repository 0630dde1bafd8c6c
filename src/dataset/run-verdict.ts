import { invalid } from "../core/validate.js";

/** Why a finished run's output cannot be trusted as complete; each makes the CLI exit 3. */
export type RunProblemCode =
  | "NOTHING_WRITTEN"
  | "TOO_MANY_FAILED"
  | "MASKS_UNMATCHED"
  | "SIZE_MISMATCHES";

export interface RunProblem {
  code: RunProblemCode;
  message: string;
}

/** Failed pairs a run may have and still count as complete: a number, or a share of the pairs. */
export type FailureAllowance = { count: number } | { percent: number };

/**
 * None. A real CelebA or CASIA-WebFace run has no unreadable pair, so one failure says the
 * download is damaged or the inputs are not what they seem: the run still writes every other
 * sample, but does not call its output complete.
 */
export const MAX_FAILED_DEFAULT: FailureAllowance = { count: 0 };

/** `10` (pairs) or `0.5%` (of the pairs), as `--max-failed` takes it. */
export function checkFailureAllowance(name: string, value: unknown): FailureAllowance {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0)
    return { count: value };
  if (typeof value === "string") {
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
    if (percent !== null && Number(percent[1]) <= 100) return { percent: Number(percent[1]) };
    if (/^\d+$/.test(value.trim())) return { count: Number(value) };
  }
  throw invalid("a count such as 10 or a share of the pairs such as 0.1%", name, value);
}

export function allowanceText(allowance: FailureAllowance): string {
  return "count" in allowance ? String(allowance.count) : `${allowance.percent}%`;
}

/** What the verdict reads of a report. */
export interface VerdictInput {
  pairs: number;
  written: number;
  resumed: number;
  failed: number;
  failedByReason: Record<string, number>;
  failureExamples: Record<string, string>;
  masksWithoutPhoto: number;
  /** Pairs written with a mask of another size than the photo: misplaced, judged as failures. */
  sizeMismatches: number;
  unmatchedExamples: { masks: string[] };
  /** A dry run writes nothing on purpose: "nothing written" then only when nothing would pair. */
  dryRun?: boolean;
  /**
   * One partition's own report (it has an `index`): its slice may be empty, so whether the run
   * wrote anything is the merged report's verdict.
   */
  partition?: { index: number } | { merged: true };
}

/** The problems of a finished run's result; none means exit 0. */
export function runProblems(report: VerdictInput, allowance: FailureAllowance): RunProblem[] {
  const problems: RunProblem[] = [];
  const n = (value: number) => value.toLocaleString("en-US");
  const judgesWriting =
    (report.dryRun !== true || report.pairs === 0) &&
    !(report.partition !== undefined && "index" in report.partition);
  if (judgesWriting && report.written + report.resumed === 0) {
    problems.push({
      code: "NOTHING_WRITTEN",
      message:
        report.pairs === 0
          ? "nothing was written: no photo found its mask"
          : `nothing was written: all ${n(report.pairs)} pairs failed`,
    });
  }
  const allowed =
    "count" in allowance ? allowance.count : Math.floor((allowance.percent / 100) * report.pairs);
  if (report.failed > allowed) {
    const [reason, count] = Object.entries(report.failedByReason).sort((a, b) => b[1] - a[1])[0]!;
    problems.push({
      code: "TOO_MANY_FAILED",
      message: `${n(report.failed)} of ${n(report.pairs)} pairs failed (--max-failed ${allowanceText(allowance)}); most often ${reason} (${n(count)}), e.g. ${report.failureExamples[reason]}`,
    });
  }
  if (report.sizeMismatches > allowed) {
    problems.push({
      code: "SIZE_MISMATCHES",
      message: `${n(report.sizeMismatches)} of ${n(report.pairs)} masks are another size than their photo (--max-failed ${allowanceText(allowance)}): clipped or covering part of it, they are misplaced; check that --originals are the photos the masks were drawn on (CelebA's in-the-wild img_celeba, CASIA-WebFace's 250x250 release)`,
    });
  }
  if (report.masksWithoutPhoto > report.pairs) {
    const example = report.unmatchedExamples.masks[0];
    problems.push({
      code: "MASKS_UNMATCHED",
      message: `${n(report.masksWithoutPhoto)} of ${n(report.masksWithoutPhoto + report.pairs)} masks found no photo${example === undefined ? "" : ` (e.g. ${example})`}: these masks do not seem to belong to these photos; check --originals, --masks and the pipeline's key rules`,
    });
  }
  return problems;
}
