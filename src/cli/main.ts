#!/usr/bin/env node
import { MaskpipeError } from "../core/errors.js";
import { commandSecrets, Redactor, redactArgs } from "../core/redact.js";
import { VERSION } from "../core/version.js";
import { loadPipelineFile, type PipelineDefaults } from "../run/pipeline-file.js";
import { type RunOptions, type RunProgress, runRecordsFolder } from "../run/run-options.js";
import { runPipeline } from "../run/run-pipeline.js";
import { inFlagTerms, parseRunArgs, type RunCommand } from "./args.js";
import { pipelinePath } from "./builtin-pipelines.js";
import { MAIN_HELP, RUN_HELP } from "./help.js";
import { currentCommandPrefix } from "./invocation.js";
import { runLocalWorkers } from "./local-workers.js";
import { mergeCommand } from "./merge-command.js";
import { pairsCommand } from "./pairs-command.js";
import { previewCommand } from "./preview-command.js";
import { progressReporter } from "./progress.js";
import { resumeCommand, summaryText } from "./summary.js";
import { verifyCommand } from "./verify-command.js";

/** Exit codes, as `maskpipe --help` documents them. */
export const EXIT = {
  /** The output is complete and trustworthy (or a dry run found the inputs pair). */
  done: 0,
  /** The run stopped on an error: unreadable input, inputs that do not fit, a write failure. */
  failed: 1,
  /** Bad flags or pipeline file: nothing was done. */
  usage: 2,
  /** The run finished but its output is not complete: see the summary's problems. */
  incomplete: 3,
  /** Interrupted (SIGINT, SIGTERM): complete shards kept; --resume goes on. */
  interrupted: 130,
} as const;

/** Signals this close to the first are one stop, not a second "end now" (see `stop`). */
const SAME_STOP_MS = 1000;

async function run(argv: string[], redactor: Redactor): Promise<number> {
  const command = parseRunArgs(argv);
  // The command that goes on from here, as the console may show it: secrets left out.
  const shownCommand = redactArgs(argv);
  if (command.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (command.pipelineFile === undefined) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      "Expected a pipeline: celeba, casia, sample or a pipeline file, e.g. maskpipe run celeba --originals ... --masks ... --out ...",
    );
  }
  const defaults = await loadPipelineFile(pipelinePath(command.pipelineFile));
  const options = { ...defaults, ...command.overrides };
  for (const required of ["originals", "masks", "out"] as const) {
    if (options[required] === undefined) {
      throw new MaskpipeError(
        "ERR_INVALID_OPTION",
        `Expected --${required}: neither the command line nor the pipeline ${command.pipelineFile} gives it`,
      );
    }
  }

  const controller = new AbortController();
  let stoppedAt = 0;
  // A second signal, or a step that does not end within a few seconds, ends the process. One
  // within SAME_STOP_MS is the same stop: Slurm signals every process of a job, this one and
  // the launcher, which forwards its own.
  const again = () => {
    if (performance.now() - stoppedAt >= SAME_STOP_MS) process.exit(EXIT.interrupted);
  };
  const stop = () => {
    stoppedAt = performance.now();
    controller.abort();
    process.on("SIGINT", again);
    process.on("SIGTERM", again);
    setTimeout(() => {
      process.stderr.write("maskpipe: interrupted; a step did not stop in time\n");
      process.exit(EXIT.interrupted);
    }, 5000).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    return await runWith(command, options, controller, { redactor, shownCommand });
  } finally {
    // main() may be called again in this process (a test, a user's script).
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.off(signal, stop);
      process.off(signal, again);
    }
  }
}

/** The run once its command is checked and a signal stops it: its exit code. */
async function runWith(
  command: RunCommand,
  options: PipelineDefaults & Partial<RunOptions>,
  controller: AbortController,
  shown: { redactor: Redactor; shownCommand: string },
): Promise<number> {
  const { redactor, shownCommand } = shown;
  const progress = progressReporter(process.stderr);
  if (command.workers !== undefined && command.workers > 1 && options.dryRun !== true) {
    return runAsWorkers({ ...command, workers: command.workers }, options, {
      signal: controller.signal,
      progress,
      redactor,
      shownCommand,
    });
  }
  const toParent = progressToParent();
  const report = await runPipeline({
    ...options,
    originals: options.originals!,
    masks: options.masks!,
    out: options.out!,
    signal: controller.signal,
    onProgress: command.quiet
      ? toParent
      : (state) => {
          progress.update(state);
          toParent?.(state);
        },
  });
  progress.done();
  const reportPath =
    options.report ?? `${runRecordsFolder(options.out!, options.partition)}/report.json`;
  if (report.nothingToDo) {
    process.stderr.write(
      redactor.text(
        `maskpipe ${report.name}: nothing to do: the same run in ${options.out} finished before (${reportPath}); pass --overwrite instead of --resume to make it again\n`,
      ),
    );
    return report.problems.length > 0 ? EXIT.incomplete : EXIT.done;
  }
  process.stderr.write(
    redactor.text(summaryText(report, reportPath, shownCommand, currentCommandPrefix())),
  );
  if (report.interrupted) return EXIT.interrupted;
  return report.problems.length > 0 ? EXIT.incomplete : EXIT.done;
}

