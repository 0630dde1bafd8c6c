#!/usr/bin/env node
import { MaskpipeError } from "../errors.js";
import { loadPipelineFile } from "../pipeline-file.js";
import { runPipeline } from "../run.js";
import { VERSION } from "../version.js";
import { inFlagTerms, parseRunArgs } from "./args.js";
import { MAIN_HELP, RUN_HELP } from "./help.js";
import { progressReporter } from "./progress.js";
import { summaryText } from "./summary.js";

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

async function run(argv: string[]): Promise<number> {
  const command = parseRunArgs(argv);
  if (command.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (command.pipelineFile === undefined) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      "Expected a pipeline file, e.g. maskpipe run pipelines/celeba.json",
    );
  }
  const defaults = await loadPipelineFile(command.pipelineFile);
  const options = { ...defaults, ...command.overrides };
  for (const required of ["originals", "masks", "out"] as const) {
    if (options[required] === undefined) {
      throw new MaskpipeError(
        "ERR_INVALID_OPTION",
        `Expected --${required}: neither the command line nor ${command.pipelineFile} gives it`,
      );
    }
  }

  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const progress = progressReporter(process.stderr);
  const report = await runPipeline({
    ...options,
    originals: options.originals!,
    masks: options.masks!,
    out: options.out!,
    signal: controller.signal,
    onProgress: command.quiet ? undefined : (state) => progress.update(state),
  });
  progress.done();
  const reportPath = options.report ?? `${options.out}/report.json`;
  if (report.nothingToDo) {
    process.stderr.write(
      `maskpipe ${report.name}: nothing to do: the run in ${options.out} finished before (${reportPath}); remove that report to run again\n`,
    );
    return 0;
  }
  process.stderr.write(summaryText(report, reportPath));
  return report.interrupted ? EXIT_INTERRUPTED : 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "--version" || command === "-v") {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      process.stdout.write(MAIN_HELP);
      return command === undefined ? EXIT_USAGE : 0;
    }
    if (command === "run") return await run(rest);
    process.stderr.write(`maskpipe: unknown command "${command}"\n\n${MAIN_HELP}`);
    return EXIT_USAGE;
  } catch (error) {
    if (error instanceof MaskpipeError) {
      const usage = error.code === "ERR_INVALID_OPTION" || error.code === "ERR_PIPELINE_FILE";
      process.stderr.write(
        `maskpipe: ${usage ? inFlagTerms(error.message) : error.message} [${error.code}]\n`,
      );
      return usage ? EXIT_USAGE : EXIT_FAILED;
    }
    process.stderr.write(
      `maskpipe: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`,
    );
    return EXIT_FAILED;
  }
}

// Started by bin.ts: when it is gone, even by kill -9, this run goes as if killed with it.
if (process.channel !== undefined) {
  process.channel.unref();
  process.once("disconnect", () => process.kill(process.pid, "SIGKILL"));
}
process.exitCode = await main(process.argv.slice(2));
