/**
 * The full pipeline through the library: archives -> join -> overlay -> WebDataset shards.
 * Run by bench/run.ts in its own process so its peak RSS is its own:
 *   node dist-bench/bench/library.js <originals> <masks> <pipeline.json> <concurrency> <out> [shardMaxBytes]
 * `out` may be a Hub repo (bench/hub.ts): HF_ENDPOINT and HF_TOKEN say which Hub.
 */

import { cpuSecondsUsed, peakRssBytes } from "../src/core/process-usage.js";
import { loadPipelineFile } from "../src/run/pipeline-file.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import type { Measurement } from "./measure.js";

const [originals, masks, pipelineFile, concurrencyText, out, shardMaxBytes] = process.argv.slice(2);
const defaults = await loadPipelineFile(pipelineFile!);
const cpuBefore = cpuSecondsUsed();
const started = performance.now();
const report = await runPipeline({
  ...defaults,
  originals: originals!,
  masks: masks!,
  out: out!,
  concurrency: Number(concurrencyText),
  ...(shardMaxBytes !== undefined && { shardMaxBytes: Number(shardMaxBytes) }),
});
const result: Measurement = {
  what: "library",
  images: report.written,
  seconds: (performance.now() - started) / 1000,
  cpuSeconds: cpuSecondsUsed() - cpuBefore,
  peakRssBytes: peakRssBytes(),
  shardBytes: report.shards.map((shard) => shard.bytes),
  ...(report.hub !== undefined && { hub: report.hub }),
};
console.log(JSON.stringify(result));
