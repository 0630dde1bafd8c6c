import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionOf } from "../src/core/partition.js";
import type { RunReport } from "../src/dataset/report.js";
import { CLI, finished, ROOT, runCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { startFileServer, type TestServer } from "./support/http-server.js";
import { samplesIn } from "./support/read-shard.js";
import { scancel, scontrol, slurmMissing, squeue, waitForJobs } from "./support/slurm.js";
import { tempDirForFile } from "./support/temp.js";

const readJson = async <T>(path: string): Promise<T> =>
  JSON.parse(await readFile(path, "utf8")) as T;

/** Every sample of an output (key -> its members' names and bytes), through its index. */
async function samplesOf(out: string, partition?: (key: string) => boolean) {
  const index = await readJson<{ shardlist: { url: string }[] }>(join(out, "index.json"));
  const samples = await samplesIn(
    out,
    index.shardlist.map((shard) => shard.url),
  );
  return partition === undefined
    ? samples
    : new Map([...samples].filter(([key]) => partition(key)));
}

/**
 * CASIA as it ships: the photos a tar.gz, the masks a zip, both over HTTP from 127.0.0.1, and one
 * local run of the same files to compare. While `holding`, the server keeps back the last tenth
 * of the photos, so every worker is caught at work with its first shards written (300 photos:
 * a partition's pairs leave the join 32 at a time, one batch behind its reads).
 */
let dir: string;
let server: TestServer;
let local: string;
let holding = false;
const keys = casiaKeys(300, 45, 4);

beforeAll(async () => {
  dir = await tempDirForFile();
  const files = await corpusFiles({ keys, size: 40, withoutMask: [keys[5]!] });
  const photos = await writeArchive(dir, "CASIA-WebFace", "tar.gz", files.photos);
  const masks = await writeArchive(dir, "CASIA-WebFace_masks", "zip", files.masks);
  server = await startFileServer(
    [photos, masks],
    (_, path) => (holding && path.endsWith(".tar.gz") ? "hold" : "none"),
    {
      "/datasets/example/casia-webface-masks/resolve/main/CASIA-WebFace_masks.zip": masks,
    },
  );
  local = join(dir, "local");
  const one = await runCli([
    "run",
    "casia",
    "--originals",
    photos,
    "--masks",
    masks,
    "--out",
    local,
  ]);
  expect(one.code, one.stderr).toBe(0);
});

afterAll(async () => {
  await server?.close();
});

/** Submits deploy/slurm/array.sh as its comment says; the array's and the merge's job ids. */
async function submit(out: string, submitDir: string): Promise<{ array: string; merge: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // This checkout's command as the tests build it (build-for-tests.ts): dist/ may be stale.
    MASKPIPE: `${process.execPath} ${CLI}`,
    ORIGINALS: server.url("CASIA-WebFace.tar.gz"),
    MASKS: server.url("CASIA-WebFace_masks.zip"),
    OUT: out,
    PARTS: "3",
    CPUS: "1",
    MEM: "500M",
    EXTRA: "--shard-max-count 10",
  };
  delete env.LOGS;
  const script = join(ROOT, "deploy/slurm/array.sh");
  const result = await finished(spawn("bash", [script], { cwd: submitDir, env }));
  expect(result.code, result.stderr).toBe(0);
  const ids = /submitted: array (\d+) \(3 tasks\), merge (\d+)/.exec(result.stdout);
  expect(ids, result.stdout).not.toBeNull();
  expect(result.stdout).toContain(`watch:     squeue -j ${ids![1]},${ids![2]}`);
  return { array: ids![1]!, merge: ids![2]! };
}

