import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mergePartitions } from "../src/commands/merge/merge-partitions.js";
import {
  type Partition,
  parsePartition,
  partitionOf,
  partitionShardSet,
} from "../src/core/partition.js";
import type { RunReport } from "../src/dataset/report.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { finished, ROOT, runCli, startCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { startFakeHub } from "./support/fake-hub.js";
import { samplesIn } from "./support/read-shard.js";
import { tempDir, tempDirForFile } from "./support/temp.js";

function indexShards(index: { shardlist: { url: string }[] }): string[] {
  return index.shardlist.map((shard) => shard.url);
}

const readJson = async <T>(path: string): Promise<T> =>
  JSON.parse(await readFile(path, "utf8")) as T;

describe("--partition I/N", () => {
  it("reads the index from the scheduler's variables, and refuses what cannot be one", () => {
    expect(parsePartition("2/5", {})).toEqual({ index: 2, count: 5 });
    expect(parsePartition("16", { JOB_COMPLETION_INDEX: "3" })).toEqual({ index: 3, count: 16 });
    expect(parsePartition("16", { SLURM_ARRAY_TASK_ID: "4" })).toEqual({ index: 4, count: 16 });
    // --array=1-16: the first task is partition 0.
    expect(parsePartition("16", { SLURM_ARRAY_TASK_ID: "16", SLURM_ARRAY_TASK_MIN: "1" })).toEqual({
      index: 15,
      count: 16,
    });
    expect(() => parsePartition("16", {})).toThrow(/neither is set; give it as --partition I\/16/);
    expect(() => parsePartition("3/3", {})).toThrow(/index from 0 to N-1/);
    expect(() => parsePartition("16", { SLURM_ARRAY_TASK_ID: "16" })).toThrow(/16\/16/);
    expect(() => parsePartition("a/b", {})).toThrow(/Expected --partition I\/N/);
  });

  it("a partition whose slice is empty finishes (exit 0): the merge judges the whole", async () => {
    const dir = await tempDir();
    const keys = casiaKeys(2, 45);
    const files = await corpusFiles({ keys, maskSuffix: "_mask", size: 40 });
    const taken = new Set(keys.map((key) => partitionOf(key, 50)));
    const empty = [...Array(50).keys()].find((index) => !taken.has(index))!;
    const result = await runCli([
      "run",
      "casia",
      "--originals",
      await writeArchive(dir, "photos", "zip", files.photos),
      "--masks",
      await writeArchive(dir, "masks", "zip", files.masks),
      "--out",
      join(dir, "out"),
      "--partition",
      `${empty}/50`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = await readJson<RunReport>(
      join(dir, "out", "partitions", `${String(empty).padStart(2, "0")}of50`, "report.json"),
    );
    expect(report.written).toBe(0);
    expect(report.problems).toEqual([]);
  });

  it("expects its own slice in its progress, so the percentage and ETA are its own", async () => {
    const dir = await tempDir();
    const keys = casiaKeys(30, 45, 3);
    const files = await corpusFiles({
      keys,
      maskSuffix: "_mask",
      size: 40,
      withoutMask: [keys[0]!],
    });
    let expected: number | undefined;
    const report = await runPipeline({
      name: "casia",
      originals: await writeArchive(dir, "photos", "zip", files.photos),
      masks: await writeArchive(dir, "masks", "zip", files.masks),
      out: join(dir, "out"),
      photoKeys: { depth: 2, suffixes: [] },
      maskKeys: { depth: 2, suffixes: ["_mask"] },
      partition: { index: 2, count: 3 },
      onProgress: (progress) => {
        expected = progress.expected;
      },
    });
    expect(report.pairs).toBeLessThan(25);
    expect(expected).toBe(report.pairs + report.photosWithoutMask);
  });

  it("slices keys evenly and the same way everywhere", () => {
    const keys = casiaKeys(20_000, 1, 500);
    const counts = new Array<number>(16).fill(0);
    for (const key of keys) counts[partitionOf(key, 16)]!++;
    // 1,250 expected each; 4 standard deviations (~35) either side.
    for (const count of counts) expect(Math.abs(count - 1250)).toBeLessThan(140);
    // The slice is a function of the key alone: fixed values guard against a change of hash.
    expect(keys.slice(0, 6).map((key) => partitionOf(key, 16))).toEqual(
      keys
        .slice(0, 6)
        .map((key) => createHash("sha256").update(key).digest().readUInt32BE(0) >>> 28),
    );
  });
});

describe("partitions as separate processes into one output, then merge", () => {
  let dir: string;
  let photosZip: string;
  let photosTar: string;
  let masks: string;
  let single: string;
  const keys = casiaKeys(60, 45, 6);
  const run = (out: string, ...more: string[]) => [
    "run",
    "casia",
    "--originals",
    photosZip,
    "--masks",
    masks,
    "--out",
    out,
    "--shard-max-count",
    "7",
    "-q",
    ...more,
  ];

  beforeAll(async () => {
    dir = await tempDirForFile();
    const files = await corpusFiles({
      keys,
      maskSuffix: "_mask",
      withoutMask: [keys[3]!],
      orphanMasks: ["0000099/001"],
      size: 40,
    });
    photosZip = await writeArchive(dir, "photos", "zip", files.photos);
    photosTar = await writeArchive(dir, "photos", "tar", files.photos);
    masks = await writeArchive(dir, "masks", "tar", files.masks);
    single = join(dir, "single");
    const result = await runCli(run(single));
    expect(result.stderr).toContain("done");
    expect(result.code).toBe(0);
  });

  it("makes every pair exactly once, with the single run's bytes, a wids index and summed counts", async () => {
    const out = join(dir, "shared");
    const results = await Promise.all(
      [0, 1, 2].map((index) => finished(startCli(run(out, "--partition", `${index}/3`)))),
    );
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const merge = await runCli(["merge", out]);
    expect(merge.code, merge.stderr).toBe(0);
    expect(merge.stderr).toContain("3 merged");

    const index = await readJson<{
      __kind__: string;
      wids_version: number;
      shardlist: { url: string; nsamples: number; filesize: number; md5sum: string }[];
    }>(join(out, "index.json"));
    expect(index.__kind__).toBe("wids-shard-index-v1");
    expect(index.wids_version).toBe(1);
    // What wids reads of it: each url a shard beside the index, of its size, MD5 and count.
    for (const shard of index.shardlist) {
      const bytes = await readFile(join(out, shard.url));
      expect(bytes.length).toBe(shard.filesize);
      expect(createHash("md5").update(bytes).digest("hex")).toBe(shard.md5sum);
      expect((await samplesIn(out, [shard.url])).size).toBe(shard.nsamples);
    }
    const shardFiles = (await readdir(out)).filter((file) => file.endsWith(".tar")).sort();
    expect(indexShards(index).sort()).toEqual(shardFiles);

    const singleIndex = await readJson<{ shardlist: { url: string }[] }>(
      join(single, "index.json"),
    );
    const expected = await samplesIn(single, indexShards(singleIndex));
    const merged = await samplesIn(out, indexShards(index));
    expect(expected.size).toBe(keys.length - 1);
    expect([...merged.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, members] of expected) {
      expect(Buffer.concat(merged.get(key)!).equals(Buffer.concat(members)), key).toBe(true);
    }
    // Each partition made its own slice: no key in two partitions' shards.
    const seen = new Set<string>();
    for (const index of [0, 1, 2]) {
      const set = partitionShardSet("casia", { index, count: 3 });
      const own = shardFiles.filter((file) => file.startsWith(`${set}-`));
      expect(own.length).toBeGreaterThan(0);
      for (const key of (await samplesIn(out, own)).keys()) {
        expect(seen.has(key)).toBe(false);
        seen.add(key);
      }
    }

    const report = await readJson<RunReport>(join(out, "report.json"));
    const singleReport = await readJson<RunReport>(join(single, "report.json"));
    const parts = await Promise.all(
      ["0of3", "1of3", "2of3"].map((label) =>
        readJson<RunReport>(join(out, "partitions", label, "report.json")),
      ),
    );
    for (const field of [
      "pairs",
      "written",
      "photosWithoutMask",
      "masksWithoutPhoto",
      "skipped",
    ] as const) {
      expect(report[field], field).toBe(parts.reduce((sum, part) => sum + part[field], 0));
      expect(report[field], field).toBe(singleReport[field]);
    }
    expect(report.problems).toEqual([]);
    expect(report.shards.map((shard) => shard.name)).toEqual(indexShards(index));
    expect(await readFile(join(out, "classes.txt"), "utf8")).toBe(
      await readFile(join(single, "classes.txt"), "utf8"),
    );
    const card = await readFile(join(out, "README.md"), "utf8");
    expect(card).toContain("path: casia-*.tar");
    // How it was made: any partition's command, then the merge's.
    expect(card).toMatch(
      / {4}maskpipe run casia --originals .* -q --partition I\/3\n {4}maskpipe merge \S+\n/,
    );
    const verify = await runCli(["verify", out]);
    expect(verify.stdout, verify.stdout).toContain("whole");
    expect(verify.code).toBe(0);
  });

  it("merges splits into one index per split folder, as one run writes them", async () => {
    const out = join(dir, "splits");
    const holdout = join(dir, "splits-single");
    const one = await runCli(run(holdout, "--holdout", "50%"));
    expect(one.code, one.stderr).toBe(0);
    const results = await Promise.all(
      [0, 1].map((index) =>
        finished(startCli(run(out, "--holdout", "50%", "--partition", `${index}/2`))),
      ),
    );
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    expect((await runCli(["merge", out])).code).toBe(0);
    const merged = await readJson<RunReport>(join(out, "report.json"));
    const single = await readJson<RunReport>(join(holdout, "report.json"));
    expect(merged.splits).toEqual({
      train: { samples: single.splits!.train!.samples, shards: expect.any(Number) },
      test: { samples: single.splits!.test!.samples, shards: expect.any(Number) },
    });
    for (const split of ["train", "test"]) {
      const index = await readJson<{ shardlist: { url: string }[] }>(
        join(out, split, "index.json"),
      );
      const singleIndex = await readJson<{ shardlist: { url: string }[] }>(
        join(holdout, split, "index.json"),
      );
      const a = await samplesIn(join(holdout, split), indexShards(singleIndex));
      const b = await samplesIn(join(out, split), indexShards(index));
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    }
    const card = await readFile(join(out, "README.md"), "utf8");
    expect(card).toContain("path: train/casia-*.tar");
    expect(card).toContain("path: test/casia-*.tar");
    const verify = await runCli(["verify", out]);
    expect(verify.code, verify.stdout).toBe(0);
  });

  it("takes the same slice from a zip and from a tar of the same photos", async () => {
    const slice = async (originals: string) => {
      const out = join(dir, `slice-${originals.endsWith(".zip") ? "zip" : "tar"}`);
      const report = await runPipeline({
        name: "casia",
        originals,
        masks,
        out,
        photoKeys: { depth: 2, suffixes: [] },
        maskKeys: { depth: 2, suffixes: ["_mask"] },
        partition: { index: 1, count: 3 },
      });
      return samplesIn(
        out,
        report.shards.map((shard) => shard.name),
      );
    };
    const fromZip = await slice(photosZip);
    const fromTar = await slice(photosTar);
    expect(fromZip.size).toBeGreaterThan(10);
    expect([...fromTar.keys()].sort()).toEqual([...fromZip.keys()].sort());
  });

  describe("merge refuses an output that is not one whole run", () => {
    let out: string;
    const part = (index: number, ...more: string[]) =>
      runCli(run(out, "--partition", `${index}/3`, ...more));

    beforeAll(async () => {
      out = join(dir, "refusals");
      for (const index of [0, 1]) expect((await part(index)).code).toBe(0);
    });

    it("one run's output, with nothing to merge", async () => {
      const merge = await runCli(["merge", single]);
      expect(merge.code).toBe(1);
      expect(merge.stderr).toContain("holds the output of one run (run.json), not partitions");
    });

    it("a partition missing", async () => {
      const merge = await runCli(["merge", out]);
      expect(merge.code).toBe(1);
      expect(merge.stderr).toContain("1 of 3 partitions have not started (2of3");
      await expect(stat(join(out, "index.json"))).rejects.toThrow(/ENOENT/);
    });

    it("a partition unfinished, then one that ran with other options", async () => {
      expect((await part(2)).code).toBe(0);
      const report = join(out, "partitions/2of3/report.json");
      const text = await readFile(report, "utf8");
      await writeFile(report, text.replace('"interrupted": false', '"interrupted": true'));
      let merge = await runCli(["merge", out]);
      expect(merge.code).toBe(1);
      expect(merge.stderr).toContain("2of3 (interrupted)");
      await rm(report);
      merge = await runCli(["merge", out]);
      expect(merge.stderr).toContain("2of3 (no report yet)");
      expect((await part(2, "--overwrite", "--quality", "90")).code).toBe(0);
      merge = await runCli(["merge", out]);
      expect(merge.code).toBe(1);
      expect(merge.stderr).toMatch(
        /partition 2of3 .* ran differently from 0of3: --quality was 95, now 90/,
      );
      expect((await part(2, "--overwrite")).code).toBe(0);
      expect((await runCli(["merge", out])).code).toBe(0);
    });

    it("each partition's output policy covers its own files only", async () => {
      const otherShard = join(out, "casia-0of3-000000.tar");
      const before = await stat(otherShard);
      const again = await part(1);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("casia-1of3-000000.tar");
      expect(again.stderr).not.toContain("casia-0of3");
      expect((await part(1, "--overwrite")).code).toBe(0);
      expect((await stat(otherShard)).mtimeMs).toBe(before.mtimeMs);
      const resumed = await part(1, "--resume");
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toContain("nothing to do");
    });

    it("a single run, or partitions of another count, in the same output", async () => {
      const one = await runCli(run(out));
      expect(one.code).toBe(1);
      expect(one.stderr).toMatch(/holds shards of casia made another way \(casia-0of3-000000.tar/);
      const four = await part(0, "--partition", "0/4");
      expect(four.code).toBe(1);
      expect(four.stderr).toContain("cannot share an output with 4 partitions");
    });
  });
});

describe("deploy/slurm/array.sh", () => {
  it("submits the array and the merge; the tasks run at once from Slurm's copy of the script", async () => {
    const dir = await tempDir();
    const keys = casiaKeys(18, 45, 3);
    const files = await corpusFiles({ keys, maskSuffix: "_mask", size: 40 });
    // A stand-in sbatch: runs a copy of the script (as Slurm does, from its spool folder), the
    // array's tasks side by side with Slurm's variables, and prints a job id.
    const bin = join(dir, "bin");
    await mkdir(bin);
    await writeFile(
      join(bin, "sbatch"),
      `#!/usr/bin/env bash
set -e
array=""; for arg in "$@"; do case "$arg" in --array=*) array="\${arg#--array=}";; esac; done
script="\${@: -2:1}"; mode="\${@: -1}"
spool=$(mktemp -d); cp "$script" "$spool/job.sh"
if [ -n "$array" ]; then
  first="\${array%-*}"; last="\${array#*-}"; pids=()
  for id in $(seq "$first" "$last"); do
    SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_TASK_MIN=$first bash "$spool/job.sh" "$mode" 2>>"${dir}/tasks.log" & pids+=($!)
  done
  for pid in "\${pids[@]}"; do wait "$pid"; done
  echo 4242
else
  bash "$spool/job.sh" "$mode"
fi
`,
    );
    await chmod(join(bin, "sbatch"), 0o755);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      ORIGINALS: await writeArchive(dir, "photos", "zip", files.photos),
      MASKS: await writeArchive(dir, "masks", "tar", files.masks),
      OUT: join(dir, "out"),
      PARTS: "3",
    };
    delete env.MASKPIPE;
    const submit = await finished(spawn("bash", [join(ROOT, "deploy/slurm/array.sh")], { env }));
    expect(
      submit.code,
      `${submit.stderr}${await readFile(join(dir, "tasks.log"), "utf8").catch(() => "")}`,
    ).toBe(0);
    const report = await readJson<RunReport>(join(dir, "out", "report.json"));
    expect(report.written).toBe(18);
    expect(report.partition).toEqual({ count: 3, merged: true });
    expect(submit.stderr).toContain("3 merged");
  });
});

describe("partitions publishing to one Hub repo at once", () => {
  it("commit side by side and merge into a repo that verifies", async () => {
    const hub = await startFakeHub();
    try {
      const dir = await tempDir();
      const keys = casiaKeys(24, 45, 4);
      const files = await corpusFiles({ keys, maskSuffix: "_mask", size: 40 });
      const photos = await writeArchive(dir, "photos", "zip", files.photos);
      const masks = await writeArchive(dir, "masks", "tar", files.masks);
      const repo = "hf://datasets/me/casia-masked";
      const partitions: Partition[] = [0, 1, 2].map((index) => ({ index, count: 3 }));
      const reports = await Promise.all(
        partitions.map((partition) =>
          runPipeline({
            name: "casia",
            originals: photos,
            masks,
            out: repo,
            photoKeys: { depth: 2, suffixes: [] },
            maskKeys: { depth: 2, suffixes: ["_mask"] },
            labels: "folder",
            shardMaxCount: 3,
            partition,
            hub: { token: hub.token, endpoint: hub.url },
          }),
        ),
      );
      expect(reports.reduce((sum, report) => sum + report.written, 0)).toBe(24);
      const merged = await mergePartitions(repo, { token: hub.token, hubUrl: hub.url });
      expect(merged.written).toBe(24);
      expect(merged.problems).toEqual([]);
      const repoFiles = hub.files("me/casia-masked");
      expect(repoFiles.has("index.json")).toBe(true);
      expect(repoFiles.has("partitions/1of3/report.json")).toBe(true);
      expect(repoFiles.has("classes.txt")).toBe(true);
      const index = JSON.parse(hub.read("me/casia-masked", "index.json").toString()) as {
        shardlist: { url: string; nsamples: number }[];
      };
      expect(index.shardlist.every((shard) => repoFiles.has(shard.url))).toBe(true);
      expect(index.shardlist.reduce((sum, shard) => sum + shard.nsamples, 0)).toBe(24);
      const verify = await runCli(["verify", repo, "--hub-url", hub.url, "--hf-token", hub.token]);
      expect(verify.stdout).toContain("whole");
      expect(verify.code).toBe(0);
    } finally {
      await hub.close();
    }
  });
});
