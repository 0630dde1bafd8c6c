import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandPrefix } from "../src/cli/invocation.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { CLI, finished, ROOT, runCli, startCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { interruptWhileOpening } from "./support/stalled-input.js";
import { writeStoredZip64 } from "./support/stored-zip.js";
import { tempDir } from "./support/temp.js";

const SAMPLE_PHOTOS = join(ROOT, "sample/sample-photos.zip");
const SAMPLE_MASKS = join(ROOT, "sample/sample-masks.tar");
const casia = { depth: 2, suffixes: ["_mask"] };

/** A CASIA-like corpus of `count` pairs: photos in a zip, masks in a tar. */
async function corpus(
  count: number,
  first = 100,
  extra: Parameters<typeof corpusFiles>[0] = { keys: [] },
) {
  const dir = await tempDir();
  const files = await corpusFiles({ ...extra, keys: casiaKeys(count, first, 4) });
  return {
    dir,
    photos: await writeArchive(dir, "photos", "zip", files.photos),
    masks: await writeArchive(dir, "masks", "tar", files.masks),
  };
}

function casiaArgs(c: { photos: string; masks: string }, out: string, ...more: string[]) {
  return ["run", "casia", "--originals", c.photos, "--masks", c.masks, "--out", out, "-q", ...more];
}

const shardsIn = async (dir: string) =>
  (await readdir(dir)).filter((file) => file.endsWith(".tar")).sort();

