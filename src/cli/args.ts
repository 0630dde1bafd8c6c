import { parseArgs } from "node:util";
import { MaskpipeError } from "../errors.js";
import type { RunOptions } from "../run-options.js";

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
  "max-pixels": { type: "string" },
  "on-error": { type: "string" },
  "shard-max-count": { type: "string" },
  "shard-max-bytes": { type: "string" },
  "join-memory": { type: "string" },
  header: { type: "string", multiple: true },
  "hf-token": { type: "string" },
  "hub-url": { type: "string" },
  private: { type: "boolean" },
  xet: { type: "boolean" },
  "hub-buffer": { type: "string" },
  "http-retries": { type: "string" },
  "http-timeout": { type: "string" },
  report: { type: "string" },
  errors: { type: "string" },
  resume: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

const INTEGER_FLAGS = new Set([
  "quality",
  "concurrency",
  "max-pixels",
  "shard-max-count",
  "hub-buffer",
]);

/** Flags that are not a RunOptions field of their own name. */
const NOT_RUN_OPTIONS = new Set([
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
      `${(cause as Error).message}; see maskpipe run --help`,
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
  // The card of a Hub repo says how it was made; a token given as a flag is not repeated there.
  overrides.command = argv
    .map((arg, index) => (argv[index - 1] === "--hf-token" ? "hf_..." : arg))
    .map((arg) => (/^[\w./:@=-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`))
    .join(" ");
  return {
    pipelineFile: positionals[0],
    overrides: overrides as Partial<RunOptions>,
    quiet: values.quiet === true,
    help: values.help === true,
  };
}

/** Option checks name the library option (`quality`); on the command line say `--quality`. */
export function inFlagTerms(message: string): string {
  return message.replace(
    / for ([a-zA-Z]+) but /,
    (_, option: string) => ` for --${kebabCase(option)} but `,
  );
}

/** `--header 'Name: value'` (repeatable), `--http-retries N`, `--http-timeout SECONDS`. */
function httpOverrides(
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
