import { createHash } from "node:crypto";
import { basename, dirname } from "node:path";
import type { Readable } from "node:stream";
import sharp from "sharp";
import { extract } from "tar-stream";
import {
  type OpenOutputOptions,
  type OutputFiles,
  openOutput,
} from "../../dataset/output-files.js";
import { RUN_FILES } from "../../dataset/run-files.js";
import { hasLabels, type RunReport } from "../../run/report.js";
import { splitMemberName } from "../../sinks/webdataset-names.js";
import { FILE_EXTENSION, OUTPUT_EXTENSIONS, type OutputFormat } from "../../transforms/encode.js";
import { type ListedShard, listOutputShards } from "./output-shards.js";

export interface VerifyOptions extends OpenOutputOptions {
  /** Decode every image too (slow: a full decode per sample). Default false. */
  decode?: boolean;
  /** Called after each shard, for progress displays. */
  onShard?: (shard: string, done: number, total: number) => void;
}

/** One thing wrong with an output, named by shard and member where it has one. */
export interface VerifyProblem {
  shard?: string;
  member?: string;
  message: string;
}

/** What `verifyOutput` checked, and what it found wrong. */
export interface VerifyReport {
  where: string;
  shards: number;
  samples: number;
  bytes: number;
  /** Images decoded (`decode`). */
  decoded: number;
  /** Samples found per split (`train` ... ; "" without splits). */
  samplesBySplit: Record<string, number>;
  /** What was checked, one line each. */
  checked: string[];
  problems: VerifyProblem[];
}

/**
 * Checks an output (a folder or `hf://datasets/...`) against its own index and report: every
 * shard there, of its size, MD5 (the index's) and SHA-256 (the report's); every sample whole
 * (image, json, and cls when the run had labels), consecutive, and no key twice; the counts per
 * shard, per split and in all equal to the index and report; with `decode`, every image decodes.
 *
 * @example
 * const result = await verifyOutput("shards/casia");
 * for (const problem of result.problems) console.error(problem.shard, problem.message);
 */
export async function verifyOutput(
  spec: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  if (spec.endsWith(".tar")) return verifyOneShard(spec, options);
  const files = await openOutput(spec, options);
  const result = emptyReport(spec);
  try {
    const reportText = await files.text(RUN_FILES.report);
    if (reportText === undefined) {
      result.problems.push({
        message: `${RUN_FILES.report}: missing, so nothing can be checked against it`,
      });
      return result;
    }
    const report = JSON.parse(reportText) as RunReport;
    const listed = await listOutputShards(files, report);
    for (const message of listed.problems) result.problems.push({ message });
    const extension = FILE_EXTENSION[(report.identity?.format ?? "jpeg") as OutputFormat];
    const needed = [extension, "json", ...(hasLabels(report) ? ["cls"] : [])];
    const keys = new Set<string>();
    for (const [i, shard] of listed.shards.entries()) {
      await verifyShard(files, shard, needed, keys, options.decode === true, result);
      options.onShard?.(shard.path, i + 1, listed.shards.length);
    }
    compareCounts(report, listed.shards, result);
    result.checked.push(
      `${result.shards} shards, ${result.bytes.toLocaleString("en-US")} bytes: present, sizes and MD5 as in the index${listed.shards.some((s) => s.sha256 !== undefined) ? ", SHA-256 as in the report" : ""}`,
      `${result.samples.toLocaleString("en-US")} samples: each with ${needed.join(", ")}, members consecutive, no key twice`,
      `counts per shard, per split and in all against the index and report`,
      ...(options.decode === true
        ? [`${result.decoded.toLocaleString("en-US")} images decoded`]
        : []),
    );
    return result;
  } finally {
    await files.close();
  }
}

/**
 * One shard by itself, with no index or report beside it to compare with: its samples whole
 * (each with the members its first sample has), consecutive, no key twice; images decode with
 * `decode`.
 */
async function verifyOneShard(spec: string, options: VerifyOptions): Promise<VerifyReport> {
  const files = await openOutput(dirname(spec), options);
  const result = emptyReport(spec);
  try {
    const shard = {
      path: basename(spec),
      split: undefined,
      nsamples: -1,
      filesize: -1,
      md5sum: "",
      sha256: undefined,
    };
    await verifyShard(files, shard, undefined, new Set(), options.decode === true, result);
    result.checked.push(
      `${result.samples.toLocaleString("en-US")} samples in ${basename(spec)}: each with the members of the first, consecutive, no key twice (no index or report to compare sizes, hashes and counts with)`,
      ...(options.decode === true
        ? [`${result.decoded.toLocaleString("en-US")} images decoded`]
        : []),
    );
    return result;
  } finally {
    await files.close();
  }
}

