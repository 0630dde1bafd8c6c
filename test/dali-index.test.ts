import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "./support/cli.js";
import { startFakeHub } from "./support/fake-hub.js";
import { readShard } from "./support/read-shard.js";
import { tempDir, tempDirForFile } from "./support/temp.js";

const SAMPLE = join(ROOT, "pipelines/sample.json");

/** The sample pipeline (33 samples, jpg + json + cls, 16 a shard) into `out`, with `flags`. */
async function run(out: string, ...flags: string[]) {
  return runCli(["run", SAMPLE, "--out", out, "-q", ...flags]);
}

/** The tar and idx files of a folder. */
async function shardFiles(dir: string): Promise<{ tars: string[]; idxs: string[] }> {
  const files = (await readdir(dir)).sort();
  return {
    tars: files.filter((file) => file.endsWith(".tar")),
    idxs: files.filter((file) => file.endsWith(".idx")),
  };
}

/**
 * Reads an index as DALI's reader does, written out here on its own (not the code under test):
 * `v1.2 N`, then per line groups of `ext offset size name`.
 */
function readIndex(text: string) {
  const [head, ...lines] = text.trimEnd().split("\n");
  const [version, count] = head!.split(" ");
  const samples = lines.map((line) => {
    const fields = line.split(" ");
    const components = [];
    for (let i = 0; i < fields.length; i += 4) {
      const [ext, offset, size, name] = fields.slice(i, i + 4);
      components.push({ ext: ext!, offset: Number(offset), size: Number(size), name: name! });
    }
    return components;
  });
  return { version, count: Number(count), samples };
}

/** Checks every idx line against the shard's bytes and members; returns the shard's samples. */
async function expectIndexMatches(dir: string, tar: string): Promise<number> {
  const bytes = await readFile(join(dir, tar));
  const members = await readShard(join(dir, tar));
  const index = readIndex(await readFile(join(dir, tar.replace(/\.tar$/, ".idx")), "utf8"));
  const keys = [...new Set(members.map((member) => member.name.split(".")[0]))];
  expect(index.version).toBe("v1.2");
  expect(index.count).toBe(keys.length);
  expect(index.samples).toHaveLength(keys.length);
  const listed = index.samples.flat();
  expect(listed.map((c) => c.name)).toEqual(members.map((member) => member.name));
  for (const [i, component] of listed.entries()) {
    const member = members[i]!;
    expect(component.ext).toBe(member.name.slice(member.name.indexOf(".") + 1));
    expect(component.offset % 512).toBe(0);
    const data = bytes.subarray(component.offset, component.offset + component.size);
    expect(data.equals(member.data), `${tar} ${component.name}`).toBe(true);
  }
  // Each line is one sample: its members share one key, and the next line has another.
  for (const [i, sample] of index.samples.entries()) {
    expect(new Set(sample.map((c) => c.name.split(".")[0]))).toEqual(new Set([keys[i]]));
  }
  return keys.length;
}

