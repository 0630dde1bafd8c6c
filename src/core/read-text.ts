import { readFile } from "node:fs/promises";
import { type ErrorCode, MaskpipeError } from "./errors.js";

/** A small text file a run is configured with; a failure names the file and what it was for. */
export async function readTextFile(path: string, what: string, code: ErrorCode): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new MaskpipeError(
      code,
      `${path}: cannot read the ${what} (${(cause as Error).message})`,
      {
        archive: path,
        cause,
      },
    );
  }
}
