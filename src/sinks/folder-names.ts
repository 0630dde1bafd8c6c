import { isAbsolute } from "node:path";
import { MaskpipeError } from "../core/errors.js";
import { pathComponents } from "../core/keys.js";

/**
 * Bytes a file name may have: 255 on Linux, macOS and Windows file systems, less what the
 * `.partial` name it is written under adds (`.{pid}-{8 hex}.partial`, pid up to 7 digits).
 */
const NAME_BYTES = 255 - ".1234567-01234567.partial".length;

/** Bytes a whole path below the output may have (PATH_MAX is 4096 on Linux, 1024 on macOS). */
const PATH_BYTES = 1000;

/**
 * The relative file path for a key, or a refusal (ERR_OUTPUT_NAME) of a key no file can be named
 * after: one that could land outside the output folder (absolute paths, drive letters, `..`
 * components), or holds a NUL byte, or whose names are longer than a file system takes. The
 * refusal is that pair's failure: the rest of the run goes on.
 */
export function safeRelativePath(key: string, extension: string): string {
  const parts = pathComponents(key);
  if (
    isAbsolute(key) ||
    /^[a-zA-Z]:/.test(key) ||
    parts.length === 0 ||
    parts.some((part) => part === "..")
  ) {
    throw nameError(key, "would be written outside the output folder");
  }
  if (key.includes("\u0000")) throw nameError(key, "holds a NUL byte, which no file name may");
  const path = `${parts.join("/")}.${extension}`;
  const names = pathComponents(path);
  const longest = Math.max(...names.map((name) => Buffer.byteLength(name)));
  if (longest > NAME_BYTES || Buffer.byteLength(path) > PATH_BYTES) {
    throw nameError(
      key,
      `is longer than a file name may be (${longest} bytes in one name; at most ${NAME_BYTES})`,
    );
  }
  return path;
}

/** A key (or the OS, for the path made of it) refused as a file name. */
export function nameError(key: string, why: string, cause?: unknown): MaskpipeError {
  return new MaskpipeError(
    "ERR_OUTPUT_NAME",
    `key "${JSON.stringify(key).slice(1, -1)}" ${why}; this pair is not written (shards, --layout webdataset, take any name)`,
    { cause },
  );
}