describe("deploy/slurm/array.sh on a real Slurm", () => {
  const missing = slurmMissing();
  const title = "3 tasks over HTTP, one requeued while it runs, then the merge: one run's samples";
  (missing === undefined ? it : it.skip)(
    missing === undefined ? title : `${title} (skipped: ${missing})`,
    async () => {
      const out = join(dir, "slurm-out");
      const submitDir = join(dir, "submit");
      await mkdir(submitDir);
      holding = true;
      const { array, merge } = await submit(out, submitDir);
      const started = Date.now();
      let requeued = false;
      try {
        await waitForJobs([array, merge], 100_000, async (lines) => {
          if (Date.now() - started > 40_000) server.release();
          // Task 1 has a complete shard and is still at work: requeue it, as a preemption would.
          if (requeued || !existsSync(join(out, "casia-1of3-000000.tar"))) return;
          if (!lines.some((line) => line.startsWith(`${array}_1 RUNNING`))) return;
          await scontrol("requeue", `${array}_1`);
          requeued = true;
          server.release();
          // Slurm holds a requeued job back a while (cred_expire: 5 s on CI's Slurm).
          for (const line of await squeue([array])) {
            if (line.startsWith(`${array}_1 PENDING`))
              await scontrol("update", `jobid=${array}_1`, "begintime=now").catch(() => {});
          }
        });
      } finally {
        server.release();
        await scancel([array, merge]);
      }
      const logs = (await readdir(submitDir)).sort();
      const log = (name: string) => readFile(join(submitDir, name), "utf8");
      expect(logs).toEqual([
        `maskpipe-casia-${array}_0.out`,
        `maskpipe-casia-${array}_1.out`,
        `maskpipe-casia-${array}_2.out`,
        `maskpipe-casia-merge-${merge}.out`,
      ]);
      expect(requeued).toBe(true);
      // Both attempts of task 1 in its log: the interrupted one says how it goes on.
      const task1 = await log(`maskpipe-casia-${array}_1.out`);
      expect(task1).toMatch(/interrupted[\s\S]*continue with\s+\S+ \S+ run casia[\s\S]*: done/);
      const part1 = await readJson<RunReport>(join(out, "partitions", "1of3", "report.json"));
      expect(part1.resumed, task1).toBeGreaterThan(0);
      // A streamed side is downloaded whole by every task (docs/scale.md).
      const tarBytes = (await stat(join(dir, "CASIA-WebFace.tar.gz"))).size;
      for (const label of ["0of3", "2of3"]) {
        const part = await readJson<RunReport>(join(out, "partitions", label, "report.json"));
        expect(part.network.originals?.bytes).toBe(tarBytes);
      }
      const report = await readJson<RunReport>(join(out, "report.json"));
      expect(report.partition, await log(`maskpipe-casia-merge-${merge}.out`)).toEqual({
        count: 3,
        merged: true,
      });
      // Written by the runs, and kept by the requeued task's --resume from its first attempt.
      expect(report.written + report.resumed).toBe(299);
      expect(report.resumed).toBe(part1.resumed);
      expect(await readFile(join(out, "classes.txt"), "utf8")).toBe(
        await readFile(join(local, "classes.txt"), "utf8"),
      );
      expect(await samplesOf(out)).toEqual(await samplesOf(local));
      const verify = await runCli(["verify", out]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    },
    120_000,
  );
});

/** The container's `args:` list of a Kubernetes manifest, comments left out. */
function containerArgs(yaml: string): string[] {
  const lines = yaml.split("\n");
  const start = lines.findIndex((line) => /^\s*args:\s*$/.test(line));
  const args: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\s*#/.test(line)) continue;
    const item = /^\s*- (.*)$/.exec(line);
    if (item === null) break;
    args.push(item[1]!.trim().replace(/^"(.*)"$/, "$1"));
  }
  return args;
}

describe("deploy/kubernetes/indexed-job.yaml", () => {
  it("its pod's arguments run as a worker: its partition of the samples, from the same inputs", async () => {
    const yaml = await readFile(join(ROOT, "deploy/kubernetes/indexed-job.yaml"), "utf8");
    const args = containerArgs(yaml);
    expect(args.slice(0, 2)).toEqual(["run", "casia"]);
    const count = Number(args[args.indexOf("--partition") + 1]);
    expect(count).toBe(16);
    const out = join(dir, "k8s-out");
    // The example's places, here: its URL host and Hub are the local server, the output the
    // shared volume the manifest's comments mount.
    const base = server.url("").replace(/\/$/, "");
    const here = args.map((arg, i) =>
      args[i - 1] === "--out" ? out : arg.replace("https://example.org", base),
    );
    const index = partitionOf(keys[0]!, count);
    const worker = await runCli([...here, "--hub-url", base], ROOT, {
      JOB_COMPLETION_INDEX: String(index),
    });
    expect(worker.code, worker.stderr).toBe(0);
    const label = `${String(index).padStart(2, "0")}of${count}`;
    const report = await readJson<RunReport>(join(out, "partitions", label, "report.json"));
    expect(report.written).toBeGreaterThan(0);
    const mine = (key: string) => partitionOf(key, count) === index;
    const shards = report.shards.map((shard) => shard.name);
    expect(await samplesIn(out, shards)).toEqual(await samplesOf(local, mine));
  });
});
