import { isAbsolute } from "node:path";
import { MaskpipeError } from "../../core/errors.js";
import { HIDDEN, isUrl } from "../../core/redact.js";
import { type InputVersion, inputVersion } from "../../dataset/run-identity.js";
import { isHfUrl } from "../../sources/hf/hf-url.js";
import { openSource } from "../../sources/open-source.js";
import type { OpenedSource, OpenSourceOptions } from "../../sources/opened-source.js";

/** The two inputs of a run, by the flag that names each. */
export type InputSide = "originals" | "masks";

/** One input of the run, opened again for a proof, and how it compares with the recorded one. */
export interface ProofInput {
  source: OpenedSource;
  /** Where it was opened from: the recorded source, or the one given again. */
  spec: string;
  /** How it differs from the version the run recorded (size, listing, ETag); empty when not. */
  differences: string[];
}

/**
 * Opens the input the run read for `side`: `given` (the user's `--originals`/`--masks`) when
 * there is one, else the source the run recorded, when it can be opened from here (an absolute
 * path, a URL without a secret query, an hf:// spec). A recorded source that cannot be opened
 * is refused with what to give instead.
 */
export async function openProofInput(
  side: InputSide,
  recorded: InputVersion,
  given: string | undefined,
  options: OpenSourceOptions,
): Promise<ProofInput> {
  const spec = given ?? openableSpec(side, recorded);
  let source: OpenedSource;
  try {
    source = await openSource(spec, options);
  } catch (error) {
    if (!(error instanceof MaskpipeError) || given !== undefined) throw error;
    throw new MaskpipeError(
      error.code,
      `the ${side} the run read, ${recorded.source} (recorded in report.json), cannot be opened: ${error.message}; give them again with --${side} PATH (or URL)`,
      { archive: recorded.source, cause: error },
    );
  }
  try {
    return {
      source,
      spec,
      differences: versionDifferences(recorded, await inputVersion(spec, source)),
    };
  } catch (error) {
    await source.close();
    throw error;
  }
}

/** The recorded source, when it can be opened as it is recorded. */
function openableSpec(side: InputSide, recorded: InputVersion): string {
  const { source } = recorded;
  if (isUrl(source) && source.includes(`?${HIDDEN}`)) {
    throw new MaskpipeError(
      "ERR_SOURCE_NOT_FOUND",
      `the ${side} the run read, ${source}, cannot be opened from the report: its URL's query (a signature or token) is never recorded; give the URL again with --${side} URL`,
      { archive: source },
    );
  }
  if (!isUrl(source) && !isHfUrl(source) && !isAbsolute(source)) {
    throw new MaskpipeError(
      "ERR_SOURCE_NOT_FOUND",
      `the ${side} the run read are recorded by file name only (${source}: a published report holds no local path); give them with --${side} PATH`,
      { archive: source },
    );
  }
  return source;
}

/** What tells two versions of an input apart, as a user reads it; the path may differ. */
const VERSION_FIELDS: [keyof InputVersion, string][] = [
  ["size", "bytes"],
  ["images", "images"],
  ["listing", "listing (SHA-256 of the member names and sizes)"],
  ["etag", "ETag"],
  ["lastModified", "Last-Modified"],
];

/**
 * Where the input opened now differs from the one the run recorded. Its place (a moved file)
 * and a local file's time (a copy) are not its content, so only what is: size, the listing of a
 * folder, a remote file's ETag (else its Last-Modified).
 */
export function versionDifferences(recorded: InputVersion, now: InputVersion): string[] {
  const differences: string[] = [];
  for (const [field, name] of VERSION_FIELDS) {
    if (field === "lastModified" && (recorded.etag !== undefined || now.etag !== undefined))
      continue;
    const was = recorded[field];
    const is = now[field];
    if (was === undefined || is === was) continue;
    differences.push(
      `${name} ${String(was)} recorded, ${is === undefined ? "none" : String(is)} now`,
    );
  }
  return differences;
}
