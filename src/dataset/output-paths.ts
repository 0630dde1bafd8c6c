import { constants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { MaskpipeError } from "../core/errors.js";
import { makeDirectory, removeMadeDirectories } from "../core/make-directory.js";
import { checkTarget } from "../sinks/output-file.js";

/** A path a run writes to: the output folder, or a file such as the report. */
export interface OutputPath {
  path: string;
  /** What it is, as messages name it: "output folder", "report", "errors file". */
  role: string;
  kind: "folder" | "file";
  /**
   * For a file: true when the text of a file already there is one maskpipe wrote (an earlier
   * run's report). Anything else at the path is refused, also with `--overwrite`.
   */
  owned?: (text: string) => boolean;
}

/**
 * Checks every output path before any work, then makes the folders they need. Nothing is left
 * behind when a check fails or a folder cannot be made: the folders made so far are removed.
 * Returns the folders it made, outermost first.
 */
export async function prepareOutputPaths(paths: readonly OutputPath[]): Promise<string[]> {
  for (const output of paths) await checkOutputPath(output);
  const made: string[] = [];
  try {
    for (const output of paths) {
      const folder = output.kind === "folder" ? output.path : dirname(resolve(output.path));
      made.push(
        ...(await makeDirectory(folder).catch((cause: NodeJS.ErrnoException) => {
          throw cannotWrite(output, cause.message, cause);
        })),
      );
    }
  } catch (error) {
    await removeMadeDirectories(made);
    throw error;
  }
  return made;
}

/** Throws when `output` cannot be written: a file where a folder must be, or no write access. */
export async function checkOutputPath(output: OutputPath): Promise<void> {
  const here = await statOrUndefined(output.path);
  if (here !== undefined) {
    if (output.kind === "folder" && !here.isDirectory())
      throw cannotWrite(output, `${output.path} is a file, not a folder`);
    if (output.kind === "file" && here.isDirectory())
      throw cannotWrite(output, `${output.path} is a folder, not a file`);
    if (output.kind === "file") await checkOwnedFile(output);
  }
  let ancestor = resolve(output.kind === "folder" ? output.path : dirname(resolve(output.path)));
  for (;;) {
    const info = await statOrUndefined(ancestor);
    if (info !== undefined) {
      if (!info.isDirectory()) throw cannotWrite(output, `${ancestor} is a file, not a folder`);
      break;
    }
    const parent = dirname(ancestor);
    if (parent === ancestor) break;
    ancestor = parent;
  }
  try {
    await access(ancestor, constants.W_OK);
  } catch (cause) {
    throw cannotWrite(output, `${ancestor} is not writable`, cause);
  }
}

/**
 * A file already at a report or errors path must be an earlier maskpipe run's: a link, a device
 * or a user's file is never written over or removed.
 */
async function checkOwnedFile(output: OutputPath): Promise<void> {
  if ((await checkTarget(resolve(output.path))) === undefined || output.owned === undefined) return;
  if (output.owned(await readFile(output.path, "utf8"))) return;
  throw new MaskpipeError(
    "ERR_OUTPUT_NOT_OURS",
    `${output.path}: holds a file maskpipe did not write (not the ${output.role} of an earlier run); it is never written over or removed, also with --overwrite; choose another path for the ${output.role}, or move the file away`,
    { archive: output.path },
  );
}

async function statOrUndefined(path: string) {
  return stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
    throw error;
  });
}

function cannotWrite(output: OutputPath, why: string, cause?: unknown): MaskpipeError {
  return new MaskpipeError(
    "ERR_OUTPUT",
    `${output.path}: cannot write the ${output.role} there: ${why}; nothing was written`,
    { archive: output.path, cause },
  );
}
