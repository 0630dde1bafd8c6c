/**
 * npm run bench:7z [-- --pairs N --rounds N --volumes N] (builds dist/ and dist-bench/ first)
 *
 * CelebA-like photos as a split 7z (solid LZMA2, `--volumes` volumes, as CelebA ships
 * img_celeba.7z.001 ... .014) against the same photos as a zip, masks as a zip both times,
 * through the CLI. Steady state: each measure runs on N and on 4N pairs, and the marginal cost
 * of the 3N extra pairs drops start-up and warm-up out (real data sets are 200k-500k images).
 * Rounds are interleaved (zip, 7z, N, 4N) because this machine's speed drifts; the table shows
 * medians. CPU includes 7-Zip's. Writes every round to bench/results/7z-<time>.json.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { openLocalSource } from "../src/sources/open-source.js";
import { bundledSevenZip } from "../src/sources/sevenzip/seven-zip-binary.js";
import { OVERLAY_DEFAULTS } from "../src/transforms/overlay.js";
import { measureCli } from "./cli-measure.js";
import { type Corpus, corpus } from "./corpus.js";
import type { Measurement } from "./measure.js";

const ROOT = process.cwd();
const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "1000" },
    rounds: { type: "string", default: "3" },
    volumes: { type: "string", default: "14" },
    concurrency: { type: "string", default: String(OVERLAY_DEFAULTS.concurrency) },
  },
});
const pairs = Number(values.pairs);
const rounds = Number(values.rounds);
const volumes = Number(values.volumes);
const concurrency = Number(values.concurrency);
const scratch = join(ROOT, "bench/.out");

/** The corpus's photos as `photos.7z/photos.7z.001` ...: unpacked from its zip, packed by 7-Zip. */
async function splitSevenZip(c: Corpus): Promise<string> {
  const folder = join(c.dir, "photos.7z");
  const first = join(folder, "photos.7z.001");
  if (existsSync(join(folder, "done"))) return first;
  await rm(folder, { recursive: true, force: true });
  const tree = join(c.dir, "photos-files");
  await rm(tree, { recursive: true, force: true });
  const zip = await openLocalSource(c.originals);
  let bytes = 0;
  for await (const entry of zip.entries()) {
    if (entry.data === undefined) continue;
    const path = join(tree, entry.member.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, entry.data);
    bytes += entry.data.length;
  }
  await zip.close();
  await mkdir(folder);
  const volumeBytes = Math.ceil(bytes / volumes);
  execFileSync(
    bundledSevenZip(),
    ["a", "-bd", `-v${volumeBytes}b`, join(folder, "photos.7z"), "."],
    {
      cwd: tree,
      stdio: "ignore",
    },
  );
  await rm(tree, { recursive: true });
  await writeFile(join(folder, "done"), "");
  return first;
}

const sizes = [pairs, 4 * pairs];
const corpora = new Map<number, { c: Corpus; sevenZip: string }>();
for (const size of sizes) {
  const c = await corpus("celeba", size, join(ROOT, "bench/.corpus"));
  corpora.set(size, { c, sevenZip: await splitSevenZip(c) });
}

const kinds = ["zip", "7z"] as const;
const runs = new Map<string, Measurement[]>();
for (let round = 1; round <= rounds; round++) {
  for (const size of sizes) {
    for (const kind of kinds) {
      const { c, sevenZip } = corpora.get(size)!;
      const m = await measureCli({
        root: ROOT,
        pipeline: c.pipeline,
        originals: kind === "zip" ? c.originals : sevenZip,
        masks: c.masks,
        out: join(scratch, `7z-bench-${kind}-${size}`),
        concurrency,
      });
      const key = `${kind}/${size}`;
      runs.set(key, [...(runs.get(key) ?? []), m]);
      console.error(
        `round ${round}/${rounds} ${kind} ${size}: ${(m.images / m.seconds).toFixed(1)} img/s`,
      );
    }
  }
}

const median = (values_: number[]) =>
  [...values_].sort((a, b) => a - b)[Math.floor((values_.length - 1) / 2)]!;
/** Per round: the marginal rate and CPU of the 3N pairs between the N and the 4N run. */
const marginal = (kind: string) =>
  runs.get(`${kind}/${sizes[0]}`)!.map((small, i) => {
    const large = runs.get(`${kind}/${sizes[1]}`)![i]!;
    const images = large.images - small.images;
    return {
      imagesPerSecond: images / (large.seconds - small.seconds),
      cpuMsPerImage: (1000 * (large.cpuSeconds - small.cpuSeconds)) / images,
      peakRss: [small.peakRssBytes, large.peakRssBytes],
    };
  });
const zip = marginal("zip");
const seven = marginal("7z");
const ratios = seven.map((m, i) => m.imagesPerSecond / zip[i]!.imagesPerSecond);
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
const rows = [
  ["photos", "marginal img/s", "CPU ms/img", `peak RSS ${sizes[0]} / ${sizes[1]}`],
  ...(
    [
      ["zip", zip],
      [`7z, ${volumes} volumes`, seven],
    ] as const
  ).map(([label, ms]) => [
    label,
    median(ms.map((m) => m.imagesPerSecond)).toFixed(1),
    median(ms.map((m) => m.cpuMsPerImage)).toFixed(2),
    `${mib(median(ms.map((m) => m.peakRss[0]!)))} / ${mib(median(ms.map((m) => m.peakRss[1]!)))}`,
  ]),
];
const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
for (const row of rows) console.log(row.map((cell, col) => cell.padEnd(widths[col]!)).join("  "));
console.log(
  `7z / zip, steady state: median ${median(ratios).toFixed(3)} (rounds: ${ratios.map((r) => r.toFixed(3)).join(", ")})`,
);
await mkdir(join(ROOT, "bench/results"), { recursive: true });
const file = join(
  ROOT,
  "bench/results",
  `7z-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
);
await writeFile(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), pairs, volumes, concurrency, rounds: Object.fromEntries(runs), zip, sevenZip: seven, ratios }, null, 2)}\n`,
);
console.log(`results: ${file}`);
