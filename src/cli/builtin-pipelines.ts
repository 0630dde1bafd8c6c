import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MaskpipeError } from "../core/errors.js";

/** The package's pipelines/ folder: two levels above this file in src/cli/ and dist/cli/. */
const PIPELINES = fileURLToPath(new URL("../../pipelines/", import.meta.url));

/** The pipelines maskpipe ships, by name: `celeba`, `casia`, `sample`. */
export function builtinPipelines(): string[] {
  if (!existsSync(PIPELINES)) return [];
  return readdirSync(PIPELINES)
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.slice(0, -".json".length))
    .sort();
}

/**
 * The pipeline file `spec` names: a shipped pipeline by name (`celeba`), from any folder and
 * when installed as a dependency; anything with a slash or a `.json` ending is a path.
 */
export function pipelinePath(spec: string): string {
  if (spec.includes("/") || spec.includes("\\") || spec.endsWith(".json")) return spec;
  const names = builtinPipelines();
  if (names.includes(spec)) return `${PIPELINES}${spec}.json`;
  throw new MaskpipeError(
    "ERR_PIPELINE_FILE",
    `"${spec}" is not a pipeline maskpipe ships (${names.join(", ")}); give one of those names or the path of a pipeline file`,
  );
}
