/**
 * npm run bench [-- --pairs N --rounds N --scale-pairs A,B --corpus celeba,casia --concurrency N]
 * (builds dist/ and dist-bench/ first)
 *
 * For each corpus: the ceiling (codec work alone), the full pipeline through the library, and
 * through the CLI, each in its own process on the same pairs with the same concurrency, in
 * `--rounds` interleaved rounds; the table shows each measure's median round (by images/s), as
 * this machine's speed drifts 10-20% within minutes. Then the library pipeline on CASIA-like
 * corpora of two sizes, to show memory does not grow with the data set. Prints a table and
 * writes every round to bench/results/<time>.json.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HEAP_FLAGS } from "../src/heap-flags.js";
import { OVERLAY_DEFAULTS } from "../src/transforms/overlay.js";
import { child, measureCli } from "./cli-measure.js";
import { type Corpus, type CorpusKind, corpus } from "./corpus.js";
import type { Measurement } from "./measure.js";

// Run from the package root (npm run bench): compiled to dist-bench/ so that every measurement
// runs plain JavaScript, as users do (tsx source maps slow every sharp call by ~15%).
const ROOT = process.cwd();
const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    "scale-pairs": { type: "string", default: "2000,20000" },
    corpus: { type: "string", default: "celeba,casia" },
    concurrency: { type: "string", default: String(OVERLAY_DEFAULTS.concurrency) },
  },
});
const pairs = Number(values.pairs);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const corpusRoot = join(ROOT, "bench/.corpus");
const scratch = join(ROOT, "bench/.out");

const run = (args: string[]) => child(args, ROOT);
const lastJson = (stdout: string): Measurement => JSON.parse(stdout.trim().split("\n").at(-1)!);

// The ceiling and the library run under the node flags the CLI gives its worker (heap-flags.ts),
// as the README advises library users; "library, default heap" shows what they are worth.
async function ceiling(c: Corpus): Promise<Measurement> {
  const { stdout } = await run([
    ...HEAP_FLAGS,
    "dist-bench/bench/ceiling.js",
    c.originals,
    c.masks,
    c.pipeline,
    String(concurrency),
  ]);
  return lastJson(stdout);
}

async function library(c: Corpus, nodeFlags: readonly string[] = HEAP_FLAGS): Promise<Measurement> {
  const out = join(scratch, `library-${c.kind}-${c.pairs}`);
  await rm(out, { recursive: true, force: true });
  const { stdout } = await run([
    ...nodeFlags,
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
  return measureCli({
    root: ROOT,
    pipeline: c.pipeline,
    originals: c.originals,
    masks: c.masks,
    out,
    concurrency,
  });
}

const rate = (m: Measurement) => m.images / m.seconds;
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
const rows: string[][] = [
  ["corpus", "measure", "images", "img/s", "vs ceiling", "CPU ms/img", "peak RSS"],
];
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  concurrency,
  rounds,
  node: process.version,
};

const kinds = values.corpus.split(",") as CorpusKind[];
const corpora = new Map<CorpusKind, Corpus>();
for (const kind of kinds) corpora.set(kind, await corpus(kind, pairs, corpusRoot));
const measures: {
  name: string;
  run: (c: Corpus) => Promise<Measurement>;
}[] = [
  { name: "ceiling", run: ceiling },
  { name: "library", run: (c) => library(c) },
  { name: "cli", run: cli },
  {
    name: "library, default heap",
    run: async (c) => ({ ...(await library(c, [])), what: "library, default heap" }),
  },
];
const runsOf = new Map<string, Measurement[]>();
for (let round = 1; round <= rounds; round++) {
  for (const kind of kinds) {
    for (const measure of measures) {
      const key = `${kind}/${measure.name}`;
      const m = await measure.run(corpora.get(kind)!);
      const runs = runsOf.get(key) ?? [];
      runs.push(m);
      runsOf.set(key, runs);
      console.error(`round ${round}/${rounds} ${key}: ${rate(m).toFixed(1)} img/s`);
    }
  }
}
const median = (runs: Measurement[]): Measurement =>
  [...runs].sort((a, b) => rate(a) - rate(b))[Math.floor((runs.length - 1) / 2)]!;
for (const kind of kinds) {
  const top = median(runsOf.get(`${kind}/ceiling`)!);
  const perMeasure = measures.map((measure) => {
    const all = runsOf.get(`${kind}/${measure.name}`)!;
    return { median: median(all), all };
  });
  results[`${kind}-${pairs}`] = perMeasure.map(({ median: m, all }) => ({
    ...m,
    imagesPerSecond: rate(m),
    ratioToCeiling: rate(m) / rate(top),
    cpuMsPerImage: (1000 * m.cpuSeconds) / m.images,
    rounds: all,
  }));
  for (const { median: m } of perMeasure) {
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