async function verifyShard(
  files: OutputFiles,
  shard: ListedShard,
  /** The members every sample must have; `undefined`: those of the shard's first sample. */
  expected: readonly string[] | undefined,
  keys: Set<string>,
  decode: boolean,
  result: VerifyReport,
): Promise<void> {
  const problem = (message: string, member?: string) =>
    result.problems.push({ shard: shard.path, ...(member !== undefined && { member }), message });
  const input = await files.stream(shard.path);
  if (input === undefined) {
    problem("missing");
    return;
  }
  result.shards++;
  const md5 = createHash("md5");
  const sha256 = createHash("sha256");
  let bytes = 0;
  input.on("data", (chunk: Buffer) => {
    md5.update(chunk);
    sha256.update(chunk);
    bytes += chunk.length;
  });
  let samples = 0;
  let needed = expected;
  let current: { key: string; members: Map<string, Buffer> } | undefined;
  const close = async () => {
    if (current === undefined) return;
    const { key, members } = current;
    samples++;
    needed ??= [...members.keys()].sort((a, b) => imageFirst(a) - imageFirst(b));
    const lacking = needed.filter((extension) => !members.has(extension));
    if (lacking.length > 0) problem(`sample ${key} has no ${lacking.join(", ")}`, key);
    if (keys.has(key)) problem(`key ${key} is in the output twice`, key);
    keys.add(key);
    const imageExtension = needed.find((extension) => OUTPUT_EXTENSIONS.includes(extension));
    const image = imageExtension === undefined ? undefined : members.get(imageExtension);
    if (decode && image !== undefined) {
      try {
        await sharp(image).raw().toBuffer();
        result.decoded++;
      } catch (error) {
        problem(
          `${key}.${imageExtension} does not decode: ${(error as Error).message}`,
          `${key}.${imageExtension}`,
        );
      }
    }
    current = undefined;
  };
  try {
    for await (const entry of tarEntries(input)) {
      const { name, data } = entry;
      const { key, extension } = splitMemberName(name);
      if (current !== undefined && current.key !== key) await close();
      if (current === undefined) {
        current = { key, members: new Map() };
      } else if (current.members.has(extension)) {
        problem(`${name} appears twice in one sample`, name);
      }
      current.members.set(extension, data);
      if (extension === "json") {
        try {
          JSON.parse(data.toString("utf8"));
        } catch {
          problem(`${name} is not valid JSON`, name);
        }
      }
    }
    await close();
  } catch (error) {
    problem(`cannot be read as a tar: ${(error as Error).message} (truncated or damaged)`);
  }
  result.samples += samples;
  result.bytes += bytes;
  const split = shard.split ?? "";
  result.samplesBySplit[split] = (result.samplesBySplit[split] ?? 0) + samples;
  if (shard.filesize < 0) return; // one shard alone: no index to compare with
  if (bytes !== shard.filesize)
    problem(
      `${bytes.toLocaleString("en-US")} bytes, the index says ${shard.filesize.toLocaleString("en-US")}`,
    );
  const md5sum = md5.digest("hex");
  if (md5sum !== shard.md5sum) problem(`MD5 ${md5sum} does not match the index's ${shard.md5sum}`);
  const sha = sha256.digest("hex");
  if (shard.sha256 !== undefined && sha !== shard.sha256) {
    problem(`SHA-256 ${sha} does not match the report's ${shard.sha256}`);
  }
  if (samples !== shard.nsamples) problem(`${samples} samples, the index says ${shard.nsamples}`);
}

function emptyReport(where: string): VerifyReport {
  return {
    where,
    shards: 0,
    samples: 0,
    bytes: 0,
    decoded: 0,
    samplesBySplit: {},
    checked: [],
    problems: [],
  };
}

const imageFirst = (extension: string) => (OUTPUT_EXTENSIONS.includes(extension) ? 0 : 1);

/** The members of a tar, each read whole (shard members are small). */
async function* tarEntries(input: Readable): AsyncGenerator<{ name: string; data: Buffer }> {
  const reader = extract();
  input.on("error", (error) => reader.destroy(error));
  input.pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    yield { name: entry.header.name, data: Buffer.concat(chunks) };
  }
}

function compareCounts(
  report: RunReport,
  shards: readonly ListedShard[],
  result: VerifyReport,
): void {
  const expected = report.written + report.resumed;
  if (result.samples !== expected) {
    result.problems.push({
      message: `${result.samples.toLocaleString("en-US")} samples in the shards, the report says ${expected.toLocaleString("en-US")} (written ${report.written} + resumed ${report.resumed})`,
    });
  }
  for (const [split, counts] of Object.entries(report.splits ?? {})) {
    const found = result.samplesBySplit[split] ?? 0;
    if (found !== counts.samples) {
      result.problems.push({
        message: `split ${split}: ${found} samples in its shards, the report says ${counts.samples}`,
      });
    }
  }
  // The report names shards as the run did: `casia-000000.tar`, or `train/...` with splits.
  const listed = new Set(
    shards.map(
      (shard) =>
        `${shard.split === undefined ? "" : `${shard.split}/`}${shard.path.split("/").at(-1)}`,
    ),
  );
  for (const shard of report.shards) {
    if (!listed.has(shard.name)) {
      result.problems.push({ shard: shard.name, message: "in the report but in no index" });
    }
  }
}
