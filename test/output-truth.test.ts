import { existsSync } from "node:fs";
import { cp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { extract } from "tar-stream";
import { describe, expect, it } from "vitest";
import { previewOutput } from "../src/commands/preview/preview-output.js";
import { verifyOutput } from "../src/commands/verify/verify-output.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { finished, runCli, startCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { SAMPLE_RUN } from "./support/sample-run.js";
import { tempDir } from "./support/temp.js";

/** The sample (33 pairs, labels) in shards of 8: five shards. */
const SAMPLE = { ...SAMPLE_RUN, shardMaxCount: 8 };

const tarsIn = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith(".tar")).sort();

/** Every shard and the index of `out` equal `reference`'s, byte for byte. */
async function expectSameShards(out: string, reference: string): Promise<void> {
  const names = await tarsIn(reference);
  expect(await tarsIn(out)).toEqual(names);
  for (const name of [...names, "index.json"]) {
    const same = (await readFile(join(out, name))).equals(await readFile(join(reference, name)));
    expect(same, name).toBe(true);
  }
}

/** Where each member of a tar starts (its header) and its data, in order. */
async function membersOf(path: string): Promise<{ name: string; offset: number; size: number }[]> {
  const members: { name: string; offset: number; size: number }[] = [];
  const reader = extract();
  let offset = 0;
  reader.end(await readFile(path));
  for await (const entry of reader) {
    const size = entry.header.size ?? 0;
    members.push({ name: entry.header.name, offset, size });
    offset += 512 + Math.ceil(size / 512) * 512;
    entry.resume();
  }
  return members;
}

/** A CASIA-like corpus big enough to stop in the middle of. */
async function casiaCorpus(count: number) {
  const dir = await tempDir();
  const files = await corpusFiles({ keys: casiaKeys(count, 100, 4) });
  return {
    dir,
    photos: await writeArchive(dir, "photos", "zip", files.photos),
    masks: await writeArchive(dir, "masks", "tar", files.masks),
  };
}

describe("an output folder holds one data set", () => {
  it("refuses a folder holding another run by that run's name; --overwrite removes its files too", async () => {
    const out = join(await tempDir(), "out");
    await runPipeline({ ...SAMPLE, name: "casia", out });
    await writeFile(join(out, "notes.txt"), "mine");

    const refused = runPipeline({ ...SAMPLE, name: "celeba", out });
    await expect(refused).rejects.toMatchObject({ code: "ERR_OUTPUT_EXISTS" });
    await expect(refused).rejects.toThrow(
      /holds the output of another run, casia \(its run\.json\): an output folder holds one data set; choose another output folder, or pass --overwrite to remove that run's files \(README\.md, casia-000000\.tar, casia-000001\.tar, casia-000002\.tar and 6 more\)/,
    );
    await expect(runPipeline({ ...SAMPLE, name: "celeba", out, resume: true })).rejects.toThrow(
      /another run, casia/,
    );
    expect(await tarsIn(out)).toHaveLength(5);

    await runPipeline({ ...SAMPLE, name: "celeba", out, overwrite: true });
    expect((await readdir(out)).sort()).toEqual([
      "README.md",
      "celeba-000000.tar",
      "celeba-000001.tar",
      "celeba-000002.tar",
      "celeba-000003.tar",
      "celeba-000004.tar",
      "classes.txt",
      "index.json",
      "notes.txt",
      "report.json",
      "run.json",
    ]);
    expect((await verifyOutput(out)).problems).toEqual([]);
  });

  it("verify fails on a shard the index does not list, naming it and its run", async () => {
    const out = join(await tempDir(), "out");
    await runPipeline({ ...SAMPLE, out });
    await cp(join(out, "sample-000000.tar"), join(out, "casia-000000.tar"));
    const result = await verifyOutput(out);
    expect(result.problems).toEqual([
      {
        shard: "casia-000000.tar",
        message:
          "a shard of another run, casia, that the index does not list: this output holds sample; remove it, or run sample again with --overwrite, which removes the other run's files",
      },
    ]);
    const cli = await runCli(["verify", out]);
    expect(cli.code).toBe(3);
    expect(cli.stdout).toContain("casia-000000.tar: a shard of another run, casia");
  });
});

