import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { HEAP_FLAGS } from "../src/core/heap-flags.js";
import { casiaRun, finished, ROOT, runCli, runCliProcess, startCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { tempDir } from "./support/temp.js";

const SAMPLE = join(ROOT, "pipelines/sample.json");

describe("maskpipe run on the embedded sample", () => {
  it("writes shards, index and report, and prints the summary", async () => {
    const out = join(await tempDir(), "out");
    // The command's own processes: the launcher and the node with the heap flags it starts.
    const result = await runCliProcess(["run", SAMPLE, "--out", out]);
    expect(result.stderr).toMatch(/maskpipe sample: done/);
    expect(result.stderr).toMatch(/written\s+33\n/);
    expect(result.stderr).toMatch(/photos without mask\s+3\n/);
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report).toMatchObject({
      pairs: 33,
      written: 33,
      masksWithoutPhoto: 1,
      photosWithoutMask: 3,
      sizeMismatches: 1,
      skipped: 7,
      failed: 0,
      interrupted: false,
      join: "lookup-photos",
    });
    // The launcher ran the work in a node with the heap flags (heap-flags.ts).
    expect(report.node.flags).toEqual(expect.arrayContaining([...HEAP_FLAGS]));
    expect(report.shards.map((shard: { name: string }) => shard.name)).toEqual([
      "sample-000000.tar",
      "sample-000001.tar",
      "sample-000002.tar",
    ]);
    expect((await readdir(out)).sort()).toEqual(
      [
        ...report.shards.map((s: { name: string }) => s.name),
        "README.md",
        "classes.txt",
        "index.json",
        "report.json",
        "run.json",
      ].sort(),
    );
  });

  it("gives the same shard bytes on every run", async () => {
    const dir = await tempDir();
    await runCli(["run", SAMPLE, "--out", join(dir, "a"), "-q"]);
    await runCli(["run", SAMPLE, "--out", join(dir, "b"), "-q", "--concurrency", "1"]);
    for (const name of ["sample-000000.tar", "sample-000001.tar", "sample-000002.tar"]) {
      const a = await readFile(join(dir, "a", name));
      expect(a.equals(await readFile(join(dir, "b", name)))).toBe(true);
    }
  });

  it("writes the folder layout with --layout folder", async () => {
    const out = join(await tempDir(), "masked_CASIA-WebFace");
    const result = await runCli(["run", SAMPLE, "--out", out, "--layout", "folder"]);
    expect(result.code).toBe(0);
    expect(existsSync(join(out, "0000045/001.jpg"))).toBe(true);
    expect((await readdir(join(out, "0000107"))).length).toBe(8);
  });
});

