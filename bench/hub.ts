/**
 * Publishing to a Hub repo, measured against the fake Hub the tests use (127.0.0.1, in this
 * process: blobs hashed, checked and kept, since the card's contact sheet is read back from the
 * shards): commits made, bytes sent, peak RSS of the publishing process.
 *   node dist-bench/bench/hub.js [pairs] [shardMaxBytes...]
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { HEAP_FLAGS } from "../src/core/heap-flags.js";
import { OVERLAY_DEFAULTS } from "../src/transforms/overlay.js";
import { startFakeHub } from "../test/support/fake-hub.js";
import { corpus } from "./corpus.js";
import type { Measurement } from "./measure.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");
const pairs = Number(process.argv[2] ?? 2000);
const sizes = process.argv.slice(3).map(Number);
const data = await corpus("casia", pairs, join(root, "bench/.corpus"));

for (const shardMaxBytes of sizes.length > 0 ? sizes : [undefined, 8e6]) {
  const hub = await startFakeHub();
  const repo = `bench/casia-${shardMaxBytes ?? "default"}`;
  const { stdout } = await run(
    process.execPath,
    [
      // As the CLI's worker runs (heap-flags.ts).
      ...HEAP_FLAGS,
      join(root, "dist-bench/bench/library.js"),
      data.originals,
      data.masks,
      data.pipeline,
      String(OVERLAY_DEFAULTS.concurrency),
      `hf://datasets/${repo}`,
      ...(shardMaxBytes === undefined ? [] : [String(shardMaxBytes)]),
    ],
    { env: { ...process.env, HF_ENDPOINT: hub.url, HF_TOKEN: hub.token }, maxBuffer: 1 << 24 },
  );
  const result = JSON.parse(stdout.trim().split("\n").pop()!) as Required<Measurement>;
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  console.log(
    `${pairs} CASIA-like pairs, shards ${shardMaxBytes === undefined ? "500 MB (default)" : `${mb(shardMaxBytes)} MB`}: ` +
      `${result.images} images in ${result.seconds.toFixed(1)} s (${(result.images / result.seconds).toFixed(0)} img/s), ` +
      `${result.shardBytes.length} shards (largest ${mb(Math.max(...result.shardBytes))} MB), ` +
      `${hub.commits(repo).length - 1} commits, ${mb(result.hub.bytesUploaded)} MB uploaded, ` +
      `peak RSS ${Math.round(result.peakRssBytes / 2 ** 20)} MiB, CPU ${result.cpuSeconds.toFixed(1)} s`,
  );
  await hub.close();
}
