import { existsSync } from "node:fs";
import { join } from "node:path";
import { abortable } from "../core/abortable.js";
import type { HubSink } from "../dataset/hub-dataset.js";
import { publishedIdentity } from "../dataset/run-identity.js";
import { folderOutputPath, folderSink } from "../sinks/folder-sink.js";
import { findResumePoint, type ResumePoint } from "../sinks/resume.js";
import type { SampleSink, ShardInfo } from "../sinks/sink.js";
import { SPLIT_ORDER, SplitSink } from "../sinks/split-sink.js";
import { webDatasetSink } from "../sinks/webdataset-sink.js";
import { FILE_EXTENSION } from "../transforms/encode.js";
import type { RunContext, RunInputs } from "./run-context.js";
import type { Layout } from "./run-options.js";

/** What --resume keeps: complete shards (by split too) and the keys they hold, or nothing. */
export interface KeptOutput {
  shards: ShardInfo[];
  keys: ReadonlySet<string>;
  bySplit: Map<string, ResumePoint>;
  /** Whether the output already holds `key`'s sample. */
  isDone(key: string): boolean;
  /** Shards found not complete, and why: made again (the report's notes). */
  redone: string[];
}

/** A layout of a local output folder: what --resume keeps of it, and the sink that writes it. */
interface LayoutPlan {
  resume(run: RunContext, splits: readonly string[]): Promise<KeptOutput>;
  sink(run: RunContext, splits: readonly string[], kept: KeptOutput): SampleSink;
}

/**
 * The layouts, by `--layout`: a new one is one entry here (and its name in run-options.ts's
 * Layout); docs/internals.md walks through it.
 */
const LAYOUTS: Record<Layout, LayoutPlan> = {
  webdataset: {
    async resume(run, splits) {
      const { out } = run.options;
      // A partition's folder index is the merge's, not a record of its shards.
      const resumeOptions = {
        indexed: run.options.partition === undefined,
        daliIndex: run.options.daliIndex,
      };
      const find = (dir: string) => findResumePoint(dir, run.shardSet, resumeOptions);
      if (splits.length === 0) return kept(await find(out));
      // Each split is a shard set of its own, resumed on its own; a key is done in any of them.
      const keys = new Set<string>();
      const shards: ShardInfo[] = [];
      const bySplit = new Map<string, ResumePoint>();
      const redone: string[] = [];
      for (const split of SPLIT_ORDER) {
        const point = await find(join(out, split));
        bySplit.set(split, point);
        redone.push(...(point.redone ?? []));
        for (const key of point.keys) keys.add(key);
        shards.push(...point.shards.map((shard) => ({ ...shard, name: `${split}/${shard.name}` })));
      }
      return { ...kept({ shards, keys, redone }), bySplit };
    },
    sink(run, splits, resumed) {
      const { options } = run;
      const shardsInto = (dir: string, resumeFrom: readonly ShardInfo[]) =>
        webDatasetSink({
          dir,
          root: options.out,
          name: run.shardSet,
          index: options.partition === undefined,
          maxCount: options.shardMaxCount,
          maxBytes: options.shardMaxBytes,
          daliIndex: options.daliIndex,
          resumeFrom,
          stats: run.stats,
        });
      if (splits.length === 0) return shardsInto(options.out, resumed.shards);
      return new SplitSink((split) =>
        shardsInto(join(options.out, split), resumed.bySplit.get(split)?.shards ?? []),
      );
    },
  },
  folder: {
    async resume(run) {
      const { out, format } = run.options;
      return {
        ...kept(NOTHING),
        isDone: (key) => {
          try {
            return existsSync(folderOutputPath(out, key, FILE_EXTENSION[format]));
          } catch {
            return false; // a key no file can be named after: the sink records it as failed
          }
        },
      };
    },
    sink: (run) => folderSink({ dir: run.options.out, stats: run.stats }),
  },
};

const NOTHING: ResumePoint = { shards: [], keys: new Set() };

function kept(point: ResumePoint): KeptOutput {
  return {
    shards: [...point.shards],
    keys: point.keys,
    bySplit: new Map(),
    isDone: (key) => point.keys.has(key),
    redone: [...(point.redone ?? [])],
  };
}

/** The sink a run writes to, and what --resume kept of an earlier run in its output. */
export async function makeSink(
  run: RunContext,
  inputs: RunInputs,
): Promise<{ sink: SampleSink; hub: HubSink | undefined; kept: KeptOutput }> {
  const splits = inputs.labeler?.splits ?? [];
  if (run.toHub) {
    const hub = await openHubSink(run, inputs);
    return { sink: hub, hub, kept: run.options.resume ? kept(hub.kept) : kept(NOTHING) };
  }
  const layout = LAYOUTS[run.options.layout];
  const resumed = run.options.resume ? await layout.resume(run, splits) : kept(NOTHING);
  return { sink: layout.sink(run, splits, resumed), hub: undefined, kept: resumed };
}

/**
 * The Hub sink, which claims the repo by the same policy as a folder. Loaded on first use: the
 * Hub client adds to every start otherwise.
 */
async function openHubSink(run: RunContext, inputs: RunInputs): Promise<HubSink> {
  const { options } = run;
  const { hubSink } = await abortable(import("../dataset/hub-dataset.js"), run.signal);
  const splits = inputs.labeler?.splits ?? [];
  return abortable(
    hubSink({
      repo: options.out,
      name: options.name,
      ...(options.partition !== undefined && { partition: options.partition }),
      maxCount: options.shardMaxCount,
      maxBytes: options.shardMaxBytes,
      daliIndex: options.daliIndex,
      stats: run.stats,
      private: options.private,
      xet: options.xet,
      buffer: options.hubBuffer,
      ...(options.hubSpool !== undefined && { spool: options.hubSpool }),
      mode: run.mode,
      // A Hub repo records and compares the identity as published: no local paths.
      identity: publishedIdentity(inputs.identity),
      ...(splits.length > 0 && { splits: SPLIT_ORDER }),
      ...(options.hub?.token !== undefined && { token: options.hub.token }),
      ...(options.hub?.endpoint !== undefined && { hubUrl: options.hub.endpoint }),
    }),
    run.signal,
  );
}