/** `--workers K`: the run as K partition processes on this machine, merged; the exit code. */
async function runAsWorkers(
  command: RunCommand & { workers: number },
  options: Partial<RunOptions>,
  context: {
    signal: AbortSignal;
    progress: ReturnType<typeof progressReporter>;
    redactor: Redactor;
    /** The run's command line as the console may show it. */
    shownCommand: string;
  },
): Promise<number> {
  const { workers } = command;
  const { signal, progress, redactor, shownCommand } = context;
  if (options.partition !== undefined || options.layout === "folder") {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      options.layout === "folder"
        ? "Expected --workers with shards: --layout folder writes one tree from one process"
        : "Expected --workers or --partition, not both: --workers runs partitions of its own on this machine",
    );
  }
  const result = await runLocalWorkers({
    args: command.argsForWorkers,
    command: options.command ?? "",
    workers,
    out: options.out!,
    concurrency: options.concurrency,
    maxFailed: options.maxFailed,
    hub: options.hub,
    signal,
    onProgress: command.quiet ? undefined : (state) => progress.update(state),
  });
  progress.done();
  if (result.failed !== undefined) {
    const { partition, code, stderr } = result.failed;
    // A worker's own summary names its own resume command: the one to give is the whole run's.
    const said =
      code === EXIT.interrupted ? "" : `:\n  ${stderr.trim().split("\n").slice(-12).join("\n  ")}`;
    process.stderr.write(
      redactor.text(
        `maskpipe: worker ${partition} of ${workers} (--partition ${partition}/${workers}) ${code === EXIT.interrupted ? "was interrupted" : `failed (exit ${code})`}${said}\n` +
          `complete shards are kept; continue with: ${resumeCommand(shownCommand, currentCommandPrefix())}\n`,
      ),
    );
    return code === EXIT.interrupted
      ? EXIT.interrupted
      : code === EXIT.usage
        ? EXIT.usage
        : EXIT.failed;
  }
  const merged = result.report!;
  process.stderr.write(redactor.text(summaryText(merged, `${options.out}/report.json`)));
  return merged.problems.length > 0 ? EXIT.incomplete : EXIT.done;
}

/**
 * A worker of `--workers` tells its parent how far it is, over the IPC channel, a few times a
 * second; `undefined` for any other run.
 */
function progressToParent(): ((state: RunProgress) => void) | undefined {
  if (process.env.MASKPIPE_PROGRESS !== "ipc" || process.send === undefined) return undefined;
  let last = 0;
  return (state) => {
    const now = performance.now();
    if (now - last < 250) return;
    last = now;
    process.send?.(state);
  };
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Whatever a step's message quotes, a secret the user typed is not printed back.
  const redactor = new Redactor(commandSecrets(argv));
  try {
    if (command === "--version" || command === "-v") {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      process.stdout.write(MAIN_HELP);
      return command === undefined ? EXIT.usage : EXIT.done;
    }
    if (command === "run") return await run(rest, redactor);
    if (command === "verify") return await verifyCommand(rest);
    if (command === "preview") return await previewCommand(rest);
    if (command === "merge") return await mergeCommand(rest);
    if (command === "pairs") return await pairsCommand(rest);
    process.stderr.write(`maskpipe: unknown command "${command}"\n\n${MAIN_HELP}`);
    return EXIT.usage;
  } catch (error) {
    if (error instanceof MaskpipeError) {
      const usage = error.code === "ERR_INVALID_OPTION" || error.code === "ERR_PIPELINE_FILE";
      process.stderr.write(
        redactor.text(
          `maskpipe: ${usage ? inFlagTerms(error.message) : error.message} [${error.code}]\n`,
        ),
      );
      if (error.code === "ERR_INTERRUPTED") return EXIT.interrupted;
      return usage ? EXIT.usage : EXIT.failed;
    }
    process.stderr.write(
      redactor.text(`maskpipe: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`),
    );
    return EXIT.failed;
  }
}
