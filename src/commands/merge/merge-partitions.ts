import { MaskpipeError } from "../../core/errors.js";
import { jsonText } from "../../core/json-text.js";
import {
  PARTITIONS_FOLDER,
  type Partition,
  parsePartitionLabel,
  partitionFolder,
  partitionLabel,
} from "../../core/partition.js";
import { VERSION } from "../../core/version.js";
import { datasetCard } from "../../dataset/dataset-card.js";
import { indexFiles, shardFolder } from "../../dataset/index-files.js";
import { hasLabels, publishedReport, type RunReport } from "../../dataset/report.js";
import { CARD_MARKER, RUN_FILES } from "../../dataset/run-files.js";
import { identityDifferences, type RunIdentity } from "../../dataset/run-identity.js";
import { parseIdentity } from "../../dataset/run-record.js";
import { checkFailureAllowance, MAX_FAILED_DEFAULT } from "../../dataset/run-verdict.js";
import { daliIndexName } from "../../sinks/dali-index.js";
import type { ShardInfo } from "../../sinks/sink.js";
import { SPLIT_ORDER } from "../../sinks/split-sink.js";
import { parseHfRepoUrl } from "../../sources/hf/hf-url.js";
import {
  type MergedFile,
  type MergeStore,
  type MergeStoreOptions,
  openMergeStore,
} from "./merge-store.js";
import { mergeReports, sharedIdentity } from "./merged-report.js";

export interface MergeOptions extends MergeStoreOptions {
  /**
   * Failed pairs the merged output may have and still be complete: a count or a share
   * (`"0.1%"`), as `maxFailed` of a run. Default 0.
   */
  maxFailed?: number | string;
  /**
   * The `maskpipe run` arguments the card shows. Default the first partition's (as its report
   * has them), its index written `I`.
   */
  command?: string;
  /** The `maskpipe merge` arguments, shown on the card after the run's. */
  mergeCommand?: string;
}

/** How many problems of one kind a message names before "and N more". */
const NAMED = 5;

/**
 * Joins the partitions of a run in `out` (a folder or `hf://datasets/...`) into one data set:
 * the wids index (one per split), report.json with the partitions' counts summed, classes.txt,
 * errors.jsonl and the card, written last so a reader never sees half a merge. Refuses, naming
 * the partition, when one is missing, unfinished, or ran with another identity, or when a shard
 * its report names is not there at its size. Merging again gives the same files.
 *
 * @example
 * // after `maskpipe run celeba ... --partition I/3` for I = 0, 1, 2:
 * const report = await mergePartitions("shards/celeba");
 * if (report.problems.length > 0) console.error(report.problems);
 */
export async function mergePartitions(out: string, options: MergeOptions = {}): Promise<RunReport> {
  const allowance =
    options.maxFailed === undefined
      ? MAX_FAILED_DEFAULT
      : checkFailureAllowance("maxFailed", options.maxFailed);
  const store = await openMergeStore(out, options);
  try {
    const partitions = await readPartitions(store);
    const reports = partitions.map((partition) => partition.report);
    const hasSplits = reports.some((report) => report.splits !== undefined);
    const bySplit = new Map<string, ShardInfo[]>();
    const previewShards: { path: string; nsamples: number }[] = [];
    for (const partition of partitions) {
      for (const shard of partition.report.shards) {
        const [split, base] = splitOfShard(shard.name, hasSplits);
        const path = `${shardFolder(store.place, split, hasSplits)}${base}`;
        await checkPartitionShard(store, partition, path, shard);
        const shards = bySplit.get(split) ?? [];
        shards.push({ ...shard, name: base });
        bySplit.set(split, shards);
        previewShards.push({ path, nsamples: shard.samples });
      }
    }
    const report = mergeReports(reports, { out, allowance });
    const name = report.name;
    const ordered = new Map(
      [...SPLIT_ORDER, ...bySplit.keys()]
        .filter((split, i, all) => bySplit.has(split) && all.indexOf(split) === i)
        .map((split) => [split, bySplit.get(split)!]),
    );
    const files: MergedFile[] = indexFiles(name, ordered, store.place, hasSplits).map((file) => ({
      path: file.path,
      content: file.text,
    }));
    const classes = await agreedClasses(store, partitions);
    if (classes !== undefined) files.push({ path: RUN_FILES.classes, content: classes });
    const errors = partitions.map((partition) => partition.errors ?? "").join("");
    if (errors.length > 0) files.push({ path: RUN_FILES.errors, content: errors });
    const preview =
      store.preview !== undefined && previewShards.some((shard) => shard.nsamples > 0)
        ? await store.preview(previewShards)
        : undefined;
    if (preview !== undefined) files.push({ path: RUN_FILES.preview, content: preview });
    files.push({
      path: RUN_FILES.card,
      content: datasetCard(report, {
        repo: store.place === "hub" ? parseHfRepoUrl(out).name : out,
        dataFolder: (split) => shardFolder(store.place, split, hasSplits),
        ...(preview !== undefined && { preview: RUN_FILES.preview }),
        command: options.command ?? anyPartitionCommand(partitions[0]!.report),
        ...(options.mergeCommand !== undefined && { merge: options.mergeCommand }),
        version: VERSION,
      }),
    });
    await refuseForeignCard(store);
    // A repo's report is published: no local paths in it.
    const written = store.place === "hub" ? publishedReport(report) : report;
    files.push({ path: RUN_FILES.report, content: jsonText(written) });
    await store.write(files, `Merge ${partitions.length} partitions of ${name}`);
    return report;
  } finally {
    await store.close();
  }
}

