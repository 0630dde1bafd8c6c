/**
 * One Hub publish in its own process, so its peak RSS is its own:
 *   node dist-bench/bench/hub-run.js <originals> <masks> <pipeline.json> <repo-url> [shardMaxBytes]
 * HF_ENDPOINT and HF_TOKEN say which Hub (bench/hub.ts starts a local one).
 */
import { loadPipelineFile } from "../src/pipeline-file.js";
import { runPipeline } from "../src/run.js";
import { cpuSecondsNow, peakRss } from "./measure.js";

const [originals, masks, pipelineFile, out, shardMaxBytes] = process.argv.slice(2);
const defaults = await loadPipelineFile(pipelineFile!);
const cpuBefore = cpuSecondsNow();
const started = performance.now();
const report = await runPipeline({
  ...defaults,
  originals: originals!,
  masks: masks!,
  out: out!,
  ...(shardMaxBytes !== undefined && { shardMaxBytes: Number(shardMaxBytes) }),
});
console.log(
  JSON.stringify({
    images: report.written,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSecondsNow() - cpuBefore,
    peakRssBytes: peakRss(),
    shards: report.shards.length,
    shardBytes: report.shards.map((shard) => shard.bytes),
    hub: report.hub,
  }),
);
