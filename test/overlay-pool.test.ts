import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import type { Pair } from "../src/core/pair.js";
import type { Sample } from "../src/core/sample.js";
import { RunStats } from "../src/core/stats.js";
import type { RunOptions } from "../src/run/run-options.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { overlay } from "../src/transforms/overlay.js";
import { FrameReader, frameBuffers } from "../src/transforms/overlay-frames.js";
import { overlayInProcesses } from "../src/transforms/overlay-pool.js";
import { casiaRun, finished, runCli, startCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { childrenOf } from "./support/process-tree.js";
import { slowSink } from "./support/samples.js";
import { tempDir, tempDirForFile } from "./support/temp.js";

const casia = { depth: 2, suffixes: [] };

/** `count` synthetic pairs of `size` pixels square, in memory. */
async function pairsOf(count: number, size: number): Promise<Pair[]> {
  const files = await corpusFiles({ keys: casiaKeys(count, 700), size });
  return files.photos.map((photo, i) => ({
    key: `k${i}`,
    photo: { archive: "p.zip", path: photo.name, data: photo.data! },
    mask: { archive: "m.tar", path: files.masks[i]!.name, data: files.masks[i]!.data! },
  }));
}

/** The shard files of an output, name and bytes, and its errors file. */
async function outputBytes(out: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(out)).filter((f) => f.endsWith(".tar") || f === "errors.jsonl");
  return new Map(
    await Promise.all(names.sort().map(async (n) => [n, await readFile(join(out, n))] as const)),
  );
}

let photos: string;
let masks: string;
let corpusDir: string;

beforeAll(async () => {
  corpusDir = await tempDirForFile();
  const keys = casiaKeys(90, 500, 6);
  const files = await corpusFiles({ keys, size: 96, withoutMask: [keys[5]!] });
  // One photo that is not an image: a failure, recorded in input order whatever finished first.
  files.photos[11] = { name: files.photos[11]!.name, data: Buffer.from("not a jpeg") };
  photos = await writeArchive(corpusDir, "p", "zip", files.photos);
  masks = await writeArchive(corpusDir, "m", "tar", files.masks);
});

const runOptions = (out: string, more: Partial<RunOptions> = {}): RunOptions => ({
  name: "casia",
  originals: photos,
  masks,
  out,
  photoKeys: casia,
  maskKeys: casia,
  labels: "folder",
  shardMaxCount: 12,
  ...more,
});

/** The shards and errors file of the run in one process, made once for the tests that compare. */
let straightRun: Promise<Map<string, Buffer>> | undefined;
function straightOutput(): Promise<Map<string, Buffer>> {
  straightRun ??= (async () => {
    const out = join(await tempDir(), "straight");
    const report = await runPipeline(runOptions(out, { overlayWorkers: 1 }));
    expect(report.overlayWorkers).toEqual({ count: 1 });
    return outputBytes(out);
  })();
  return straightRun;
}

