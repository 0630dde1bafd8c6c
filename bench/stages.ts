/**
 * Where the time goes: the same corpus through join alone, join + overlay into a discarding sink,
 * and the whole pipeline into shards, in one process, CPU ms per image for each.
 *   npm run build && tsc -p tsconfig.bench.json && node dist-bench/bench/stages.js <kind> <pairs> [concurrency]
 */
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { cpuSecondsUsed } from "../src/core/process-usage.js";
import { loadPipelineFile } from "../src/run/pipeline-file.js";
import { discardSink } from "../src/sinks/discard-sink.js";
import { webDatasetSink } from "../src/sinks/webdataset-sink.js";
import { openLocalSource } from "../src/sources/open-source.js";
import { join } from "../src/transforms/join.js";
import { OVERLAY_DEFAULTS, overlay } from "../src/transforms/overlay.js";
import { type CorpusKind, corpus } from "./corpus.js";

const [kind, pairsText, concurrencyText] = process.argv.slice(2);
const c = await corpus(kind as CorpusKind, Number(pairsText), "bench/.corpus");
const rules = await loadPipelineFile(c.pipeline);
const concurrency = Number(concurrencyText ?? OVERLAY_DEFAULTS.concurrency);

async function pairs() {
  return join({
    photos: await openLocalSource(c.originals),
    masks: await openLocalSource(c.masks),
    photoKeys: rules.photoKeys,
    maskKeys: rules.maskKeys,
  });
}

type Stage = NodeJS.ReadableStream | NodeJS.WritableStream;
const variants: [string, () => Promise<Stage[]>][] = [
  [
    "join only",
    async () => [await pairs(), new Writable({ objectMode: true, write: (_s, _e, cb) => cb() })],
  ],
  ["join + overlay", async () => [await pairs(), overlay({ concurrency }), discardSink()]],
  [
    "join + overlay + shards",
    async () => [
      await pairs(),
      overlay({ concurrency }),
      webDatasetSink({ dir: "bench/.out/stages", name: "s" }),
    ],
  ],
];
for (const [name, build] of variants) {
  const stages = await build();
  const before = cpuSecondsUsed();
  const started = performance.now();
  let count = 0;
  (stages[0] as NodeJS.ReadableStream).on("data", () => count++);
  await pipeline(stages);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${name.padEnd(26)} ${((1000 * (cpuSecondsUsed() - before)) / count).toFixed(2)} CPU ms/img  ${(count / seconds).toFixed(1)} pairs/s`,
  );
}
