import { parseArgs } from "node:util";
import { MaskpipeError } from "../core/errors.js";
import { parsePartition } from "../core/partition.js";
import { redactArgs } from "../core/redact.js";
import type { RunOptions } from "../run/run-options.js";
import { parseWorkers } from "./local-workers.js";

/** Flags of `maskpipe run`, each the kebab-case of a RunOptions field. */
const RUN_FLAGS = {
  originals: { type: "string" },
  masks: { type: "string" },
  out: { type: "string" },
  layout: { type: "string" },
  format: { type: "string" },
  quality: { type: "string" },
  "optimize-coding": { type: "boolean" },
  concurrency: { type: "string" },
  "overlay-workers": { type: "string" },
  "max-pixels": { type: "string" },
  "on-error": { type: "string" },
  "shard-max-count": { type: "string" },
  "shard-max-bytes": { type: "string" },
  "dali-index": { type: "boolean" },
  "join-memory": { type: "string" },
  header: { type: "string", multiple: true },
  "hf-token": { type: "string" },
  "hub-url": { type: "string" },
  private: { type: "boolean" },
  xet: { type: "boolean" },
  "hub-buffer": { type: "string" },
  "hub-spool": { type: "string" },
  "http-retries": { type: "string" },
  "http-timeout": { type: "string" },
  report: { type: "string" },
  errors: { type: "string" },
  resume: { type: "boolean" },
  overwrite: { type: "boolean" },
  "dry-run": { type: "boolean" },
  limit: { type: "string" },
  "max-failed": { type: "string" },
  "7z": { type: "string" },
  labels: { type: "string" },
  annotations: { type: "string" },
  identities: { type: "string" },
  partitions: { type: "string" },
  attributes: { type: "string" },
  bboxes: { type: "string" },
  landmarks: { type: "string" },
  classes: { type: "string" },
  holdout: { type: "string" },
  "strict-labels": { type: "boolean" },
  with: { type: "string" },
  masked: { type: "string" },
  "keep-unmasked": { type: "boolean" },
  partition: { type: "string" },
  workers: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

const INTEGER_FLAGS = new Set([
  "quality",
  "concurrency",
  "overlay-workers",
  "max-pixels",
  "shard-max-count",
  "hub-buffer",
  "limit",
]);

/** One annotation file each, as `annotationFiles` names them. */
const ANNOTATION_FILE_FLAGS = {
  identities: "identities",
  partitions: "splits",
  attributes: "attributes",
  bboxes: "bboxes",
  landmarks: "landmarks",
} as const;
const ANNOTATION_FLAGS = Object.keys(ANNOTATION_FILE_FLAGS);

/** Flags that are not a RunOptions field of their own name. */
const NOT_RUN_OPTIONS = new Set([
  "7z",
  "partition",
  "workers",
  ...ANNOTATION_FLAGS,
  "quiet",
  "help",
  "header",
  "http-retries",
  "http-timeout",
  "hf-token",
  "hub-url",
]);

export interface RunCommand {
  pipelineFile: string | undefined;
  overrides: Partial<RunOptions>;
  quiet: boolean;
  help: boolean;
  /** `--workers K`: processes on this machine, each a partition of the run. */
  workers: number | undefined;
  /** The arguments without `--workers`, as each worker process is given them. */
  argsForWorkers: string[];
}

export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

export function kebabCase(option: string): string {
  return option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

export function parseRunArgs(argv: string[]): RunCommand {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof RUN_FLAGS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: RUN_FLAGS, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      parseErrorText(cause as Error, argv, Object.keys(RUN_FLAGS), "run"),
      { cause },
    );
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected one pipeline file but received ${positionals.length} arguments: ${positionals.join(" ")}`,
    );
  }
  const overrides: Record<string, unknown> = {};
  const http = httpOverrides(values.header, values["http-retries"], values["http-timeout"]);
  if (http !== undefined) overrides.http = http;
  if (values["7z"] !== undefined) overrides.sevenZip = values["7z"];
  if (values.partition !== undefined) overrides.partition = parsePartition(values.partition);
  if (values.partitions !== undefined && /^\d+(\/\d+)?$/.test(values.partitions)) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `--partitions names CelebA's split file (list_eval_partition.txt); for this worker's share of the run say --partition ${values.partitions}`,
    );
  }
  const files: Record<string, string> = {};
  for (const [flag, kind] of Object.entries(ANNOTATION_FILE_FLAGS)) {
    const value = values[flag as keyof typeof ANNOTATION_FILE_FLAGS];
    if (value !== undefined) files[kind] = value;
  }
  if (Object.keys(files).length > 0) overrides.annotationFiles = files;
  if (values["hf-token"] !== undefined || values["hub-url"] !== undefined) {
    overrides.hub = {
      ...(values["hf-token"] !== undefined && { token: values["hf-token"] }),
      ...(values["hub-url"] !== undefined && { endpoint: values["hub-url"] }),
    };
  }
  for (const [flag, value] of Object.entries(values)) {
    if (NOT_RUN_OPTIONS.has(flag) || value === undefined) continue;
    // Whole numbers become numbers; anything else is passed on for the option check to name.
    overrides[camelCase(flag)] =
      INTEGER_FLAGS.has(flag) && typeof value === "string" && /^\d+$/.test(value)
        ? Number(value)
        : value;
  }
  overrides.command = commandText(argv);
  return {
    pipelineFile: positionals[0],
    overrides: overrides as Partial<RunOptions>,
    quiet: values.quiet === true,
    help: values.help === true,
    workers: values.workers === undefined ? undefined : parseWorkers(values.workers),
    argsForWorkers: argv.filter(
      (arg, index) =>
        arg !== "--workers" && argv[index - 1] !== "--workers" && !arg.startsWith("--workers="),
    ),
  };
}

/**
 * A command's arguments as its report and dataset card show how the data was made: secrets left
 * out and local paths reduced to file names (redact.ts), as anything published must be.
 */
export function commandText(argv: readonly string[]): string {
  return redactArgs(argv, true);
}

/**
 * Node's parser messages in one clean line, with the nearest flag for a typo; `known` are the
 * command's flags, `command` its name for the pointer to --help.
 */
export function parseErrorText(
  error: Error & { code?: string },
  argv: string[],
  known: readonly string[],
  command: string,
): string {
  const flag = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1] ?? "";
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const near = nearestFlag(flag.replace(/^-+/, "").split("=")[0]!, known);
    const hint = near === undefined ? "" : `; did you mean --${near}?`;
    return `Unknown option ${flag}${hint} (maskpipe ${command} --help lists them)`;
  }
  if (error.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = flag.split(" ")[0]!;
    return /does not take an argument/.test(error.message)
      ? `${name} takes no value`
      : `${name} needs a value, e.g. ${name} ${name === "--out" ? "shards/celeba" : "..."}`;
  }
  if (error.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    return `Unexpected argument: ${argv.join(" ")}; see maskpipe ${command} --help`;
  }
  return `${error.message.split(". ")[0]}; see maskpipe ${command} --help`;
}

/** The known flag closest to `typed` (edit distance at most 3, or a prefix), if any. */
export function nearestFlag(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const flag of known) {
    const distance =
      flag.startsWith(typed) || typed.startsWith(flag) ? 1 : editDistance(typed, flag);
    if (distance < bestDistance) {
      best = flag;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.min(3, Math.max(1, Math.floor(typed.length / 2))) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** A subcommand's flags and positionals, Node's parse errors turned into one clean line. */
export function parseCommandArgs(
  argv: string[],
  flags: Record<string, { type: "string" | "boolean"; short?: string }>,
  command: string,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      parseErrorText(cause as Error, argv, Object.keys(flags), command),
      { cause },
    );
  }
}

/**
 * The flags and the one output of a command that reads an output (verify, preview, merge,
 * pairs); `undefined` when `--help` was asked for, once the help is printed.
 */
export function outputCommandArgs(
  argv: string[],
  flags: Record<string, { type: "string" | "boolean"; short?: string }>,
  command: { name: string; help: string; expected: string },
): { values: Record<string, string | boolean | undefined>; output: string } | undefined {
  const { values, positionals } = parseCommandArgs(argv, flags, command.name);
  if (values.help === true) {
    process.stdout.write(command.help);
    return undefined;
  }
  if (positionals.length !== 1) {
    throw new MaskpipeError("ERR_INVALID_OPTION", `Expected ${command.expected}`);
  }
  return { values, output: positionals[0]! };
}

/** Option checks name the library option (`quality`); on the command line say `--quality`. */
export function inFlagTerms(message: string): string {
  return message.replace(
    / for ([a-zA-Z]+) but /,
    (_, option: string) => ` for --${kebabCase(option)} but `,
  );
}

/** `--header 'Name: value'` (repeatable), `--http-retries N`, `--http-timeout SECONDS`. */
export function httpOverrides(
  headers: string[] | undefined,
  retries: string | undefined,
  timeout: string | undefined,
): RunOptions["http"] {
  if (headers === undefined && retries === undefined && timeout === undefined) return undefined;
  const parsed: Record<string, string> = {};
  for (const line of headers ?? []) {
    const colon = line.indexOf(":");
    if (colon <= 0) {
      // The value may be a secret: name only the part before any colon.
      throw new MaskpipeError("ERR_INVALID_OPTION", "Expected --header in the form 'Name: value'");
    }
    parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const number = (text: string | undefined) =>
    text !== undefined && /^\d+$/.test(text) ? Number(text) : text;
  const timeoutSeconds = number(timeout);
  return {
    headers: parsed,
    ...(retries !== undefined && { retry: { retries: number(retries) as number } }),
    ...(timeout !== undefined && {
      timeoutMs: (typeof timeoutSeconds === "number"
        ? timeoutSeconds * 1000
        : timeoutSeconds) as number,
    }),
  };
}