describe("--dali-index", () => {
  let out: string;
  let plain: string;
  beforeAll(async () => {
    const dir = await tempDirForFile();
    out = join(dir, "dali");
    plain = join(dir, "plain");
    expect((await run(out, "--dali-index")).code).toBe(0);
    expect((await run(plain)).code).toBe(0);
  }, 60_000);

  it("writes beside each shard an index whose offsets and sizes read back its members", async () => {
    const { tars, idxs } = await shardFiles(out);
    expect(tars).toEqual(["sample-000000.tar", "sample-000001.tar", "sample-000002.tar"]);
    expect(idxs).toEqual(tars.map((tar) => tar.replace(/\.tar$/, ".idx")));
    let samples = 0;
    for (const tar of tars) samples += await expectIndexMatches(out, tar);
    expect(samples).toBe(33);
  });

  it("leaves the shards as they are, and writes no index without the flag", async () => {
    const { tars, idxs } = await shardFiles(plain);
    expect(idxs).toEqual([]);
    for (const tar of tars) {
      expect((await readFile(join(plain, tar))).equals(await readFile(join(out, tar)))).toBe(true);
    }
    const identity = JSON.parse(await readFile(join(plain, "run.json"), "utf8"));
    expect(identity.daliIndex).toBeUndefined();
    expect(JSON.parse(await readFile(join(out, "run.json"), "utf8")).daliIndex).toBe(true);
  });

  it("says on the card how DALI reads the shards with their indexes", async () => {
    const card = await readFile(join(out, "README.md"), "utf8");
    expect(card).toContain("Each shard `X.tar` has `X.idx` beside it");
    expect(card).toContain('index_paths=[t[:-4] + ".idx" for t in tars]');
    expect(card).toContain('ext=["jpg", "cls"]');
    expect(await readFile(join(plain, "README.md"), "utf8")).not.toContain("DALI");
  });

  it("passes verify, which exits 3 naming the shard whose index is altered or missing", async () => {
    const good = await runCli(["verify", out]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(
      "3 DALI indexes: sample counts, member offsets and sizes against the shards",
    );

    const idx = join(out, "sample-000001.idx");
    const original = await readFile(idx, "utf8");
    const lines = original.split("\n");
    // The second sample's first member one block further on: a reader would get wrong bytes.
    const fields = lines[2]!.split(" ");
    fields[1] = String(Number(fields[1]) + 512);
    lines[2] = fields.join(" ");
    await writeFile(idx, lines.join("\n"));
    try {
      const altered = await runCli(["verify", out]);
      expect(altered.code).toBe(3);
      expect(altered.stdout).toMatch(
        /problem {2}sample-000001\.tar: \S+: its DALI index sample-000001\.idx, line 3: lists \S+ \(\w+\) at \d+, \d+ bytes; the shard has \S+ at \d+/,
      );

      // A shard by itself is checked against the index beside it too.
      const alone = await runCli(["verify", join(out, "sample-000001.tar")]);
      expect(alone.code).toBe(3);
      expect(alone.stdout).toContain("its DALI index sample-000001.idx, line 3");

      await rm(idx);
      const missing = await runCli(["verify", out]);
      expect(missing.code).toBe(3);
      expect(missing.stdout).toContain(
        "sample-000001.tar: its DALI index sample-000001.idx is missing (the run was made with --dali-index)",
      );

      // An index with no shard beside it would line up with the wrong tar in DALI's lists.
      await writeFile(join(out, "sample-000009.idx"), original);
      const orphan = await runCli(["verify", out]);
      expect(orphan.code).toBe(3);
      expect(orphan.stdout).toContain(
        "sample-000009.idx: a DALI index whose shard the index does not list",
      );
    } finally {
      await writeFile(idx, original);
      await rm(join(out, "sample-000009.idx"), { force: true });
    }
  });

  it("refuses --resume with another --dali-index than the run had", async () => {
    const result = await run(plain, "--resume", "--dali-index");
    // As any other difference in what the output is made of: refused, nothing written.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--dali-index was not set, now true");
  });
});

describe("--dali-index with splits, overwrite and resume", () => {
  it("indexes each split's shards; --overwrite removes the indexes with the shards", async () => {
    const out = join(await tempDir(), "out");
    expect((await run(out, "--dali-index", "--holdout", "30%")).code).toBe(0);
    for (const split of ["train", "test"]) {
      const { tars, idxs } = await shardFiles(join(out, split));
      expect(tars.length).toBeGreaterThan(0);
      expect(idxs).toEqual(tars.map((tar) => tar.replace(/\.tar$/, ".idx")));
      for (const tar of tars) await expectIndexMatches(join(out, split), tar);
    }
    expect((await runCli(["verify", out])).code).toBe(0);

    expect((await run(out, "--holdout", "30%", "--overwrite")).code).toBe(0);
    for (const split of ["train", "test"]) {
      expect((await shardFiles(join(out, split))).idxs).toEqual([]);
    }
  });

  it("--resume makes again a shard whose index is missing, and drops an index left alone", async () => {
    const out = join(await tempDir(), "out");
    expect((await run(out, "--dali-index")).code).toBe(0);
    const before = await readFile(join(out, "sample-000001.idx"));
    // An interrupted run: no report yet, shard 1's index gone, and an index whose shard is not.
    await rm(join(out, "report.json"));
    await rm(join(out, "sample-000001.idx"));
    await writeFile(join(out, "sample-000007.idx"), "v1.2 1\n");
    const resumed = await run(out, "--dali-index", "--resume");
    expect(resumed.code).toBe(0);
    const { tars, idxs } = await shardFiles(out);
    expect(idxs).toEqual(tars.map((tar) => tar.replace(/\.tar$/, ".idx")));
    expect((await readFile(join(out, "sample-000001.idx"))).equals(before)).toBe(true);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.notes.join("\n")).toContain("its DALI index sample-000001.idx is missing");
    expect((await runCli(["verify", out])).code).toBe(0);
  });

  it("is refused with --layout folder", async () => {
    const out = join(await tempDir(), "out");
    const result = await run(out, "--dali-index", "--layout", "folder");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("layout");
  });
});