describe("--resume keeps only complete shards", () => {
  /** A straight run of the sample, and a copy of it as a kill -9 leaves it: no report yet. */
  async function killedCopy(): Promise<{ reference: string; out: string }> {
    const dir = await tempDir();
    const reference = join(dir, "reference");
    await runPipeline({ ...SAMPLE, out: reference });
    const out = join(dir, "out");
    await cp(reference, out, { recursive: true });
    await rm(join(out, "report.json"));
    return { reference, out };
  }

  it("redoes a shard emptied or cut at a member boundary, and those after it: the bytes of a straight run", async () => {
    const { reference, out } = await killedCopy();
    const emptied = join(out, "sample-000003.tar");
    await truncate(emptied, 0);
    const first = await runPipeline({ ...SAMPLE, out, resume: true });
    expect(first.resumed).toBe(24);
    expect(first.notes).toEqual([
      `${emptied}: not complete (it is empty, 0 bytes): it and the shards after it are made again`,
    ]);
    await expectSameShards(out, reference);

    // Shard 1 loses its end-of-archive blocks: a cut exactly between members.
    await rm(join(out, "report.json"));
    const cut = join(out, "sample-000001.tar");
    await truncate(cut, (await readFile(cut)).length - 1024);
    const second = await runPipeline({ ...SAMPLE, out, resume: true });
    expect(second.resumed).toBe(8);
    expect(second.written).toBe(25);
    expect(second.notes).toEqual([
      `${cut}: not complete (it is cut short: its tar lacks the end-of-archive blocks): it and the shards after it are made again`,
    ]);
    await expectSameShards(out, reference);
    expect((await verifyOutput(out)).problems).toEqual([]);
  });

  it("redoes a whole-looking shard whose size and count are not what the index recorded", async () => {
    const { reference, out } = await killedCopy();
    // Shard 2 cut after its first sample, with end-of-archive blocks: a valid, shorter tar.
    const shard = join(out, "sample-000002.tar");
    const members = await membersOf(shard);
    const third = members[3]!; // jpg, json, cls, then the next sample
    const bytes = await readFile(shard);
    await writeFile(shard, Buffer.concat([bytes.subarray(0, third.offset), Buffer.alloc(1024)]));

    const report = await runPipeline({ ...SAMPLE, out, resume: true });
    expect(report.resumed).toBe(16);
    expect(report.notes?.[0]).toMatch(
      /sample-000002\.tar: not complete \([\d,]+ bytes, index\.json recorded [\d,]+\)/,
    );
    await expectSameShards(out, reference);
  });

  it("after kill -9 loops with truncated shards planted between kills, ends with the bytes of a straight run", async () => {
    const c = await casiaCorpus(120);
    const args = (out: string) => [
      "run",
      "casia",
      "--originals",
      c.photos,
      "--masks",
      c.masks,
      "--out",
      out,
      "--shard-max-count",
      "6",
      "--concurrency",
      "1",
      "-q",
    ];
    const straight = join(c.dir, "straight");
    expect((await runCli(args(straight))).code).toBe(0);

    const out = join(c.dir, "out");
    for (let round = 0; round < 3; round++) {
      const child = startCli([...args(out), "--resume"]);
      const killed = finished(child);
      // Let it write at least two shards past what is there, then kill it mid-shard.
      const before = existsSync(out) ? (await tarsIn(out)).length : 0;
      while (!existsSync(out) || (await tarsIn(out)).length < before + 2) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      child.kill("SIGKILL");
      expect((await killed).signal).toBe("SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 200)); // the run ends with its launcher
      const shards = await tarsIn(out);
      expect(shards.length).toBeLessThan(20);
      // Damage the newest complete shard: cut between members, or emptied.
      const last = join(out, shards.at(-1)!);
      await truncate(last, round === 1 ? 0 : (await readFile(last)).length - 1024);
    }
    const resumed = await runCli([...args(out), "--resume"]);
    expect(resumed.code).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.notes[0]).toContain("not complete");
    expect(report.resumed + report.written).toBe(120);
    await expectSameShards(out, straight);
    expect((await readdir(out)).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });
});

describe("reading back an output", () => {
  it("after an interruption, verify says so first and preview shows the complete shards", async () => {
    const c = await casiaCorpus(200);
    const out = join(c.dir, "out");
    const controller = new AbortController();
    const running = runPipeline({
      name: "casia",
      originals: c.photos,
      masks: c.masks,
      photoKeys: { depth: 2, suffixes: [] },
      maskKeys: { depth: 2, suffixes: ["_mask"] },
      out,
      shardMaxCount: 10,
      concurrency: 1,
      signal: controller.signal,
    });
    while (!existsSync(join(out, "casia-000001.tar")))
      await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const report = await running;
    expect(report.interrupted).toBe(true);

    const verified = await verifyOutput(out);
    expect(verified.problems[0]?.message).toBe(
      "the run that made this output was interrupted (report.json): resume it with the same maskpipe run command with --resume; what it left is checked below",
    );
    expect(verified.problems).toHaveLength(1); // the complete shards are whole
    expect(verified.samples).toBe(report.written);
    const sheet = await previewOutput(out, { columns: 2, rows: 2 });
    expect(sheet.tiles).toHaveLength(4);
    // An older maskpipe left no index after an interruption: the report lists the shards.
    await rm(join(out, "index.json"));
    expect((await previewOutput(out, { columns: 2, rows: 2 })).tiles).toHaveLength(4);
  });

  it("names the member a changed byte is in: a json that no longer parses, a damaged tar header", async () => {
    const out = join(await tempDir(), "out");
    await runPipeline({ ...SAMPLE, out });
    const path = join(out, "sample-000001.tar");
    const members = await membersOf(path);
    const json = members.find((member) => member.name.endsWith(".json"))!;
    const good = await readFile(path);
    const flipped = Buffer.from(good);
    flipped[json.offset + 512]! ^= 0x01; // "{" becomes "z"
    await writeFile(path, flipped);
    const problems = (await verifyOutput(out)).problems;
    expect(problems).toContainEqual({
      shard: "sample-000001.tar",
      member: json.name,
      message: `${json.name} is not valid JSON`,
    });
    expect(problems).toContainEqual({
      shard: "sample-000001.tar",
      member: json.name,
      message: expect.stringMatching(
        new RegExp(
          `^the bytes that differ are in member ${json.name.replace(".", "\\.")} \\(key ${json.name.replace(".json", "")}, at byte ${json.offset.toLocaleString("en-US")}\\): its JSON does not parse`,
        ),
      ),
    });

    const header = Buffer.from(good);
    const fourth = members[4]!;
    header[fourth.offset + 10]! ^= 0x01; // in the member's name: the header checksum fails
    await writeFile(path, header);
    const messages = (await verifyOutput(out)).problems.map((p) => p.message);
    expect(messages).toContain(
      `the bytes that differ are in the tar header of the member after ${members[3]!.name}: Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?`,
    );
  });

  it("verifies a --layout folder output as its tree of images", async () => {
    const out = join(await tempDir(), "masked");
    await runPipeline({ ...SAMPLE, out, layout: "folder" });
    const whole = await verifyOutput(out, { decode: true });
    expect(whole.problems).toEqual([]);
    expect(whole.checked[0]).toBe(
      "33 .jpg images in the folder tree (the folder layout has no shards or index): as many as the report says",
    );
    expect(whole.decoded).toBe(33);
    await rm(join(out, "0000045/001.jpg"));
    const cli = await runCli(["verify", out]);
    expect(cli.code).toBe(3);
    expect(cli.stdout).toContain(
      "32 .jpg images in the folder tree, the report says 33 (written 33 + resumed 0); run the same command with --resume to make the missing ones",
    );
  });
});
