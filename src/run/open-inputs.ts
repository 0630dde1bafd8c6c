import { abortable } from "../core/abortable.js";
import { VERSION } from "../core/version.js";
import { inputVersion, type RunIdentity } from "../dataset/run-identity.js";
import { type LabelIdentity, planLabels } from "../labels/label-plan.js";
import { Labeler } from "../labels/labeler.js";
import { openSource } from "../sources/open-source.js";
import type { OpenedSource } from "../sources/opened-source.js";
import { joinStrategy } from "../transforms/join.js";
import type { RunContext, RunInputs } from "./run-context.js";
import type { CheckedRunOptions } from "./run-options.js";

/**
 * Opens both inputs, plans the labels and records the run's identity. Each source opened is
 * pushed to `opened` at once, so the run closes it whatever happens next.
 */
export async function openInputs(run: RunContext, opened: OpenedSource[]): Promise<RunInputs> {
  const { options, signal } = run;
  const open = async (spec: string) => {
    const source = await abortable(
      openSource(spec, {
        http: options.http,
        hub: options.hub,
        signal,
        ...(options.sevenZip !== undefined && { sevenZip: options.sevenZip }),
      }),
      signal,
      (late) => late.close(),
    );
    opened.push(source);
    return source;
  };
  const photos = await open(options.originals);
  const masks = await open(options.masks);
  const maskSide = { source: masks, keys: options.maskKeys };
  const labelPlan = await abortable(planLabels({ ...options, signal, maskSide }, photos), signal);
  return {
    photos,
    masks,
    labeler: labelPlan?.tables === undefined ? undefined : new Labeler(labelPlan.tables),
    labelPlan,
    identity: await runIdentity(options, photos, masks, labelPlan?.identity),
    strategy: joinStrategy(photos, masks),
  };
}

/** What makes this run's output what it is (run-identity.ts). */
async function runIdentity(
  options: CheckedRunOptions,
  photos: OpenedSource,
  masks: OpenedSource,
  labels: LabelIdentity | undefined,
): Promise<RunIdentity> {
  return {
    maskpipe: VERSION,
    name: options.name,
    layout: options.layout,
    format: options.format,
    quality: options.quality,
    optimizeCoding: options.optimizeCoding,
    maxPixels: options.maxPixels,
    ...(options.layout === "webdataset" && {
      shardMaxCount: options.shardMaxCount,
      shardMaxBytes: options.shardMaxBytes,
    }),
    ...(options.daliIndex && { daliIndex: true as const }),
    keys: { photos: options.photoKeys, masks: options.maskKeys },
    ...(options.limit !== undefined && { limit: options.limit }),
    originals: await inputVersion(options.originals, photos),
    masks: await inputVersion(options.masks, masks),
    ...(labels !== undefined && { labels }),
    ...(options.partition !== undefined && { partition: options.partition }),
    ...(options.with.length > 0 && { with: [...options.with] }),
    ...(options.masked !== undefined && { masked: options.masked }),
    ...(options.keepUnmasked && { keepUnmasked: true }),
  };
}