describe("--dali-index with partitions", () => {
  it("each partition indexes its shards; merge refuses one whose index is missing, verify passes the merge", async () => {
    const out = join(await tempDir(), "out");
    for (const index of [0, 1]) {
      expect((await run(out, "--dali-index", "--partition", `${index}/2`)).code).toBe(0);
    }
    const { tars, idxs } = await shardFiles(out);
    expect(tars.length).toBeGreaterThanOrEqual(2);
    expect(idxs).toEqual(tars.map((tar) => tar.replace(/\.tar$/, ".idx")));
    for (const tar of tars) await expectIndexMatches(out, tar);

    const idx = join(out, idxs[0]!);
    const kept = await readFile(idx);
    await rm(idx);
    const refused = await runCli(["merge", out]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `the DALI index of its shard ${tars[0]}, ${idxs[0]}, is missing`,
    );

    await writeFile(idx, kept);
    // The sample allows its one misplaced mask (maxFailed 1 in its pipeline file): so does the merge.
    expect((await runCli(["merge", out, "--max-failed", "1"])).code).toBe(0);
    const verified = await runCli(["verify", out]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`${tars.length} DALI indexes`);
  });
});

describe("--dali-index to a Hub repo", () => {
  it("commits each shard's index with it, and verify reads them back from the repo", async () => {
    const hub = await startFakeHub();
    const repo = "hf://datasets/me/dali";
    const hubFlags = ["--hub-url", hub.url, "--hf-token", hub.token];
    try {
      const result = await runCli([
        "run",
        SAMPLE,
        "--out",
        repo,
        "-q",
        "--dali-index",
        ...hubFlags,
      ]);
      expect(result.code).toBe(0);
      const paths = [...hub.files("me/dali").keys()].filter((path) => path.startsWith("data/"));
      const tars = paths.filter((path) => path.endsWith(".tar"));
      expect(tars.length).toBeGreaterThan(0);
      expect(paths.filter((path) => path.endsWith(".idx"))).toEqual(
        tars.map((tar) => tar.replace(/\.tar$/, ".idx")),
      );
      // Each index in the same commit as its shard: a reader never sees one without the other.
      for (const commit of hub.commits("me/dali")) {
        const files = [...commit.files.keys()];
        for (const tar of files.filter((path) => path.endsWith(".tar"))) {
          expect(files).toContain(tar.replace(/\.tar$/, ".idx"));
        }
      }
      const local = join(await tempDir(), "copy");
      await mkdir(local);
      for (const path of paths) {
        await writeFile(join(local, path.split("/").at(-1)!), hub.read("me/dali", path));
      }
      for (const tar of tars) await expectIndexMatches(local, tar.split("/").at(-1)!);
      const verified = await runCli(["verify", repo, ...hubFlags]);
      expect(verified.code).toBe(0);
      expect(verified.stdout).toContain(`${tars.length} DALI indexes`);
    } finally {
      await hub.close();
    }
  });
});
