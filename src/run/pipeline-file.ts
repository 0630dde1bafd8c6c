import { dirname, isAbsolute, resolve } from "node:path";
import { MaskpipeError } from "../core/errors.js";
import { readTextFile } from "../core/read-text.js";
import { checkKeyRule, type RunOptions } from "./run-options.js";

/**
 * A pipeline file: the key rules of a data set and defaults for any run option. Flags given on
 * the command line win over the file. Relative `originals`, `masks` and `out` are relative to
 * the file, so `pipelines/sample.json` finds `sample/` from any working directory.
 *
 * ```json
 * { "name": "celeba",
 *   "keys": { "photos": { "depth": 1 }, "masks": { "depth": 1, "suffixes": ["_mask"] } },
 *   "shardMaxCount": 10000 }
 * ```
 */
export type PipelineFile = Partial<
  Omit<RunOptions, "photoKeys" | "maskKeys" | "signal" | "onProgress">
> & {
  name: string;
  description?: string;
  keys: { photos: unknown; masks: unknown };
};

const OPTION_KEYS = new Set([
  "name",
  "description",
  "keys",
  "originals",
  "masks",
  "out",
  "layout",
  "format",
  "quality",
  "optimizeCoding",
  "concurrency",
  "maxPixels",
  "onError",
  "shardMaxCount",
  "shardMaxBytes",
  "daliIndex",
  "joinMemory",
  "maxFailed",
  "labels",
  "holdout",
  "with",
  "masked",
  "keepUnmasked",
  "report",
  "errors",
]);
const PATH_KEYS = ["originals", "masks", "out", "report", "errors"] as const;

export type PipelineDefaults = Partial<RunOptions> &
  Pick<RunOptions, "name" | "photoKeys" | "maskKeys">;

export async function loadPipelineFile(path: string): Promise<PipelineDefaults> {
  const text = await readTextFile(path, "pipeline file", "ERR_PIPELINE_FILE");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new MaskpipeError(
      "ERR_PIPELINE_FILE",
      `${path}: is not valid JSON (${(cause as Error).message})`,
      { cause },
    );
  }
  return parsePipelineFile(parsed, path);
}

export function parsePipelineFile(parsed: unknown, path: string): PipelineDefaults {
  const fail = (message: string) => new MaskpipeError("ERR_PIPELINE_FILE", `${path}: ${message}`);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw fail("must hold a JSON object");
  }
  const file = parsed as Record<string, unknown>;
  for (const key of Object.keys(file)) {
    if (!OPTION_KEYS.has(key))
      throw fail(`unknown field "${key}"; known fields: ${[...OPTION_KEYS].join(", ")}`);
  }
  if (typeof file.name !== "string" || file.name === "")
    throw fail('needs a "name" (the shard prefix)');
  const keys = file.keys as { photos?: unknown; masks?: unknown } | undefined;
  if (typeof keys !== "object" || keys === null)
    throw fail('needs "keys": { "photos": {...}, "masks": {...} }');
  let photoKeys: RunOptions["photoKeys"];
  let maskKeys: RunOptions["maskKeys"];
  try {
    photoKeys = checkKeyRule("keys.photos", keys.photos);
    maskKeys = checkKeyRule("keys.masks", keys.masks);
  } catch (error) {
    throw fail((error as Error).message);
  }
  const { keys: _keys, description: _description, ...options } = file;
  const base = dirname(path);
  for (const key of PATH_KEYS) {
    const value = options[key];
    if (
      typeof value === "string" &&
      !isAbsolute(value) &&
      !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)
    ) {
      options[key] = resolve(base, value);
    }
  }
  return { ...(options as Partial<RunOptions>), name: file.name, photoKeys, maskKeys };
}
