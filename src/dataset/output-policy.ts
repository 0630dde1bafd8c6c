import type { Dirent } from "node:fs";
import { existsSync } from "node:fs";
import { opendir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { MaskpipeError } from "../core/errors.js";
import { type Partition, partitionFolder, partitionShardSet } from "../core/partition.js";
import {
  checkOutputFolder,
  outputLinkError,
  removeOutputFile,
  rootOf,
  withoutPartial,
} from "../sinks/output-file.js";
import { SPLIT_ORDER } from "../sinks/split-sink.js";
import { entriesOf, otherRunError, otherRunIn } from "./other-run.js";
import { pairListsIn } from "./pairs-files.js";
import {
  CARD_MARKER,
  foreignShardsError,
  isFixedRunFile,
  isForeignShard,
  isShardFile,
  namedFiles,
  RUN_FILES,
} from "./run-files.js";

/** What a run may do with an output that already holds an earlier run's files. */
export type OutputMode = "new" | "overwrite" | "resume";

export interface OutputClaim {
  /** The output folder. */
  dir: string;
  /** The run's name: its shards are `{name}-000000.tar`, ... */
  name: string;
  /**
   * `folder` layout: the images are `{dir}/{key}.{extension}` anywhere below `dir`, and there is
   * no dataset card (a README.md there is the user's).
   */
  imageExtension?: string;
  /** Report or errors file given outside the folder. */
  files: readonly string[];
  mode: OutputMode;
  /**
   * A partition of the run owns only its shards (`{name}-03of16-*.tar`) and its folder
   * `partitions/03of16/`; the other partitions' files, and the merged files, are not its own.
   */
  partition?: Partition;
}

/**
 * The output-folder policy: an output never mixes two runs. Files of this run's name already
 * there stop a new run before any work; `overwrite` removes exactly them (nothing else in the
 * folder); `resume` keeps them for the resume check. A folder holding a run of another name (its
 * run.json or report.json says) is refused, by name, even with `resume`; `overwrite` removes
 * that run's files too. A README.md maskpipe did not write is never removed. Returns the files
 * kept for `resume`.
 */
export async function claimOutput(claim: OutputClaim): Promise<string[]> {
  const other = await otherRunIn(claim.dir, claim.name);
  const { found, foreign } = await earlierRunFiles(claim);
  if (foreign.length > 0) {
    const shown = foreign.map((file) => relative(claim.dir, file));
    throw foreignShardsError(claim.dir, claim.name, claim.partition, shown);
  }
  const card = join(claim.dir, RUN_FILES.card);
  if (found.includes(card) && !(await readFile(card, "utf8")).includes(CARD_MARKER)) {
    throw new MaskpipeError(
      "ERR_OUTPUT_EXISTS",
      `${card}: the output folder holds a README.md that maskpipe did not write, where the dataset card goes; choose another output folder`,
      { archive: claim.dir },
    );
  }
  if (other !== undefined && claim.mode !== "overwrite") throw otherRunError(claim.dir, other);
  if (claim.mode === "overwrite") {
    const theirs = (other?.files ?? []).filter((file) => !found.includes(file));
    for (const file of [...found, ...theirs]) await removeOutputFile(rootOf(file, claim.dir), file);
    return [];
  }
  if (found.length === 0 || claim.mode === "resume") return found;
  const shown = namedFiles(found.map((file) => relative(claim.dir, file)));
  throw new MaskpipeError(
    "ERR_OUTPUT_EXISTS",
    `${claim.dir}: already holds files of an earlier run of ${claim.name} (${shown}); pass --resume to go on from them, or --overwrite to remove exactly those files and start again`,
    { archive: claim.dir },
  );
}

/**
 * Paths of the files of this run (or partition) already in place, folder files first; and the
 * shards of this name that another kind of run made (`foreign`): one run where partitions go,
 * or partitions of another count.
 */
async function earlierRunFiles(
  claim: OutputClaim,
): Promise<{ found: string[]; foreign: string[] }> {
  const found: string[] = [];
  const foreign: string[] = [];
  const { partition } = claim;
  const own = partitionShardSet(claim.name, partition);
  // The run's fixed files: a run's beside its shards (a folder layout's README.md is the
  // user's), a partition's in its own folder; a split folder's index is the run's, a partitioned
  // run's the merge's.
  const filesIn = async (folder: string, shards: boolean, fixed: boolean, card: boolean) => {
    // A folder the run writes in that is a link is refused, not read (or written) through.
    await checkOutputFolder(claim.dir, folder);
    for (const entry of await entriesOf(folder)) {
      const file = entry.name;
      let into: string[] | undefined;
      if (shards && isShardFile(file, own)) into = found;
      else if (shards && isForeignShard(file, claim.name, partition)) into = foreign;
      else if (fixed && isFixedRunFile(file) && (card || file !== RUN_FILES.card)) into = found;
      if (into === undefined) continue;
      // A link (or a folder, a device) under a name of the run's is not the run's to remove.
      if (!entry.isFile()) throw notAFile(join(folder, file), entry);
      into.push(join(folder, file));
    }
  };
  const folderLayout = claim.imageExtension !== undefined;
  await filesIn(claim.dir, true, partition === undefined, !folderLayout);
  if (partition !== undefined)
    await filesIn(join(claim.dir, partitionFolder(partition)), false, true, false);
  for (const split of SPLIT_ORDER)
    await filesIn(join(claim.dir, split), true, partition === undefined, false);
  // Pair lists are made of the merged output, as its index and card are.
  if (partition === undefined) found.push(...(await pairListsIn(claim.dir)));
  if (claim.imageExtension !== undefined && existsSync(claim.dir)) {
    // Only a new run stops at the first image; overwrite removes every one.
    const all = claim.mode === "overwrite";
    await findImages(claim.dir, `.${claim.imageExtension}`, found, all);
  }
  for (const file of claim.files) {
    const path = resolve(file);
    if (existsSync(path) && !found.some((known) => resolve(known) === path)) found.push(file);
  }
  return { found, foreign };
}

/** Adds the files ending in `extension` below `dir` (the folder layout's images) to `found`. */
async function findImages(
  dir: string,
  extension: string,
  found: string[],
  all: boolean,
): Promise<boolean> {
  for await (const entry of await opendir(dir)) {
    const path = join(dir, entry.name);
    // Images may go anywhere below: a link there could be written or removed through.
    if (entry.isSymbolicLink()) throw outputLinkError(path);
    if (entry.isDirectory()) {
      if ((await findImages(path, extension, found, all)) && !all) return true;
    } else if (entry.isFile() && withoutPartial(entry.name).endsWith(extension)) {
      found.push(path);
      if (!all) return true;
    }
  }
  return false;
}

function notAFile(path: string, entry: Dirent): MaskpipeError {
  if (entry.isSymbolicLink()) return outputLinkError(path);
  return new MaskpipeError(
    "ERR_OUTPUT_EXISTS",
    `${path}: is not a file, yet named like one of the run's; it is left alone; move it away or choose another output folder`,
    { archive: path },
  );
}

function relative(dir: string, file: string): string {
  const prefix = `${dir.replace(/\/+$/, "")}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}
