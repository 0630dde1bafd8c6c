import { isAbsolute, join, resolve, sep } from "node:path";
import { Writable } from "node:stream";
import { MaskpipeError } from "../core/errors.js";
import { pathComponents } from "../core/keys.js";
import type { Sample } from "../core/sample.js";
import { RunStats } from "../core/stats.js";
import { nonEmptyString } from "../core/validate.js";
import { writeOutputFile } from "./output-file.js";
import type { SampleSink, SinkResult } from "./sink.js";

export interface FolderSinkOptions {
  /** The output root: `{dir}/{key}.jpg`, the reference scripts' tree. */
  dir: string;
  stats?: RunStats;
}

/**
 * The relative file path for a key, refusing anything that could land outside the output
 * folder: absolute paths, drive letters, `..` components.
 */
export function safeRelativePath(key: string, extension: string): string {
  const parts = pathComponents(key);
  if (
    isAbsolute(key) ||
    /^[a-zA-Z]:/.test(key) ||
    parts.length === 0 ||
    parts.some((part) => part === "..")
  ) {
    throw new MaskpipeError(
      "ERR_OUTPUT",
      `key "${key}" would be written outside the output folder; it is refused`,
    );
  }
  return `${parts.join("/")}.${extension}`;
}

/** Where the folder layout puts a key's file under `dir`; throws for keys that would escape it. */
export function folderOutputPath(dir: string, key: string, extension: string): string {
  const root = resolve(dir);
  const path = join(root, safeRelativePath(key, extension));
  if (!path.startsWith(root + sep)) {
    throw new MaskpipeError("ERR_OUTPUT", `key "${key}" resolves outside ${root}; it is refused`);
  }
  return path;
}

/**
 * Writes each sample as `{dir}/{key}.{ext}`: with the CelebA and CASIA pipelines that is exactly
 * the tree the reference scripts write (`masked_celeba/000001.jpg`, `.../0000045/001.jpg`).
 *
 * @example
 * await pipeline(pairs, overlay(), folderSink({ dir: "masked_CASIA-WebFace" }));
 */
export function folderSink(options: FolderSinkOptions): SampleSink {
  const dir = resolve(nonEmptyString("dir", options.dir));
  const stats = options.stats ?? new RunStats();
  const result: SinkResult = { samples: 0, bytes: 0, shards: [] };
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(sample: Sample, _encoding, callback) {
      let path: string;
      try {
        path = folderOutputPath(dir, sample.key, sample.extension);
      } catch (error) {
        return callback(error as Error);
      }
      writeOutputFile(dir, path, sample.image).then(() => {
        result.samples++;
        result.bytes += sample.image.length;
        stats.written++;
        callback();
      }, callback);
    },
  });
  return Object.assign(sink, { result });
}