interface PartitionRecord {
  partition: Partition;
  identity: RunIdentity;
  report: RunReport;
  files: Set<string>;
  errors: string | undefined;
}

/** Every partition's identity and report, checked to be one whole, finished run. */
async function readPartitions(store: MergeStore): Promise<PartitionRecord[]> {
  const { where } = store;
  const folders = await store.partitionFolders();
  const found = new Map<string, { partition: Partition; files: Set<string> }>();
  for (const [label, files] of folders) {
    const partition = parsePartitionLabel(label);
    if (partition !== undefined && files.has(RUN_FILES.identity))
      found.set(label, { partition, files });
  }
  if (found.size === 0) {
    const single = (await store.text(RUN_FILES.identity)) !== undefined;
    throw new MaskpipeError(
      "ERR_PARTITIONS",
      single
        ? `${where}: holds the output of one run (${RUN_FILES.identity}), not partitions: there is nothing to merge`
        : `${where}: holds no partitions (no ${PARTITIONS_FOLDER}/{I}of{N}/${RUN_FILES.identity}); run maskpipe run ... --out ${where} --partition I/N for each I first`,
      { archive: where },
    );
  }
  const counts = [...new Set([...found.values()].map(({ partition }) => partition.count))];
  if (counts.length > 1) {
    throw new MaskpipeError(
      "ERR_PARTITIONS",
      `${where}: holds partitions of runs split ${counts.sort((a, b) => a - b).join(" and ")} ways; one output takes the partitions of one run: remove the others' shards and ${PARTITIONS_FOLDER}/ folders`,
      { archive: where },
    );
  }
  const count = counts[0]!;
  const all = Array.from({ length: count }, (_, index) => ({ index, count }));
  const missing = all.filter((partition) => !found.has(partitionLabel(partition)));
  if (missing.length > 0) {
    throw new MaskpipeError(
      "ERR_PARTITIONS",
      `${where}: ${missing.length} of ${count} partitions have not started (${named(missing.map(partitionLabel))}: no ${RUN_FILES.identity} in ${PARTITIONS_FOLDER}/); run each with --partition I/${count}, then merge again`,
      { archive: where },
    );
  }
  const records: PartitionRecord[] = [];
  const unfinished: string[] = [];
  for (const partition of all) {
    const folder = partitionFolder(partition);
    const { files } = found.get(partitionLabel(partition))!;
    const identity = parseIdentity((await store.text(`${folder}/${RUN_FILES.identity}`)) ?? "");
    if (identity === undefined || identity.partition?.index !== partition.index) {
      throw partitionError(
        where,
        partition,
        `its ${RUN_FILES.identity} is not a maskpipe run identity of this partition; run it again with --overwrite`,
      );
    }
    const reportText = files.has(RUN_FILES.report)
      ? await store.text(`${folder}/${RUN_FILES.report}`)
      : undefined;
    const report = reportText === undefined ? undefined : (JSON.parse(reportText) as RunReport);
    if (report === undefined || report.interrupted || report.dryRun === true) {
      unfinished.push(
        `${partitionLabel(partition)} (${report === undefined ? "no report yet" : report.interrupted ? "interrupted" : "a dry run"})`,
      );
      continue;
    }
    const errors = files.has(RUN_FILES.errors)
      ? await store.text(`${folder}/${RUN_FILES.errors}`)
      : undefined;
    records.push({ partition, identity, report, files, errors });
  }
  if (unfinished.length > 0) {
    throw new MaskpipeError(
      "ERR_PARTITIONS",
      `${where}: ${unfinished.length} of ${count} partitions have not finished: ${named(unfinished)}; wait for them, or run each again with --resume, then merge again`,
      { archive: where },
    );
  }
  const first = sharedIdentity(records[0]!.identity);
  for (const record of records) {
    const differences = [
      ...identityDifferences(first, sharedIdentity(record.identity)),
      ...identityDifferences(record.identity, record.report.identity).map(
        (difference) => `its report: ${difference}`,
      ),
    ];
    if (differences.length > 0) {
      throw partitionError(
        where,
        record.partition,
        `ran differently from ${partitionLabel(records[0]!.partition)}: ${differences.join("; ")}; run it again with the same inputs and options (--overwrite)`,
      );
    }
  }
  return records;
}