describe("maskpipe options", () => {
  it("refuses a bad value before any work, in flag terms", async () => {
    const out = join(await tempDir(), "out");
    const result = await runCli(["run", SAMPLE, "--out", out, "--quality", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "maskpipe: Expected integer between 1 and 100 for --quality but received 0 of type number [ERR_INVALID_OPTION]\n",
    );
    expect(existsSync(out)).toBe(false);
  });

  it("refuses unknown flags and bad sizes", async () => {
    const unknown = await runCli(["run", SAMPLE, "--qualty", "9"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "maskpipe: Unknown option --qualty; did you mean --quality? (maskpipe run --help lists them) [ERR_INVALID_OPTION]\n",
    );
    const size = await runCli(["run", SAMPLE, "--out", "/tmp/x", "--shard-max-bytes", "huge"]);
    expect(size.stderr).toContain('for --shard-max-bytes but received "huge" of type string');
  });

  it("names a missing input and exits 1", async () => {
    const result = await runCli([
      "run",
      SAMPLE,
      "--originals",
      "/nope/img_celeba.zip",
      "--out",
      join(await tempDir(), "o"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "maskpipe: /nope/img_celeba.zip: no such file or folder [ERR_SOURCE_NOT_FOUND]\n",
    );
  });

  it("explains every flag with --help", async () => {
    const result = await runCli(["run", "--help"]);
    expect(result.code).toBe(0);
    for (const flag of [
      "--originals",
      "--masks",
      "--out",
      "--layout",
      "--quality",
      "--format",
      "--concurrency",
      "--shard-max-count",
      "--shard-max-bytes",
      "--report",
      "--join-memory",
      "--partition",
      "--workers",
    ]) {
      expect(result.stdout).toContain(flag);
    }
  });
});

/** 240 CASIA-like pairs one at a time, 10 per shard: returns once two shards are written. */
async function startLongRun() {
  const dir = await tempDir();
  const keys = casiaKeys(240, 100, 10);
  const { photos, masks } = await corpusFiles({ keys, size: 160 });
  const photoPath = await writeArchive(dir, "p", "zip", photos);
  const maskPath = await writeArchive(dir, "m", "tar", masks);
  const out = join(dir, "out");
  const child = startCli([...casiaRun(photoPath, maskPath, out, "10"), "--concurrency", "1"]);
  const result = finished(child);
  while (!existsSync(join(out, "casia-000001.tar"))) await sleep(20);
  return { out, child, result };
}

describe("interruption", () => {
  it("stops cleanly on SIGINT: complete shards only, report says interrupted", async () => {
    const { out, child, result } = await startLongRun();
    child.kill("SIGINT");
    const { code, stderr } = await result;
    expect(code).toBe(130);
    expect(stderr).toContain("interrupted");
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.interrupted).toBe(true);
    expect(report.written).toBeLessThan(240);
    const files = await readdir(out);
    expect(files.filter((file) => file.endsWith(".partial"))).toEqual([]);
    expect(files.filter((file) => file.endsWith(".tar")).length).toBe(report.shards.length);
  });
});

describe("job control", () => {
  const state = async (pid: number) =>
    (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]![0];

  it.runIf(process.platform === "linux")(
    "Ctrl-Z (SIGTSTP) stops the launcher and its worker; SIGCONT goes on to a full run",
    async () => {
      const { out, child, result } = await startLongRun();
      const launcher = child.pid!;
      const worker = Number(
        (await readFile(`/proc/${launcher}/task/${launcher}/children`, "utf8")).trim(),
      );
      child.kill("SIGTSTP");
      await sleep(300);
      expect([await state(launcher), await state(worker)]).toEqual(["T", "T"]);
      const shardsWhileStopped = (await readdir(out)).length;
      await sleep(300);
      expect((await readdir(out)).length).toBe(shardsWhileStopped);
      child.kill("SIGCONT");
      const { code } = await result;
      expect(code).toBe(0);
      const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
      expect(report.written).toBe(240);
      expect(report.interrupted).toBe(false);
    },
  );
});

describe("maskpipe run with remote inputs", () => {
  it("reads http URLs with --header and reports requests and bytes", async () => {
    const { startFileServer } = await import("./support/http-server.js");
    const server = await startFileServer([
      join(ROOT, "sample/sample-photos.zip"),
      join(ROOT, "sample/sample-masks.tar"),
    ]);
    try {
      const out = join(await tempDir(), "out");
      const result = await runCli([
        "run",
        SAMPLE,
        "--originals",
        server.url("sample-photos.zip"),
        "--masks",
        server.url("sample-masks.tar"),
        "--out",
        out,
        "--header",
        "X-Test: yes",
      ]);
      expect(result.code).toBe(0);
      expect(server.lastHeaders["x-test"]).toBe("yes");
      const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
      expect(report.written).toBe(33);
      expect(report.network.originals.requests).toBeGreaterThan(0);
      expect(report.network.masks).toMatchObject({ requests: 2, retries: 0 }); // probe + GET
      expect(result.stderr).not.toContain("yes");
    } finally {
      await server.close();
    }
  });
});

describe("--resume", () => {
  it("after kill -9, keeps the complete shards and ends with the bytes of a straight run", async () => {
    const dir = await tempDir();
    const keys = casiaKeys(200, 200, 8);
    const { photos, masks } = await corpusFiles({ keys, size: 160, withoutMask: [keys[17]!] });
    const photoPath = await writeArchive(dir, "p", "zip", photos);
    const maskPath = await writeArchive(dir, "m", "tar", masks);
    const args = (out: string) => [...casiaRun(photoPath, maskPath, out, "15"), "-q"];

    const straight = join(dir, "straight");
    expect((await runCli(args(straight))).code).toBe(0);

    const out = join(dir, "resumed");
    const child = startCli([...args(out), "--concurrency", "1"]);
    const killed = finished(child);
    while (!existsSync(join(out, "casia-000002.tar"))) await sleep(20);
    child.kill("SIGKILL");
    expect((await killed).signal).toBe("SIGKILL");
    const before = await readdir(out);
    expect(before.filter((f) => f.endsWith(".tar")).length).toBeLessThan(14);

    const resumed = await runCli([...args(out), "--resume"]);
    expect(resumed.code).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.resumed).toBeGreaterThanOrEqual(30);
    expect(report.resumed + report.written).toBe(199);
    const names = (await readdir(straight)).filter((f) => f.endsWith(".tar")).sort();
    expect((await readdir(out)).filter((f) => f.endsWith(".tar")).sort()).toEqual(names);
    for (const name of names) {
      expect((await readFile(join(out, name))).equals(await readFile(join(straight, name)))).toBe(
        true,
      );
    }
    expect(await readFile(join(out, "index.json"), "utf8")).toBe(
      await readFile(join(straight, "index.json"), "utf8"),
    );
    expect((await readdir(out)).filter((f) => f.endsWith(".partial"))).toEqual([]);

    const again = await runCli([...args(out), "--resume"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("nothing to do");
  });
});

describe("--resume with --layout folder", () => {
  it("writes only the files that are missing", async () => {
    const out = join(await tempDir(), "masked");
    expect((await runCli(["run", SAMPLE, "--out", out, "--layout", "folder", "-q"])).code).toBe(0);
    const { rm } = await import("node:fs/promises");
    await rm(join(out, "0000045/001.jpg"));
    await rm(join(out, "report.json"));
    const result = await runCli([
      "run",
      SAMPLE,
      "--out",
      out,
      "--layout",
      "folder",
      "--resume",
      "-q",
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect([report.written, report.resumed]).toEqual([1, 32]);
    expect(existsSync(join(out, "0000045/001.jpg"))).toBe(true);
  });
});
