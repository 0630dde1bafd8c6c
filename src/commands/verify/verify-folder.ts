import type { Readable } from "node:stream";
import sharp from "sharp";
import type { OutputFiles } from "../../dataset/output-files.js";
import type { RunReport } from "../../dataset/report.js";
import { FILE_EXTENSION, type OutputFormat } from "../../transforms/encode.js";
import type { VerifyReport } from "./verify-report.js";

/**
 * A `--layout folder` output: a tree of images (`{key}.jpg`) and no index. Its images are counted
 * against the report (written and resumed), and with `decode` each one is decoded.
 */
export async function verifyFolder(
  files: OutputFiles,
  report: RunReport,
  decode: boolean,
  result: VerifyReport,
): Promise<void> {
  const extension = FILE_EXTENSION[(report.identity?.format ?? "jpeg") as OutputFormat];
  const images = await imagesBelow(files, "", `.${extension}`);
  if (images === undefined) {
    result.problems.push({
      message: `${files.where}: cannot be listed, so its images cannot be counted`,
    });
    return;
  }
  result.samples = images.length;
  result.samplesBySplit[""] = images.length;
  const expected = report.written + report.resumed;
  if (images.length !== expected) {
    result.problems.push({
      message: `${images.length.toLocaleString("en-US")} .${extension} images in the folder tree, the report says ${expected.toLocaleString("en-US")} (written ${report.written} + resumed ${report.resumed}); run the same command with --resume to make the missing ones`,
    });
  }
  if (decode) {
    for (const image of images) {
      try {
        await sharp(await readAll(await files.stream(image)))
          .raw()
          .toBuffer();
        result.decoded++;
      } catch (error) {
        result.problems.push({
          member: image,
          message: `${image} does not decode: ${(error as Error).message}`,
        });
      }
    }
  }
  result.checked.push(
    `${images.length.toLocaleString("en-US")} .${extension} images in the folder tree (the folder layout has no shards or index): as many as the report says`,
    ...(decode ? [`${result.decoded.toLocaleString("en-US")} images decoded`] : []),
  );
}

const PAIRED_PART = /\.(orig\.[A-Za-z0-9]+|mask\.png)$/;

/** Paths of the files ending in `extension` below `folder`; `undefined` when it cannot be listed. */
export async function imagesBelow(
  files: OutputFiles,
  folder: string,
  extension: string,
): Promise<string[] | undefined> {
  const listing = await files.list(folder);
  if (listing === undefined) return undefined;
  // A sample's paired parts (`{key}.orig.jpg`, `{key}.mask.png`) lie beside its image.
  const found = listing.files
    .filter((file) => file.endsWith(extension) && !PAIRED_PART.test(file))
    .map((file) => folder + file);
  for (const sub of listing.folders) {
    found.push(...((await imagesBelow(files, `${folder}${sub}/`, extension)) ?? []));
  }
  return found;
}

/** A stream's bytes, whole (one image of the folder layout). */
export async function readAll(input: Readable | undefined): Promise<Buffer> {
  if (input === undefined) throw new Error("missing");
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
