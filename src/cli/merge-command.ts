import { mergePartitions } from "../commands/merge/merge-partitions.js";
import { RUN_FILES } from "../dataset/run-files.js";
import { commandText, outputCommandArgs } from "./args.js";
import { summaryText } from "./summary.js";

export const MERGE_HELP = `Usage: maskpipe merge <output> [options]

Joins the partitions of a run (maskpipe run ... --partition I/N, each into the same output: a
folder on a shared volume, or hf://datasets/{owner}/{repo}) into one data set: the wids index
(one per split), report.json with the counts summed, classes.txt, errors.jsonl and the dataset
card. The shards stay where the partitions wrote them; each partition's own report stays in
partitions/{I}ofN/. Refuses, naming the partition, when one is missing, has not finished, or
ran with other inputs or options. Merging again rewrites the same files.

  --max-failed N|P%      failed pairs the merged output may have and be complete (default 0)
  --hf-token TOKEN       Hub write token (default: HF_TOKEN)
  --hub-url URL          the Hub or a mirror (default HF_ENDPOINT or https://huggingface.co)
  -q, --quiet            no summary
  -h, --help             this text

Exit codes: 0 merged and complete, 3 merged but the output is not complete (the summary says
why), 1 not merged (a partition missing, unfinished or different), 2 bad options.
`;

const FLAGS = {
  "max-failed": { type: "string" },
  "hf-token": { type: "string" },
  "hub-url": { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** `maskpipe merge`: returns the exit code. */
export async function mergeCommand(argv: string[]): Promise<number> {
  const args = outputCommandArgs(argv, FLAGS, {
    name: "merge",
    help: MERGE_HELP,
    expected: "one output to merge: maskpipe merge shards/celeba",
  });
  if (args === undefined) return 0;
  const { values, output: out } = args;

  const report = await mergePartitions(out, {
    // "10" or "0.1%": the option's own check reads both.
    ...(typeof values["max-failed"] === "string" && { maxFailed: values["max-failed"] }),
    ...(typeof values["hf-token"] === "string" && { token: values["hf-token"] }),
    ...(typeof values["hub-url"] === "string" && { hubUrl: values["hub-url"] }),
    mergeCommand: commandText(argv),
  });
  if (values.quiet !== true) {
    process.stderr.write(summaryText(report, `${out.replace(/\/+$/, "")}/${RUN_FILES.report}`));
  }
  return report.problems.length > 0 ? 3 : 0;
}
