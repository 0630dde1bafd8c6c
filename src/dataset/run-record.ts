import { readFile } from "node:fs/promises";
import { MaskpipeError } from "../core/errors.js";
import { identityDifferences, type RunIdentity } from "./run-identity.js";

/** The identity recorded in `run.json` text, or `undefined` when the text is not one. */
export function parseIdentity(text: string): RunIdentity | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<RunIdentity>;
    return typeof parsed.maskpipe === "string" && typeof parsed.name === "string"
      ? (parsed as RunIdentity)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The identity in a local `run.json`; `undefined` when there is none. */
export async function readIdentityFile(path: string): Promise<RunIdentity | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  return text === undefined ? undefined : parseIdentity(text);
}

/**
 * Throws unless `--resume` may go on from the output `where`: its recorded run must have this
 * identity. `recorded` is `undefined` when the output has no run.json; that is fine only when it
 * holds nothing of the run either.
 */
export function checkResumable(
  where: string,
  recorded: RunIdentity | undefined,
  now: RunIdentity,
  holdsRunFiles: boolean,
): void {
  if (recorded === undefined) {
    if (!holdsRunFiles) return;
    throw new MaskpipeError(
      "ERR_RUN_MISMATCH",
      `${where}: cannot resume: it holds files of ${now.name} but no run.json saying which run made them (an older maskpipe, or a damaged output); pass --overwrite to start again`,
      { archive: where },
    );
  }
  const differences = identityDifferences(recorded, now);
  if (differences.length === 0) return;
  throw new MaskpipeError(
    "ERR_RUN_MISMATCH",
    `${where}: cannot resume: the run there was made differently: ${differences.join("; ")}. Run with the same inputs and options, or pass --overwrite to start again`,
    { archive: where },
  );
}