describe("overlay worker processes", () => {
  // Made before the tests that compare with it, so that its time is not counted in theirs.
  beforeAll(() => straightOutput().then(() => undefined));

  it("write the bytes of the in-process overlay for 1, 2 and 3 workers", async () => {
    const dir = await tempDir();
    const outputs: Map<string, Buffer>[] = [await straightOutput()];
    for (const workers of [2, 3]) {
      const out = join(dir, `w${workers}`);
      const report = await runPipeline(runOptions(out, { overlayWorkers: workers }));
      expect(report.failed).toBe(1);
      expect(report.overlayWorkers?.count).toBe(workers);
      expect(report.overlayWorkers?.cpuSeconds).toBeGreaterThan(0);
      outputs.push(await outputBytes(out));
    }
    expect(outputs[0]!.size).toBe(9); // 8 shards and errors.jsonl
    for (const output of outputs.slice(1)) expect(output).toEqual(outputs[0]);
  });

  it("resume an interrupted run to the bytes of an uninterrupted one", async () => {
    const out = join(await tempDir(), "resumed");
    const controller = new AbortController();
    const stopped = await runPipeline(
      runOptions(out, {
        overlayWorkers: 2,
        concurrency: 2,
        signal: controller.signal,
        onProgress: ({ written }) => {
          if (written >= 30) controller.abort();
        },
      }),
    );
    expect(stopped.interrupted).toBe(true);
    expect(stopped.written).toBeLessThan(89);
    const resumed = await runPipeline(runOptions(out, { overlayWorkers: 3, resume: true }));
    expect(resumed.resumed).toBeGreaterThanOrEqual(24);
    expect(await outputBytes(out)).toEqual(await straightOutput());
  });

  it("the stage gives overlay()'s samples, failures and counts, and stops on onError: fail", async () => {
    const pairs = await pairsOf(6, 40);
    pairs[2] = { ...pairs[2]!, photo: { ...pairs[2]!.photo, data: Buffer.from("x") } };
    const collect = async (stage: NodeJS.ReadWriteStream) => {
      const out: Sample[] = [];
      for await (const sample of Readable.from(pairs).pipe(stage))
        out.push(sample as unknown as Sample);
      return out;
    };
    const [inProcess, inWorkers] = [new RunStats(), new RunStats()];
    const expected = await collect(overlay({ stats: inProcess }));
    const got = await collect(overlayInProcesses({ workers: 2, stats: inWorkers }));
    expect(got).toEqual(expected);
    expect([inWorkers.failed, inWorkers.failureExamples]).toEqual([
      inProcess.failed,
      inProcess.failureExamples,
    ]);
    await expect(
      collect(overlayInProcesses({ workers: 2, onError: "fail" })),
    ).rejects.toMatchObject({
      code: "ERR_IMAGE_DECODE",
      message: expect.stringContaining("p.zip"),
    });
  });

  it("hands a worker's slot to a fresh process after recycleAfter pairs: the same samples, bounded memory", async () => {
    const pairs = await pairsOf(40, 40);
    const expected: Sample[] = [];
    for await (const sample of Readable.from(pairs).pipe(overlay()))
      expected.push(sample as unknown as Sample);
    let usage: { cpuSeconds: number; peakRssBytes: number }[] = [];
    const stage = overlayInProcesses({
      workers: 2,
      recycleAfter: 7,
      onUsage: (used) => {
        usage = used;
      },
    });
    const seen = new Set<number>();
    // The pids as each pair is taken: the stage takes them all before the first sample is out.
    async function* watched() {
      for (const pair of pairs) {
        for (const pid of stage.pids()) seen.add(pid);
        yield pair;
      }
    }
    const got: Sample[] = [];
    for await (const sample of Readable.from(watched()).pipe(stage))
      got.push(sample as unknown as Sample);
    expect(got).toEqual(expected);
    // 40 pairs, 7 a process: at least 6 processes in all, never more than 2 at once in the slots.
    expect(seen.size).toBeGreaterThanOrEqual(4);
    expect(stage.pids()).toHaveLength(2);
    // One entry a slot, the CPU of every process that held it.
    expect(usage).toHaveLength(2);
    for (const slot of usage) expect(slot.cpuSeconds).toBeGreaterThan(0);
    // Every process has exited: none is left running.
    await sleep(200);
    for (const pid of seen) expect(() => process.kill(pid, 0)).toThrow();
  });

  it("reads no further ahead than its window when the sink is slow", async () => {
    const all = await pairsOf(300, 24);
    let pulled = 0;
    let written = 0;
    let mostAhead = 0;
    async function* pairs() {
      for (const pair of all) {
        pulled++;
        mostAhead = Math.max(mostAhead, pulled - written);
        yield pair;
      }
    }
    await pipeline(
      Readable.from(pairs(), { highWaterMark: 1 }),
      overlayInProcesses({ workers: 2, concurrency: 4 }),
      slowSink(() => written++),
    );
    expect(written).toBe(300);
    // Stream buffers and the stage's window (twice the 2 x 2 batches of 4 pairs the two
    // workers hold): a few dozen, never the input.
    expect(mostAhead).toBeLessThan(2 * 2 * 2 * 8 + 16);
  });
});

