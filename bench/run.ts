/**
 * npm run bench [-- --pairs N --scale-pairs A,B --corpus celeba,casia --concurrency N]
 * (builds dist/ and dist-bench/ first)
 *
 * For each corpus: the ceiling (codec work alone), the full pipeline through the library, and
 * through the CLI, each in its own process on the same pairs with the same concurrency; then the
 * library pipeline on CASIA-like corpora of two sizes, to show memory does not grow with the data
 * set. Prints a table and writes bench/results/<time>.json.
 */
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { OVERLAY_DEFAULTS } from "../src/transforms/overlay.js";
import { type Corpus, type CorpusKind, corpus } from "./corpus.js";
import type { Measurement } from "./measure.js";

// Run from the package root (npm run bench): compiled to dist-bench/ so that every measurement
// runs plain JavaScript, as users do (tsx source maps slow every sharp call by ~15%).
const ROOT = process.cwd();
const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "2000" },
    "scale-pairs": { type: "string", default: "2000,20000" },
    corpus: { type: "string", default: "celeba,casia" },
    concurrency: { type: "string", default: String(OVERLAY_DEFAULTS.concurrency) },
  },
});
const pairs = Number(values.pairs);
const concurrency = Number(values.concurrency);
const corpusRoot = join(ROOT, "bench/.corpus");
const scratch = join(ROOT, "bench/.out");

function child(args: string[]): Promise<{ stdout: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    process_.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    process_.on("error", reject);
    process_.on("close", (code) =>
      code === 0
        ? resolve({ stdout, seconds: (performance.now() - started) / 1000 })
        : reject(new Error(`${args.join(" ")} exited ${code}`)),
    );
  });
}

const lastJson = (stdout: string): Measurement => JSON.parse(stdout.trim().split("\n").at(-1)!);

async function ceiling(c: Corpus): Promise<Measurement> {
  const { stdout } = await child([
    "dist-bench/bench/ceiling.js",
    c.originals,
    c.masks,
    c.pipeline,
    String(concurrency),
  ]);
  return lastJson(stdout);
}

async function library(c: Corpus): Promise<Measurement> {
  const out = join(scratch, `library-${c.kind}-${c.pairs}`);
  await rm(out, { recursive: true, force: true });
  const { stdout } = await child([
    "dist-bench/bench/library.js",
    c.originals,
    c.masks,
    c.pipeline,
    String(concurrency),
    out,
  ]);
  return lastJson(stdout);
}

async function cli(c: Corpus): Promise<Measurement> {
  const out = join(scratch, `cli-${c.kind}-${c.pairs}`);
  await rm(out, { recursive: true, force: true });
  const args = [
    "dist/cli/main.js",
    "run",
    c.pipeline,
    "--originals",
    c.originals,
    "--masks",
    c.masks,
  ];
  const { seconds } = await child([
    ...args,
    "--out",
    out,
    "--concurrency",
    String(concurrency),
    "--quiet",
  ]);
  const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
  // Wall time as a user sees it, node's start-up included; CPU and RSS of the whole process.
  return {
    what: "cli",
    images: report.written,
    seconds,
    cpuSeconds: report.cpuSeconds,
    peakRssBytes: report.peakRssBytes,
  };
}

const rate = (m: Measurement) => m.images / m.seconds;
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
const rows: string[][] = [
  ["corpus", "measure", "images", "img/s", "vs ceiling", "CPU ms/img", "peak RSS"],
];
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  concurrency,
  node: process.version,
};

for (const kind of values.corpus.split(",") as CorpusKind[]) {
  const c = await corpus(kind, pairs, corpusRoot);
  const top = await ceiling(c);
  const measured = [top, await library(c), await cli(c)];
  results[`${kind}-${pairs}`] = measured.map((m) => ({
    ...m,
    imagesPerSecond: rate(m),
    ratioToCeiling: rate(m) / rate(top),
    cpuMsPerImage: (1000 * m.cpuSeconds) / m.images,
  }));
  for (const m of measured) {
    rows.push([
      `${kind}-like ${pairs}`,
      m.what,
      String(m.images),
      rate(m).toFixed(1),
      (rate(m) / rate(top)).toFixed(3),
      ((1000 * m.cpuSeconds) / m.images).toFixed(2),
      mib(m.peakRssBytes),
    ]);
  }
}

const scale: Measurement[] = [];
for (const size of values["scale-pairs"]
  .split(",")
  .map(Number)
  .filter((n) => n > 0)) {
  const m = await library(await corpus("casia", size, corpusRoot));
  scale.push(m);
  rows.push([
    `casia-like ${size}`,
    "library (memory)",
    String(m.images),
    rate(m).toFixed(1),
    "",
    ((1000 * m.cpuSeconds) / m.images).toFixed(2),
    mib(m.peakRssBytes),
  ]);
}
results.memoryScaling = scale;

const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
for (const row of rows) console.log(row.map((cell, col) => cell.padEnd(widths[col]!)).join("  "));
if (scale.length === 2) {
  console.log(
    `peak RSS ${scale[1]!.images} vs ${scale[0]!.images} pairs: ${(scale[1]!.peakRssBytes / scale[0]!.peakRssBytes).toFixed(3)}x`,
  );
}
await mkdir(join(ROOT, "bench/results"), { recursive: true });
const file = join(ROOT, "bench/results", `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`results: ${file}`);
