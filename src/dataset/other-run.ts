import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MaskpipeError } from "../core/errors.js";
import { PARTITIONS_FOLDER } from "../core/partition.js";
import { SPLIT_ORDER } from "../sinks/split-sink.js";
import { pairListsIn } from "./pairs-files.js";
import { CARD_MARKER, isFixedRunFile, namedFiles, RUN_FILES, shardSetOf } from "./run-files.js";
import { parseIdentity } from "./run-record.js";

/** A run of another name whose files an output folder holds. */
export interface OtherRun {
  name: string;
  /** The record that names it, relative to the output: `run.json`, `report.json`, ... */
  recordedIn: string;
  /** Its files maskpipe wrote (shards, index, report, run.json, errors, card, pair lists), full paths. */
  files: string[];
}

/**
 * The run of another name than `name` that the output folder `dir` holds, as its run.json or
 * report.json (or a partition's run.json) names it; `undefined` when there is none. Its files are
 * exactly maskpipe's: its shards, its fixed files (a README.md only with maskpipe's marker).
 */
export async function otherRunIn(dir: string, name: string): Promise<OtherRun | undefined> {
  const partitions = (await entriesOf(join(dir, PARTITIONS_FOLDER)))
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${PARTITIONS_FOLDER}/${entry.name}`);
  const records = [RUN_FILES.identity, RUN_FILES.report, ...partitions.map(identityIn)];
  for (const record of records) {
    const recorded = await recordedName(join(dir, record));
    if (recorded === undefined || recorded === name) continue;
    const files: string[] = [];
    for (const folder of ["", ...SPLIT_ORDER]) {
      files.push(...(await runFilesIn(dir, folder, (file) => shardSetOf(file, recorded))));
    }
    files.push(...(await pairListsIn(dir)));
    for (const folder of partitions) {
      if ((await recordedName(join(dir, identityIn(folder)))) !== recorded) continue;
      files.push(...(await runFilesIn(dir, folder, () => undefined)));
    }
    return { name: recorded, recordedIn: record, files };
  }
  return undefined;
}

/** The refusal of an output folder that holds another run: one output, one data set. */
export function otherRunError(dir: string, other: OtherRun): MaskpipeError {
  const prefix = `${dir.replace(/\/+$/, "")}/`;
  const shown = namedFiles(other.files.map((file) => file.replace(prefix, "")));
  return new MaskpipeError(
    "ERR_OUTPUT_EXISTS",
    `${dir}: holds the output of another run, ${other.name} (its ${other.recordedIn}): an output folder holds one data set; choose another output folder, or pass --overwrite to remove that run's files (${shown})`,
    { archive: dir },
  );
}

const identityIn = (folder: string) => `${folder}/${RUN_FILES.identity}`;

/** The name a run.json or report.json records; `undefined` for anything else. */
async function recordedName(path: string): Promise<string | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const identity = parseIdentity(text);
  if (identity !== undefined) return identity.name;
  try {
    const report = JSON.parse(text) as { maskpipe?: unknown; name?: unknown };
    return typeof report.maskpipe === "string" && typeof report.name === "string"
      ? report.name
      : undefined;
  } catch {
    return undefined;
  }
}

/** The regular files in `dir/folder` that are the run's: shards (`shardSet`) or fixed files. */
async function runFilesIn(
  dir: string,
  folder: string,
  shardSet: (file: string) => string | undefined,
): Promise<string[]> {
  const path = join(dir, folder);
  const files: string[] = [];
  for (const entry of await entriesOf(path)) {
    if (!entry.isFile()) continue;
    const file = join(path, entry.name);
    if (shardSet(entry.name) !== undefined) files.push(file);
    else if (isFixedRunFile(entry.name) && (await isRunsOwn(file, entry.name))) files.push(file);
  }
  return files;
}

/** A README.md is the run's only with maskpipe's marker; a user's is never touched. */
async function isRunsOwn(file: string, name: string): Promise<boolean> {
  if (name !== RUN_FILES.card) return true;
  return (await readFile(file, "utf8")).includes(CARD_MARKER);
}

/** The entries of a folder, sorted by name; none when it is missing. */
export async function entriesOf(folder: string): Promise<Dirent[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => [] as Dirent[]);
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
