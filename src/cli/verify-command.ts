import { parseSampleCount } from "../commands/verify/choose-samples.js";
import type { ProofOptions, VerifyOptions } from "../commands/verify/verify-output.js";
import { verifyOutput } from "../commands/verify/verify-output.js";
import { MaskpipeError } from "../core/errors.js";
import { httpOverrides, outputCommandArgs } from "./args.js";

export const VERIFY_HELP = `Usage: maskpipe verify <output> [options]

Checks a finished output (a folder, or hf://datasets/{owner}/{repo}) against its index and
report: every shard present, of its size and MD5 (SHA-256 too, from the report); every sample
whole (image, json, cls when the run had labels), no key twice; counts per shard, per split and
in all. Prints what it checked and each problem with its shard and member.

  --decode               also decode every image (slow: a full decode per sample)
  --inputs               also prove the output against the run's inputs: re-derive a choice of
                         samples and compare every member byte for byte (exit 3 on a difference)
  --sample N|all         samples --inputs re-derives, spread over the output (default 100)
  --originals PATH|URL   the photos, when not where the run recorded them (moved, a signed URL)
  --masks PATH|URL       the masks, likewise
  --annotations PATH     CelebA's annotation files, likewise (for the json and cls members)
  --header 'Name: value' a header for http(s) inputs (repeatable; never printed)
  --7z PATH              the 7-Zip that reads 7z inputs
  --hf-token TOKEN       for a private Hub repo (default: HF_TOKEN)
  --hub-url URL          the Hub or a mirror (default HF_ENDPOINT or https://huggingface.co)
  -q, --quiet            no progress lines
  -h, --help             this text

Exit codes: 0 the output is whole, 3 problems found, 1 it could not be read, 2 bad options.
`;

const FLAGS = {
  decode: { type: "boolean" },
  inputs: { type: "boolean" },
  sample: { type: "string" },
  originals: { type: "string" },
  masks: { type: "string" },
  annotations: { type: "string" },
  header: { type: "string" },
  "7z": { type: "string" },
  "hf-token": { type: "string" },
  "hub-url": { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

/** `maskpipe verify`: returns the exit code. */
export async function verifyCommand(argv: string[]): Promise<number> {
  const args = outputCommandArgs(argv, FLAGS, {
    name: "verify",
    help: VERIFY_HELP,
    expected: "one output to verify: maskpipe verify shards/casia",
  });
  if (args === undefined) return 0;
  const { values, output: spec } = args;

  const report = await verifyOutput(spec, {
    decode: values.decode === true,
    ...proofFlags(argv, values),
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

/** `--inputs` and the flags that go with it, as the library's `inputs` option. */
function proofFlags(
  argv: readonly string[],
  values: Record<string, string | boolean | undefined>,
): Pick<VerifyOptions, "inputs"> {
  const given = (flag: string) => (typeof values[flag] === "string" ? values[flag] : undefined);
  const withInputs = ["sample", "originals", "masks", "annotations", "header", "7z"].filter(
    (flag) => given(flag) !== undefined,
  );
  if (values.inputs !== true) {
    if (withInputs.length === 0) return {};
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected --inputs with --${withInputs[0]}: it says how to prove the output against its inputs`,
    );
  }
  const sample = given("sample");
  const count = sample === undefined ? undefined : parseSampleCount(sample);
  if (sample !== undefined && count === undefined) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected --sample N (a whole number from 1) or all, but received "${sample}"`,
    );
  }
  const http = httpOverrides(headerValues(argv), undefined, undefined);
  const token = given("hf-token");
  const endpoint = given("hub-url");
  const inputs: ProofOptions = {
    ...(count !== undefined && { sample: count }),
    ...(given("originals") !== undefined && { originals: given("originals")! }),
    ...(given("masks") !== undefined && { masks: given("masks")! }),
    ...(given("annotations") !== undefined && { annotations: given("annotations")! }),
    ...(given("7z") !== undefined && { sevenZip: given("7z")! }),
    ...(http !== undefined && { http }),
    ...((token !== undefined || endpoint !== undefined) && {
      hub: {
        ...(token !== undefined && { token }),
        ...(endpoint !== undefined && { endpoint }),
      },
    }),
  };
  return { inputs };
}

/** Every `--header` value (the parser keeps only the last of a repeated flag). */
function headerValues(argv: readonly string[]): string[] | undefined {
  const headers: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === "--header" && argv[i + 1] !== undefined) headers.push(argv[i + 1]!);
    else if (arg.startsWith("--header=")) headers.push(arg.slice("--header=".length));
  });
  return headers.length === 0 ? undefined : headers;
}
