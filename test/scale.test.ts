import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunReport } from "../src/dataset/report.js";
import { ROOT, runCliProcess as runCli } from "./support/cli.js";
import { samplesIn } from "./support/read-shard.js";
import { interruptWhileOpening } from "./support/stalled-input.js";
import { tempDir } from "./support/temp.js";

const report = async (out: string) =>
  JSON.parse(await readFile(join(out, "report.json"), "utf8")) as RunReport;

describe("all cores", () => {
  it("the command sizes libuv's pool to the images in flight, keeping a size the user set", async () => {
    const dir = await tempDir();
    const run = (out: string, more: string[], env: Record<string, string> = {}) =>
      runCli(["run", "sample", "--out", join(dir, out), "-q", ...more], ROOT, env);
    expect((await run("twelve", ["--concurrency", "12"])).code).toBe(0);
    expect((await report(join(dir, "twelve"))).node.threadPool).toBe(12);
    expect((await run("default", [])).code).toBe(0);
    expect((await report(join(dir, "default"))).node.threadPool).toBe(
      Math.max(4, 2 * availableParallelism()),
    );
    expect((await run("set", ["--concurrency=12"], { UV_THREADPOOL_SIZE: "3" })).code).toBe(0);
    expect((await report(join(dir, "set"))).node.threadPool).toBe(3);
  });
});

describe("--workers K: one run as K processes on this machine", () => {
  it("makes the single run's samples, merged into one index and report", async () => {
    const dir = await tempDir();
    const single = join(dir, "single");
    const workers = join(dir, "workers");
    expect((await runCli(["run", "sample", "--out", single, "-q"])).code).toBe(0);
    const result = await runCli(["run", "sample", "--out", workers, "--workers", "2"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("2 merged");
    const card = await readFile(join(workers, "README.md"), "utf8");
    // A card is published: the output folder by its name only.
    expect(card).toContain(`    maskpipe run sample --out ${basename(workers)} --workers 2\n`);
    const merged = await report(workers);
    expect(merged.written).toBe((await report(single)).written);
    expect(merged.shards.every((shard) => /^sample-[01]of2-\d{6}\.tar$/.test(shard.name))).toBe(
      true,
    );
    const a = await samplesIn(
      single,
      (await report(single)).shards.map((s) => s.name),
    );
    const b = await samplesIn(
      workers,
      merged.shards.map((s) => s.name),
    );
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [key, members] of a)
      expect(Buffer.concat(b.get(key)!)).toEqual(Buffer.concat(members));
  });

  it("names the worker that failed and how to go on", async () => {
    const dir = await tempDir();
    const result = await runCli([
      "run",
      "sample",
      "--out",
      join(dir, "out"),
      "--workers",
      "2",
      "--masks",
      join(dir, "missing.zip"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/worker 0 of 2 \(--partition 0\/2\) failed \(exit 1\)/);
    expect(result.stderr).toContain("missing.zip: no such file or folder");
    expect(result.stderr).toContain("--workers 2");
    expect(result.stderr).toContain("--resume");
  });

  it("SIGINT stops every worker and says the one command that goes on", async () => {
    const out = join(await tempDir(), "out");
    // Both workers are waiting on the stalled input.
    const { code, stderr } = await interruptWhileOpening(["--out", out, "--workers", "2"], 2);
    expect(code).toBe(130);
    expect(stderr).toMatch(/worker \d of 2 \(--partition \d\/2\) was interrupted/);
    expect(stderr).toContain("--workers 2 --resume");
    expect(stderr).not.toContain("--partition 0/2 --quiet");
  });

  it("refuses --workers with --partition, and with the folder layout", async () => {
    const dir = await tempDir();
    const both = await runCli([
      "run",
      "sample",
      "--out",
      dir,
      "--workers",
      "2",
      "--partition",
      "0/2",
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--workers or --partition, not both");
    const bad = await runCli(["run", "sample", "--out", dir, "--workers", "many"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("or auto");
  });
});