describe("a worker process that dies", () => {
  beforeAll(() => longRun().then(() => undefined), 120_000);
  it("ends the run with exit 1 naming it; --resume ends with the bytes of a straight run", async () => {
    const dir = await tempDir();
    const long = await longRun();
    const args = (out: string) => [
      ...casiaRun(long.photos, long.masks, out, "12"),
      "--overlay-workers",
      "2",
      "--max-failed",
      "1",
      "-q",
    ];
    const out = join(dir, "out");
    const { ended, workers } = await runningWithWorkers([...args(out), "--concurrency", "2"]);
    process.kill(workers[1]!, "SIGKILL");
    const { code, stderr } = await ended;
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(`overlay worker 2 of 2 \\(pid ${workers[1]}\\) stopped: killed by SIGKILL`),
    );
    expect(stderr).toContain("[ERR_OVERLAY_WORKER]");
    // The other worker went with the run.
    await sleep(200);
    expect(existsSync(`/proc/${workers[0]}`)).toBe(false);

    const resumed = await runCli([...args(out), "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.resumed).toBeGreaterThanOrEqual(12);
    expect(await outputBytes(out)).toEqual(long.straight);
  });
});

describe("a run killed with kill -9", () => {
  beforeAll(() => longRun().then(() => undefined), 120_000);
  it("takes its worker processes with it", async () => {
    const out = join(await tempDir(), "out");
    const long = await longRun();
    const { child, ended, workers } = await runningWithWorkers([
      ...casiaRun(long.photos, long.masks, out, "12"),
      "--overlay-workers",
      "2",
      "--concurrency",
      "2",
    ]);
    child.kill("SIGKILL");
    expect((await ended).signal).toBe("SIGKILL");
    const started = performance.now();
    while (
      workers.some((pid) => existsSync(`/proc/${pid}`)) &&
      performance.now() - started < 10_000
    )
      await sleep(20);
    expect(workers.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
  });
});

/**
 * A corpus long enough that a run is still going when its first shard is written (the 90 pairs
 * above can all be in the workers by then, and done before a test kills anything), and the bytes
 * of its run in one process. Made once, for the tests that kill.
 */
let longCorpus:
  | Promise<{ photos: string; masks: string; straight: Map<string, Buffer> }>
  | undefined;
function longRun() {
  longCorpus ??= (async () => {
    const dir = await tempDirForFile();
    const files = await corpusFiles({ keys: casiaKeys(240, 500, 8), size: 64 });
    const photos = await writeArchive(dir, "p", "zip", files.photos);
    const masks = await writeArchive(dir, "m", "tar", files.masks);
    const out = join(await tempDir(), "straight");
    await runPipeline({
      ...runOptions(out, { overlayWorkers: 1 }),
      originals: photos,
      masks,
    });
    return { photos, masks, straight: await outputBytes(out) };
  })();
  return longCorpus;
}

/** The command started as a process, once its first shard is written, with its overlay workers' pids. */
async function runningWithWorkers(args: string[]) {
  const child = startCli(args);
  const ended = finished(child);
  const out = args[args.indexOf("--out") + 1]!;
  while (!existsSync(join(out, "casia-000000.tar"))) await sleep(10);
  const [main] = await childrenOf(child.pid!);
  const workers = await childrenOf(main!);
  expect(workers.length).toBe(2);
  return { child, ended, workers };
}

describe("frames between the stage and its workers", () => {
  it("come out whole whatever the chunks, payloads as sent", () => {
    const frames = [
      frameBuffers({ id: 1, sizes: [3, 0, 5] }, [
        Buffer.from("abc"),
        Buffer.alloc(0),
        Buffer.from("12345"),
      ]),
      frameBuffers({ id: 2, sizes: [] }, []),
      frameBuffers({ id: 3, sizes: [70_000] }, [Buffer.alloc(70_000, 7)]),
    ];
    const stream = Buffer.concat(frames.flat());
    for (const size of [1, 7, 64, 65_536, stream.length]) {
      const reader = new FrameReader<{ id: number; sizes: number[] }>();
      const got = [];
      for (let at = 0; at < stream.length; at += size)
        got.push(...reader.push(stream.subarray(at, at + size)));
      expect(got.map((f) => f.header.id)).toEqual([1, 2, 3]);
      expect(got[0]!.payloads.map(String)).toEqual(["abc", "", "12345"]);
      expect(got[2]!.payloads[0]!.equals(Buffer.alloc(70_000, 7))).toBe(true);
      expect(reader.pending).toBe(0);
    }
  });
});

describe("the default worker count", () => {
  it("a run of a few dozen pairs overlays in its own process, even with its masks in a tar", async () => {
    // The sample streams its masks from a tar (no count up front); its photos' zip bounds the
    // pairs at 36, so starting worker processes would cost more than they save.
    const out = join(await tempDir(), "out");
    const result = await runCli(["run", "sample", "--out", out, "-q"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.join).toBe("lookup-photos");
    expect(report.overlayWorkers).toEqual({ count: 1 });
    expect(result.stderr).not.toContain("overlay worker processes");
  });
});
