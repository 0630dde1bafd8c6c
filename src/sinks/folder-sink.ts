import { join, resolve, sep } from "node:path";
import { Writable } from "node:stream";
import { MaskpipeError } from "../core/errors.js";
import type { Sample } from "../core/sample.js";
import { RunStats } from "../core/stats.js";
import { nonEmptyString } from "../core/validate.js";
import { nameError, safeRelativePath } from "./folder-names.js";
import { writeOutputFile } from "./output-file.js";
import type { SampleSink, SinkResult } from "./sink.js";
import { sampleFiles } from "./webdataset-names.js";

export interface FolderSinkOptions {
  /** The output root: `{dir}/{key}.jpg`, the reference scripts' tree. */
  dir: string;
  stats?: RunStats;
}

/** Where the folder layout puts a key's file under `dir`; throws for keys that would escape it. */
export function folderOutputPath(dir: string, key: string, extension: string): string {
  const root = resolve(dir);
  const path = join(root, safeRelativePath(key, extension));
  if (!path.startsWith(root + sep)) {
    throw nameError(key, `resolves outside ${root}`);
  }
  return path;
}

/**
 * Writes each sample as `{dir}/{key}.{ext}`: with the CelebA and CASIA pipelines that is exactly
 * the tree the reference scripts write (`masked_celeba/000001.jpg`, `.../0000045/001.jpg`).
 * Paired parts (`with`) go beside it: `{key}.orig.jpg`, `{key}.mask.png`.
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
      written(dir, sample, stats).then((bytes) => {
        if (bytes > 0) {
          result.samples++;
          result.bytes += bytes;
        }
        callback();
      }, callback);
    },
  });
  return Object.assign(sink, { result });
}

/**
 * Writes one sample's image files (the image and its paired parts; the json and cls are for
 * shards) and returns their bytes; 0 when its key cannot be a file name, which is recorded as
 * that pair's failure (the policy may stop the run by throwing). Any other error stops the run.
 */
async function written(dir: string, sample: Sample, stats: RunStats): Promise<number> {
  const images = folderFiles(sample);
  try {
    for (const { extension, data } of images) {
      await writeOutputFile(dir, folderOutputPath(dir, sample.key, extension), data);
    }
  } catch (error) {
    if (!(error instanceof MaskpipeError) || error.code !== "ERR_OUTPUT_NAME") throw error;
    stats.fail({
      key: sample.key,
      archive: sample.photo.archive,
      member: sample.photo.path,
      stage: "write",
      code: error.code,
      message: `${sample.photo.archive}: ${sample.photo.path}: ${error.message}`,
    });
    return 0;
  }
  stats.written++;
  return images.reduce((sum, file) => sum + file.data.length, 0);
}

/** A sample's files the folder layout leaves out: it is the reference scripts' image tree. */
const NOT_IMAGES = new Set(["json", "cls"]);

/** The files the folder layout writes of a sample: its image and paired parts, by extension. */
export function folderFiles(sample: Sample): { extension: string; data: Buffer }[] {
  return sampleFiles(sample).filter((file) => !NOT_IMAGES.has(file.extension));
}
