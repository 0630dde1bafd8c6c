import { connectHubRepo } from "../sinks/hub/hub-connect.js";
import { type HubShardSink, hubShardSink } from "../sinks/hub-sink.js";
import { claimRepo } from "./hub-claim.js";
import type { HubSinkOptions, PublishDetails } from "./hub-options.js";
import { publishRun } from "./hub-publish.js";
import type { RunReport } from "./report.js";

export { HUB_RETRY } from "../sinks/hub/hub-connect.js";
export { HUB_SHARD_DEFAULTS } from "../sinks/hub/hub-defaults.js";
export type { HubSinkOptions, PublishDetails } from "./hub-options.js";

/** A sink that commits shards to a Hub repo; `publish` then writes the card, index and report. */
export interface HubSink extends HubShardSink {
  /** What publishing leaves alone in the repo, and why: for the report and the summary. */
  readonly notes: readonly string[];
  /**
   * The last commit, once every shard is in: README.md (the dataset card), index.json,
   * report.json and, if given, errors.jsonl; shards of this name the run no longer makes are
   * deleted. Written last so a half-finished upload is never described as complete.
   */
  publish(report: RunReport, details: PublishDetails): Promise<void>;
}

/**
 * Opens (or creates) the repo, claims it for the run (the output policy, run.json first), and
 * returns a sink that commits shards to `data/{split}/` as they complete; `publish` then writes
 * the card, index, preview and report.
 *
 * @example
 * const sink = await hubSink({ repo: "hf://datasets/me/casia-masked", name: "casia" });
 * await pipeline(pairs, overlay(), sink);
 * await sink.publish(report, { command: "...", version: VERSION });
 */
export async function hubSink(options: HubSinkOptions): Promise<HubSink> {
  const { hub, transport } = await connectHubRepo(options);
  const claim = await claimRepo(hub, options);
  const sink = hubShardSink({ hub, transport, ...claim }, options);
  const publish = (report: RunReport, details: PublishDetails) =>
    publishRun(hub, options, claim, {
      report,
      details,
      bySplit: sink.shardsBySplit(),
      stats: () => sink.hub,
    });
  return Object.assign(sink, { notes: claim.notes, publish });
}
