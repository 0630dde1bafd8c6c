import { writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { MaskpipeError } from "../../core/errors.js";
import {
  type ContactSheet,
  type ContactSheetOptions,
  contactSheet,
  encodeSheet,
  type PreviewShard,
} from "../../dataset/contact-sheet.js";
import {
  type OpenOutputOptions,
  type OutputFiles,
  openOutput,
} from "../../dataset/output-files.js";
import type { RunReport } from "../../dataset/report.js";
import { RUN_FILES } from "../../dataset/run-files.js";
import { listOutputShards } from "../verify/output-shards.js";

export interface PreviewOptions extends ContactSheetOptions, OpenOutputOptions {}

/**
 * A contact sheet of an output: a folder or `hf://datasets/...` (its index and report say which
 * shards there are), or one shard file. Reads only the start of the shards it picks from.
 *
 * @example
 * const sheet = await previewOutput("shards/casia", { columns: 4, rows: 4 });
 * await writeFile("preview.png", await encodeSheet(sheet, "png"));
 */
export async function previewOutput(
  spec: string,
  options: PreviewOptions = {},
): Promise<ContactSheet> {
  if (spec.endsWith(".tar")) {
    const files = await openOutput(dirname(spec), options);
    try {
      return await contactSheet(
        files,
        [{ path: basename(spec), nsamples: Number.MAX_SAFE_INTEGER }],
        options,
      );
    } finally {
      await files.close();
    }
  }
  const files = await openOutput(spec, options);
  try {
    return await contactSheet(files, await shardsOf(files), options);
  } finally {
    await files.close();
  }
}

async function shardsOf(files: OutputFiles): Promise<PreviewShard[]> {
  const text = await files.text(RUN_FILES.report);
  if (text === undefined) {
    throw new MaskpipeError(
      "ERR_OUTPUT",
      `${files.where}: has no ${RUN_FILES.report}, so its shards are unknown; preview one shard by its path`,
      { archive: files.where },
    );
  }
  const listed = await listOutputShards(files, JSON.parse(text) as RunReport);
  return listed.shards.map((shard) => ({ path: shard.path, nsamples: shard.nsamples }));
}

/** Writes the sheet where `path` says, in the format its extension says. */
export async function writeSheet(sheet: ContactSheet, path: string): Promise<void> {
  const format = /\.png$/i.test(path) ? "png" : /\.jpe?g$/i.test(path) ? "jpeg" : undefined;
  if (format === undefined) {
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `Expected --out ending in .jpg, .jpeg or .png but received "${path}"`,
    );
  }
  await writeFile(path, await encodeSheet(sheet, format));
}