/**
 * A partition's shard is there at the size its report says, with an MD5 for the index and, when
 * the run wrote DALI indexes, its index beside it (each partition wrote its own shards' in
 * place: the merge only makes sure none is missing).
 */
async function checkPartitionShard(
  store: MergeStore,
  partition: PartitionRecord,
  path: string,
  shard: ShardInfo,
): Promise<void> {
  const size = await store.size(path);
  const fail = (message: string) => partitionError(store.where, partition.partition, message);
  if (size !== shard.bytes) {
    throw fail(
      `its shard ${path} ${size === undefined ? "is missing" : `has ${size.toLocaleString("en-US")} bytes where its report says ${shard.bytes.toLocaleString("en-US")}`}; run the partition again with --overwrite`,
    );
  }
  if (shard.md5 === undefined) {
    throw fail(
      "its report has no MD5 of its shards (an older maskpipe made it); run it again with --overwrite",
    );
  }
  if (
    partition.identity.daliIndex === true &&
    (await store.size(daliIndexName(path))) === undefined
  ) {
    throw fail(
      `ran with --dali-index but the DALI index of its shard ${path}, ${daliIndexName(path)}, is missing; run the partition again with --resume`,
    );
  }
}

/** The one class list of the partitions: each derived it from the whole photo listing. */
async function agreedClasses(
  store: MergeStore,
  partitions: readonly PartitionRecord[],
): Promise<string | undefined> {
  if (!hasLabels(partitions[0]!.report)) return undefined;
  let agreed: string | undefined;
  for (const record of partitions) {
    const text = await store.text(`${partitionFolder(record.partition)}/${RUN_FILES.classes}`);
    if (text === undefined) {
      throw partitionError(
        store.where,
        record.partition,
        `has labels but no ${RUN_FILES.classes}; run it again with --overwrite`,
      );
    }
    agreed ??= text;
    if (text !== agreed) {
      throw partitionError(
        store.where,
        record.partition,
        `has another ${RUN_FILES.classes} than ${partitionLabel(partitions[0]!.partition)}: the partitions saw different photo listings`,
      );
    }
  }
  return agreed;
}

/** The card goes where a README.md is: never over one maskpipe did not write. */
async function refuseForeignCard(store: MergeStore): Promise<void> {
  const card = await store.text(RUN_FILES.card);
  if (card !== undefined && !card.includes(CARD_MARKER)) {
    throw new MaskpipeError(
      "ERR_OUTPUT_EXISTS",
      `${store.where}: holds a README.md that maskpipe did not write, where the dataset card goes; move it away, then merge again`,
      { archive: store.where },
    );
  }
}

/** The run command of a partition (`--partition 0/3`) as every partition's (`--partition I/3`). */
function anyPartitionCommand(report: RunReport): string {
  const command = report.command ?? `... --partition I/${report.partition?.count ?? "N"}`;
  return command.replace(/--partition(=| )\d+\/(\d+)/, "--partition$1I/$2");
}

/** A report's shard name split into its split and its name in the split's folder. */
function splitOfShard(name: string, hasSplits: boolean): [string, string] {
  const slash = name.indexOf("/");
  if (!hasSplits || slash < 0) return ["train", name];
  return [name.slice(0, slash), name.slice(slash + 1)];
}

function partitionError(where: string, partition: Partition, message: string): MaskpipeError {
  return new MaskpipeError(
    "ERR_PARTITIONS",
    `${where}: partition ${partitionLabel(partition)} (${PARTITIONS_FOLDER}/${partitionLabel(partition)}) ${message}`,
    { archive: where },
  );
}

function named(items: readonly string[]): string {
  const more = items.length > NAMED ? ` and ${items.length - NAMED} more` : "";
  return `${items.slice(0, NAMED).join(", ")}${more}`;
}
