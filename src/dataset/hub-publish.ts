import { jsonText } from "../core/json-text.js";
import { daliIndexName } from "../sinks/dali-index.js";
import { hubSplitFolder, isHubShardPath } from "../sinks/hub/hub-defaults.js";
import { type HubRepo, type HubUpload, textUpload } from "../sinks/hub/hub-repo.js";
import type { HubStats } from "../sinks/hub/hub-stats.js";
import type { ShardInfo } from "../sinks/sink.js";
import { contactSheet, encodeSheet, type PreviewShard } from "./contact-sheet.js";
import { datasetCard } from "./dataset-card.js";
import type { RepoClaim } from "./hub-claim.js";
import type { HubSinkOptions, PublishDetails } from "./hub-options.js";
import { indexFiles } from "./index-files.js";
import { openOutput } from "./output-files.js";
import type { RunReport } from "./report.js";
import { RUN_FILES } from "./run-files.js";

/** What the last commit describes: the run's report, its details, its shards and its cost. */
export interface Publication {
  report: RunReport;
  details: PublishDetails;
  bySplit: ReadonlyMap<string, readonly ShardInfo[]>;
  stats: () => HubStats;
}

/**
 * The last commit, once every shard is in: index, preview, report, errors, classes and card (a
 * partition: its report, errors and classes in its folder, for the merge); shards of this
 * run's names the run did not make are deleted in it.
 */
export async function publishRun(
  hub: HubRepo,
  options: HubSinkOptions,
  claim: RepoClaim,
  publication: Publication,
): Promise<void> {
  const { report, details, bySplit } = publication;
  const made = [...bySplit].flatMap(([split, shards]) =>
    shards.map((shard) => ({ path: `${hubSplitFolder(split)}/${shard.name}`, shard })),
  );
  // Shards of this run's names in the repo that the run did not make (a longer earlier run's),
  // and DALI indexes of shards it made without one.
  const madePaths = new Set(
    made.flatMap(({ path }) => [path, ...(options.daliIndex ? [daliIndexName(path)] : [])]),
  );
  const stale = [...claim.remote.keys()].filter(
    (path) => isHubShardPath(path, claim.pattern) && !madePaths.has(path),
  );
  // The report in the repo counts the commit that carries it (and the preview's reads before).
  const records = () => {
    const published = { ...report, hub: { ...publication.stats(), commits: hub.commits + 1 } };
    return [
      textUpload(`${claim.records}${RUN_FILES.report}`, jsonText(published)),
      ...(details.errors !== undefined && details.errors.length > 0
        ? [textUpload(`${claim.records}${RUN_FILES.errors}`, details.errors)]
        : []),
      ...(details.classes !== undefined
        ? [textUpload(`${claim.records}${RUN_FILES.classes}`, details.classes)]
        : []),
    ];
  };
  if (options.partition !== undefined) {
    await hub.commit(`Report of ${claim.shardSet}`, records(), stale);
    return;
  }
  const files: HubUpload[] = indexFiles(options.name, bySplit, "hub", claim.hasSplits).map((file) =>
    textUpload(file.path, file.text),
  );
  // The card shows a contact sheet, read back from the shards just committed.
  const previewShards = made.map(({ path, shard }) => ({ path, nsamples: shard.samples }));
  const preview = previewShards.some((shard) => shard.nsamples > 0)
    ? await hubPreview(options, previewShards)
    : undefined;
  if (preview !== undefined) files.push({ path: RUN_FILES.preview, content: new Blob([preview]) });
  files.push(...records());
  if (!claim.keepCard) {
    const card = datasetCard(report, {
      repo: hub.name,
      dataFolder: (split) => `${hubSplitFolder(split)}/`,
      ...(preview !== undefined && { preview: RUN_FILES.preview }),
      command: details.command,
      version: details.version,
    });
    files.push(textUpload(RUN_FILES.card, card));
  }
  await hub.commit(`Dataset card, index and report of ${report.name}`, files, stale);
}

/** A contact sheet of the repo's shards as a JPEG, read back with Range requests. */
export async function hubPreview(
  options: { repo: string; token?: string; hubUrl?: string },
  shards: PreviewShard[],
): Promise<Buffer> {
  const files = await openOutput(options.repo, {
    ...(options.token !== undefined && { token: options.token }),
    ...(options.hubUrl !== undefined && { hubUrl: options.hubUrl }),
  });
  try {
    return await encodeSheet(await contactSheet(files, shards), "jpeg");
  } finally {
    await files.close();
  }
}
