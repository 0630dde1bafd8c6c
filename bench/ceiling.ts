/**
 * The ceiling: the codec work no pipeline can avoid, on pairs already in memory. Decode the
 * photo and the mask PNG to raw pixels and encode the photo with the pipeline's default output
 * settings; no blend, archive, join or sink. Run by bench/run.ts in its own process:
 *   node dist-bench/bench/ceiling.js <originals> <masks> <pipeline.json> <concurrency> [K I START]
 * With K, I and START (epoch ms): one of K processes side by side, taking every K-th pair from
 * the I-th, starting its work at START so the K work windows overlap (the multi-process ceiling).
 */
import sharp from "sharp";
import type { Pair } from "../src/core/pair.js";
import { cpuSecondsUsed, peakRssBytes } from "../src/core/process-usage.js";
import { loadPipelineFile } from "../src/run/pipeline-file.js";
import { openLocalSource } from "../src/sources/open-source.js";
import { join } from "../src/transforms/join.js";
import { orderedMap } from "../src/transforms/ordered-map.js";
import type { Measurement } from "./measure.js";

const [originals, masks, pipelineFile, concurrencyText, sliceCount, sliceIndex, startAt] =
  process.argv.slice(2);
const slices = Number(sliceCount ?? 1);
const slice = Number(sliceIndex ?? 0);
const pipeline = await loadPipelineFile(pipelineFile!);
const pairs: Pair[] = [];
let position = 0;
const photos = await openLocalSource(originals!);
const maskSource = await openLocalSource(masks!);
for await (const pair of join({
  photos,
  masks: maskSource,
  photoKeys: pipeline.photoKeys,
  maskKeys: pipeline.maskKeys,
})) {
  if (position++ % slices === slice) pairs.push(pair as Pair);
}
await Promise.all([photos.close(), maskSource.close()]);

async function codecWork(pair: Pair): Promise<number> {
  const [photo, mask] = await Promise.all([
    sharp(pair.photo.data).raw().toBuffer({ resolveWithObject: true }),
    sharp(pair.mask.data).raw().toBuffer({ resolveWithObject: true }),
  ]);
  const { width, height, channels } = photo.info;
  const jpeg = await sharp(photo.data, { raw: { width, height, channels } })
    .jpeg({ quality: 95, optimiseCoding: false, chromaSubsampling: "4:2:0" })
    .toBuffer();
  return jpeg.length + mask.info.width;
}

async function* items() {
  yield* pairs;
}

if (startAt !== undefined) {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
}
const cpuBefore = cpuSecondsUsed();
const startedAt = Date.now();
const started = performance.now();
let images = 0;
for await (const _ of orderedMap(items(), Number(concurrencyText), codecWork)) images++;
const result: Measurement = {
  what: "ceiling",
  images,
  seconds: (performance.now() - started) / 1000,
  cpuSeconds: cpuSecondsUsed() - cpuBefore,
  peakRssBytes: peakRssBytes(),
  window: { start: startedAt, end: Date.now() },
};
console.log(JSON.stringify(result));