describe("inputs that are not what they seem are refused before the long run", () => {
  it("photos and masks swapped: exit 1, says so, leaves no output behind", async () => {
    const out = join(await tempDir(), "out");
    const result = await runCli([
      "run",
      "sample",
      "--originals",
      SAMPLE_MASKS,
      "--masks",
      SAMPLE_PHOTOS,
      "--out",
      out,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^maskpipe: --originals and --masks look swapped: 8 of the first 8 masks are JPEGs without an alpha channel .*swap --originals and --masks \[ERR_INPUTS_MISMATCH\]\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("photos passed as masks: exit 1, the masks have no alpha channel", async () => {
    const out = join(await tempDir(), "out");
    const result = await runCli(["run", "sample", "--masks", SAMPLE_PHOTOS, "--out", out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "8 of the first 8 masks are JPEGs without an alpha channel (e.g. ",
    );
    expect(result.stderr).toContain(
      "check that --masks is the masks archive [ERR_INPUTS_MISMATCH]",
    );
    expect(existsSync(out)).toBe(false);
  });

  it("an empty zip: exit 1 before any work", async () => {
    const dir = await tempDir();
    const empty = join(dir, "empty.zip");
    const endRecord = Buffer.alloc(22); // an empty zip: the end record alone
    endRecord.writeUInt32LE(0x06054b50, 0);
    await writeFile(empty, endRecord);
    const result = await runCli(["run", "sample", "--masks", empty, "--out", join(dir, "out")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `maskpipe: ${empty}: holds no images (0 members, none a .jpg, .jpeg, .png or .webp file) [ERR_INPUTS_MISMATCH]\n`,
    );
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  it("no pair at all: shows what the key rules made of each side", async () => {
    const c = await corpus(6);
    const other = await corpusFiles({ keys: casiaKeys(6, 900, 2), maskPrefix: "celeba_masks/" });
    const masks = await writeArchive(c.dir, "other-masks", "tar", other.masks);
    const result = await runCli(casiaArgs({ ...c, masks }, join(c.dir, "out")));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "no photo found its mask: the key rules give the two sides different keys.",
    );
    expect(result.stderr).toMatch(
      /photos \(.*photos\.zip\): CASIA-WebFace\/0000100\/000\.jpg -> 0000100\/000, /,
    );
    expect(result.stderr).toMatch(
      /masks \(.*other-masks\.tar\): celeba_masks\/0000900\/000\.png -> 0000900\/000, /,
    );
  });
});

describe("inputs that never pair", () => {
  it("stop after 1,000 unmatched members, not at the end of the archive", async () => {
    const dir = await tempDir();
    const photos = casiaKeys(5, 100).map((key) => ({
      name: `CASIA-WebFace/${key}.jpg`,
      data: Buffer.alloc(8),
    }));
    const masks = casiaKeys(1500, 500, 10).map((key) => ({
      name: `other_masks/${key}.png`,
      data: Buffer.alloc(8),
    }));
    const photoPath = await writeArchive(dir, "p", "zip", photos);
    const maskPath = await writeArchive(dir, "m", "tar", masks);
    // Cut the tar after ~1,100 members: reading to the end would fail as truncated instead.
    const tar = await readFile(maskPath);
    await writeFile(maskPath, tar.subarray(0, 1100 * 1024 + 100));
    const result = await runCli(
      casiaArgs({ photos: photoPath, masks: maskPath }, join(dir, "out")),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no photo found its mask");
    expect(result.stderr).toContain("other_masks/0000500/000.png -> 0000500/000");
    expect(result.stderr).not.toContain("ERR_TAR_TRUNCATED");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});

describe("exit codes say whether the output can be trusted", () => {
  it("exit 3 when pairs failed, naming the most common failure; --max-failed allows them", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(10, 100, 2) });
    files.photos[3]!.data = Buffer.from("not a jpeg at all");
    const c = {
      photos: await writeArchive(dir, "p", "zip", files.photos),
      masks: await writeArchive(dir, "m", "tar", files.masks),
    };
    const failed = await runCli(casiaArgs(c, join(dir, "a")));
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain("maskpipe casia: incomplete\n");
    expect(failed.stderr).toMatch(
      /most common failure\s+ERR_IMAGE_DECODE \(1\), e\.g\. .*0000101\/003\.jpg/,
    );
    expect(failed.stderr).toMatch(/problem\s+1 of 10 pairs failed \(--max-failed 0\)/);
    const report = JSON.parse(await readFile(join(dir, "a/report.json"), "utf8"));
    expect(report.problems).toEqual([expect.objectContaining({ code: "TOO_MANY_FAILED" })]);
    expect(report.failedByReason).toEqual({ ERR_IMAGE_DECODE: 1 });

    const allowed = await runCli(casiaArgs(c, join(dir, "b"), "--max-failed", "10%"));
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain("maskpipe casia: done\n");
  });

  it("exit 3 when nothing was written", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(3, 100) });
    for (const photo of files.photos) photo.data = Buffer.from("broken");
    const c = {
      photos: await writeArchive(dir, "p", "zip", files.photos),
      masks: await writeArchive(dir, "m", "tar", files.masks),
    };
    const result = await runCli(casiaArgs(c, join(dir, "out"), "--max-failed", "100%"));
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/problem\s+nothing was written: all 3 pairs failed/);
  });

  it("exit 3 when most masks found no photo", async () => {
    const c = await corpus(3, 100, { keys: [], orphanMasks: casiaKeys(5, 700) });
    const result = await runCli(casiaArgs(c, join(c.dir, "out")));
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /problem\s+5 of 8 masks found no photo \(e\.g\. .*0000700\/000\.png\)/,
    );
  });
});

describe("the output folder never mixes two runs", () => {
  it("refuses a folder holding an earlier run; --overwrite removes exactly its files", async () => {
    const big = await corpus(30);
    const small = await corpus(6, 500);
    const out = join(big.dir, "out");
    expect((await runCli(casiaArgs(big, out, "--shard-max-count", "5"))).code).toBe(0);
    expect(await shardsIn(out)).toHaveLength(6);
    await writeFile(join(out, "notes.txt"), "mine");
    await writeFile(join(out, "casia-000009.tar.partial"), "left by kill -9");

    const refused = await runCli(casiaArgs(small, out, "--shard-max-count", "5"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /already holds files of an earlier run of casia \(README\.md, casia-000000\.tar, casia-000001\.tar, casia-000002\.tar and \d+ more\); pass --resume to go on from them, or --overwrite/,
    );
    expect(await shardsIn(out)).toHaveLength(6);

    const overwritten = await runCli(
      casiaArgs(small, out, "--shard-max-count", "5", "--overwrite"),
    );
    expect(overwritten.code).toBe(0);
    expect(await shardsIn(out)).toEqual(["casia-000000.tar", "casia-000001.tar"]);
    expect((await readdir(out)).sort()).toEqual([
      "README.md",
      "casia-000000.tar",
      "casia-000001.tar",
      "classes.txt",
      "index.json",
      "notes.txt",
      "report.json",
      "run.json",
    ]);
    const index = JSON.parse(await readFile(join(out, "index.json"), "utf8"));
    expect(index.shardlist.map((shard: { nsamples: number }) => shard.nsamples)).toEqual([5, 1]);
  });

  it("refuses the folder layout over images of an earlier run", async () => {
    const out = join(await tempDir(), "masked");
    expect((await runCli(["run", "sample", "--out", out, "--layout", "folder", "-q"])).code).toBe(
      0,
    );
    const again = await runCli(["run", "sample", "--out", out, "--layout", "folder", "-q"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("[ERR_OUTPUT_EXISTS]");
    const over = await runCli([
      "run",
      "sample",
      "--out",
      out,
      "--layout",
      "folder",
      "-q",
      "--overwrite",
    ]);
    expect(over.code).toBe(0);
  });

  it("keeps a README.md that maskpipe did not write", async () => {
    const out = join(await tempDir(), "out");
    await mkdir(out);
    await writeFile(join(out, "README.md"), "# my notes\n");
    const result = await runCli(["run", "sample", "--out", out, "--overwrite", "-q"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("holds a README.md that maskpipe did not write");
    expect(await readFile(join(out, "README.md"), "utf8")).toBe("# my notes\n");
  });

  it("writes a dataset card so the folder loads as WebDataset shards", async () => {
    const out = join(await tempDir(), "out");
    expect((await runCli(["run", "sample", "--out", out, "-q"])).code).toBe(0);
    const card = await readFile(join(out, "README.md"), "utf8");
    expect(card).toContain(
      "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: sample-*.tar\n",
    );
    expect(card).toContain("| samples | 33 |");
  });
});

describe("--resume checks what it resumes", () => {
  it("refuses other options or other inputs, naming each difference", async () => {
    const c = await corpus(12);
    const other = await corpus(12, 300);
    const out = join(c.dir, "out");
    expect((await runCli(casiaArgs(c, out, "--shard-max-count", "5"))).code).toBe(0);

    const count = await runCli(casiaArgs(c, out, "--shard-max-count", "4", "--resume"));
    expect(count.code).toBe(1);
    expect(count.stderr).toContain("--shard-max-count was 5, now 4");
    expect(count.stderr).not.toContain("nothing to do");

    const inputs = await runCli(
      casiaArgs({ ...c, masks: other.masks }, out, "--shard-max-count", "5", "--resume"),
    );
    expect(inputs.code).toBe(1);
    expect(inputs.stderr).toMatch(
      /--masks was .*masks\.tar \([\d,]+ bytes, modified .*\), now .*masks\.tar/,
    );
    expect(inputs.stderr).toContain("[ERR_RUN_MISMATCH]");

    const same = await runCli(casiaArgs(c, out, "--shard-max-count", "5", "--resume"));
    expect(same.code).toBe(0);
    expect(same.stderr).toContain("nothing to do: the same run");
    expect(await shardsIn(out)).toHaveLength(3);
  });

  it("refuses to resume shards no run.json vouches for", async () => {
    const c = await corpus(6);
    const out = join(c.dir, "out");
    await mkdir(out);
    await writeFile(join(out, "casia-000000.tar"), Buffer.alloc(1024));
    const result = await runCli(casiaArgs(c, out, "--resume"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no run.json saying which run made them");
  });
});

describe("paths and flags are checked before any work", () => {
  it("a report under a file: exit 1 and nothing left behind", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "file"), "x");
    const out = join(dir, "out");
    const result = await runCli([
      "run",
      "sample",
      "--out",
      out,
      "--report",
      join(dir, "file/r.json"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `maskpipe: ${dir}/file/r.json: cannot write the report there: ${dir}/file is a file, not a folder; nothing was written [ERR_OUTPUT]\n`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it.runIf(process.platform === "linux")("an output under /proc fails at once", async () => {
    const result = await runCli(["run", "sample", "--out", "/proc/maskpipe-out"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("/proc/maskpipe-out: cannot write the output folder there");
  });

  it("--resume and --overwrite together are refused, saying what each does", async () => {
    const result = await runCli([
      "run",
      "sample",
      "--out",
      join(await tempDir(), "o"),
      "--resume",
      "--overwrite",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "maskpipe: Expected --resume or --overwrite, not both: --resume goes on from the earlier run, --overwrite removes it and starts again [ERR_INVALID_OPTION]\n",
    );
  });

  it("a mistyped flag gets one line with the nearest flag", async () => {
    const result = await runCli(["run", "sample", "--mask", "m.zip", "--out", "x"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "maskpipe: Unknown option --mask; did you mean --masks? (maskpipe run --help lists them) [ERR_INVALID_OPTION]\n",
    );
  });

  it("runs a shipped pipeline by name from any folder", async () => {
    const dir = await tempDir();
    const result = await runCli(["run", "sample", "--out", "out", "-q"], dir);
    expect(result.code).toBe(0);
    expect(existsSync(join(dir, "out/sample-000000.tar"))).toBe(true);
    const help = await runCli(["--help"]);
    expect(help.stdout).toContain("celeba, casia, sample");
  });
});

describe("trial runs", () => {
  it("--dry-run pairs 200,000-member zips from their listings and writes nothing", async () => {
    const dir = await tempDir();
    const member = (prefix: string, i: number, ext: string) => ({
      name: `${prefix}/${String(1000 + (i % 500)).padStart(7, "0")}/${String(i).padStart(6, "0")}.${ext}`,
      data: Buffer.alloc(0),
    });
    const count = 200_000;
    const photos = Array.from({ length: count }, (_, i) => member("CASIA-WebFace", i, "jpg"));
    const masks = Array.from({ length: count - 7 }, (_, i) =>
      member("CASIA-WebFace_masks", i + 7, "png"),
    );
    await writeStoredZip64(join(dir, "p.zip"), photos);
    await writeStoredZip64(join(dir, "m.zip"), masks);
    const out = join(dir, "out");
    const result = await runCli(
      casiaArgs({ photos: join(dir, "p.zip"), masks: join(dir, "m.zip") }, out, "--dry-run"),
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("maskpipe casia: dry run\n");
    expect(result.stderr).toMatch(/pairs\s+199,993\n/);
    expect(result.stderr).toMatch(/photos without mask\s+7\n/);
    expect(result.stderr).toMatch(
      /e\.g\. photo without mask\s+CASIA-WebFace\/0001000\/000000\.jpg/,
    );
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it("--limit stops after N pairs and says it was a trial", async () => {
    const out = join(await tempDir(), "out");
    const result = await runCli(["run", "sample", "--out", out, "--limit", "5"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("done (trial run of 5 pairs, --limit)");
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report).toMatchObject({ limit: 5, pairs: 5, written: 5 });
  });
});

describe("interruption", () => {
  it("counts only samples in kept shards and prints the command that resumes", async () => {
    const c = await corpus(200);
    const out = join(c.dir, "out");
    const child = startCli(
      [...casiaArgs(c, out, "--shard-max-count", "10", "--concurrency", "1")].filter(
        (a) => a !== "-q",
      ),
    );
    const result = finished(child);
    while (!existsSync(join(out, "casia-000001.tar"))) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGTERM");
    const { code, stderr } = await result;
    expect(code).toBe(130);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    const inShards = report.shards.reduce(
      (sum: number, s: { samples: number }) => sum + s.samples,
      0,
    );
    expect(report.written).toBe(inShards);
    expect(stderr).toMatch(new RegExp(`written\\s+${inShards}[ \\n]`));
    expect(stderr).toContain(
      // Started as `node test-dist/cli/bin.js`: the command it prints starts maskpipe that way.
      `continue with         ${commandPrefix({ script: CLI, execPath: process.execPath, path: process.env.PATH })} run casia --originals ${c.photos} --masks ${c.masks} --out ${out} --shard-max-count 10 --concurrency 1 --resume`,
    );
  });

  it("SIGINT while a remote input is still opening ends the run at once", async () => {
    const out = join(await tempDir(), "out");
    const { code, stderr, secondsAfterSignal } = await interruptWhileOpening(["--out", out]);
    expect(code).toBe(130);
    expect(secondsAfterSignal).toBeLessThan(3); // the reply would take 60 s
    expect(stderr).toContain("interrupted while opening the inputs; nothing was written");
    expect(existsSync(out)).toBe(false);
  });

  it("a library run aborted while opening its inputs ends at once with ERR_INTERRUPTED", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await runPipeline({
      name: "casia",
      originals: SAMPLE_PHOTOS,
      masks: SAMPLE_MASKS,
      out: join(await tempDir(), "out"),
      photoKeys: casia,
      maskKeys: casia,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_INTERRUPTED" });
  });
});
