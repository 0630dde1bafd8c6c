import { verifyOutput } from "../commands/verify/verify-output.js";
import { MaskpipeError } from "../core/errors.js";
import { parseCommandArgs } from "./args.js";

export const VERIFY_HELP = `Usage: maskpipe verify <output> [options]

Checks a finished output (a folder, or hf://datasets/{owner}/{repo}) against its index and
report: every shard present, of its size and MD5 (SHA-256 too, from the report); every sample
whole (image, json, cls when the run had labels), no key twice; counts per shard, per split and
in all. Prints what it checked and each problem with its shard and member.

  --decode               also decode every image (slow: a full decode per sample)
  --hf-token TOKEN       for a private Hub repo (default: HF_TOKEN)
  --hub-url URL          the Hub or a mirror (default HF_ENDPOINT or https://huggingface.co)
  -q, --quiet            no progress lines
  -h, --help             this text

Exit codes: 0 the output is whole, 3 problems found, 1 it could not be read, 2 bad options.
`;

const FLAGS = {
  decode: { type: "boolean" },
  "hf-token": { type: "string" },
  "hub-url": { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** `maskpipe verify`: returns the exit code. */
export async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, FLAGS, "verify");
  if (values.help === true) {
    process.stdout.write(VERIFY_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      "Expected one output to verify: maskpipe verify shards/casia",
    );
  }
  const spec = positionals[0]!;
  const report = await verifyOutput(spec, {
    decode: values.decode === true,
    ...(typeof values["hf-token"] === "string" && { token: values["hf-token"] }),
    ...(typeof values["hub-url"] === "string" && { hubUrl: values["hub-url"] }),
    onShard: (shard, done, total) => {
      if (values.quiet !== true && process.stderr.isTTY) {
        process.stderr.write(`\r\x1b[2K${done}/${total} shards checked (${shard})`);
      }
    },
  });
  if (process.stderr.isTTY && values.quiet !== true) process.stderr.write("\r\x1b[2K");
  const lines = [
    `maskpipe verify ${spec}: ${report.problems.length === 0 ? "whole" : `${report.problems.length} problem${report.problems.length === 1 ? "" : "s"}`}`,
    ...report.checked.map((line) => `  checked  ${line}`),
    ...report.problems.map((problem) => {
      const where = [problem.shard, problem.member].filter((part) => part !== undefined);
      return `  problem  ${where.map((part) => `${part}: `).join("")}${problem.message}`;
    }),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return report.problems.length === 0 ? 0 : 3;
}
