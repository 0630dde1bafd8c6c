import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { summaryText } from "../src/cli/summary.js";
import { holdoutPercent } from "../src/labels/holdout.js";
import { heldOut } from "../src/labels/labeler.js";
import type { RunOptions } from "../src/run/run-options.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { celeba, writeCelebaAnnotations } from "./support/celeba.js";
import { ROOT, runCli } from "./support/cli.js";
import { type CorpusFiles, casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { readShard } from "./support/read-shard.js";
import { tempDir } from "./support/temp.js";

const CELEBA_KEYS = {
  photoKeys: { depth: 1, suffixes: [] },
  maskKeys: { depth: 1, suffixes: ["_mask"] },
} as const;
const CASIA_KEYS = {
  photoKeys: { depth: 2, suffixes: [] },
  maskKeys: { depth: 2, suffixes: ["_mask"] },
} as const;

const ALL_NOT_FOUND = [
  "identities (identity_CelebA.txt)",
  "splits (list_eval_partition.txt)",
  "attributes (list_attr_celeba.txt)",
  "bboxes (list_bbox_celeba.txt)",
  "landmarks (list_landmarks_celeba.txt)",
];

/** CASIA-like photos as a folder tree (`fphotos/CASIA-WebFace/0000100/000.jpg`). */
async function photoFolder(dir: string, files: CorpusFiles): Promise<string> {
  const photos = join(dir, "fphotos");
  for (const photo of files.photos) {
    await mkdir(join(photos, photo.name, ".."), { recursive: true });
    await writeFile(join(photos, photo.name), photo.data!);
  }
  return photos;
}

/** CASIA-like photos as a folder tree, masks in a zip. */
async function casiaFolder(dir: string, files: CorpusFiles) {
  return {
    photos: await photoFolder(dir, files),
    masks: await writeArchive(dir, "m", "zip", files.masks),
  };
}

describe("a CelebA run says which labels its output has", () => {
  it("without --annotations: exit 0, but the report and the summary say there are none and why", async () => {
    const c = await celeba(4);
    const out = join(c.dir, "out");
    const result = await runCli([
      ...["run", "celeba", "--originals", c.photos, "--masks", c.masks, "--out", out, "-q"],
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /\n {2}labels +none: CelebA's identities and splits come from --annotations DIR \(the CelebA folder\)\n/,
    );
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.labels).toMatchObject({ mode: "none", classes: 0, notFound: ALL_NOT_FOUND });
    expect(existsSync(join(out, "classes.txt"))).toBe(false);
    // The card does not promise a `cls` column the samples lack.
    expect(await readFile(join(out, "README.md"), "utf8")).not.toContain("`cls`");
  });

  it("--annotations CelebA/Anno finds Eval/ beside it; a file not found is named, with what to do", async () => {
    const c = await celeba(10);
    const annotations = join(c.dir, "CelebA");
    await writeCelebaAnnotations(annotations, c.images);
    await rm(join(annotations, "Anno/list_landmarks_celeba.txt"));
    const out = join(c.dir, "out");
    const report = await runPipeline({
      name: "celeba",
      originals: c.photos,
      masks: c.masks,
      out,
      ...CELEBA_KEYS,
      labels: "annotations",
      annotations: join(annotations, "Anno"),
    });
    expect(report.problems).toEqual([]);
    expect(report.labels).toMatchObject({
      annotations: ["identities", "splits", "attributes", "bboxes"],
      notFound: ["landmarks (list_landmarks_celeba.txt)"],
    });
    expect(Object.keys(report.splits ?? {})).toEqual(["train", "validation", "test"]);
    const summary = summaryText(report, join(out, "report.json"));
    expect(summary).toMatch(/\n {2}annotations +identities, splits, attributes, bboxes\n/);
    expect(summary).toMatch(
      /\n {2}not found +landmarks \(list_landmarks_celeba\.txt\): give --annotations DIR \(the CelebA folder, holding Anno\/ and Eval\/\), or a file each: .*--landmarks\n/,
    );
  });

  it("the README's CelebA command gives --annotations", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const commands = readme
      .replace(/\\\n/g, " ")
      .split("\n")
      .filter((line) => line.includes("maskpipe run celeba"));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) expect(command).toMatch(/ --annotations \S+/);
  });
});

describe("--holdout: a percent or a fraction, never a percent of a percent", () => {
  it("reads 5% and 0.05 as the same 5%, and refuses a bare 5", () => {
    expect(holdoutPercent("holdout", "5%")).toBe(5);
    expect(holdoutPercent("holdout", "0.05")).toBe(5);
    expect(holdoutPercent("holdout", 0.05)).toBe(5);
    expect(holdoutPercent("holdout", "0.07")).toBe(7);
    expect(holdoutPercent("holdout", ".5")).toBe(50);
    for (const refused of ["5", "1", 5, "0", "0%", "100%", "150%", "-0.1", "5 %", "abc"]) {
      expect(() => holdoutPercent("holdout", refused)).toThrow(/^Expected a share of identities/);
    }
  });

  it("on the command line: a bare number of 1 or more stops the run with exit 2 and what to write", async () => {
    const result = await runCli([
      ...["run", "sample", "--out", join(await tempDir(), "o"), "--holdout", "5"],
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'maskpipe: Expected a share of identities: a percent between 0% and 100% (5%) or a fraction between 0 and 1 (0.05) for --holdout but received "5": write 5% for 5 percent (a fraction is below 1) [ERR_INVALID_OPTION]\n',
    );
  });

  it("--holdout 0.3 holds out 30% of the identities as test, as 30% does", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(40, 300, 20), size: 32 });
    const base = {
      name: "casia",
      originals: await writeArchive(dir, "p", "zip", files.photos),
      masks: await writeArchive(dir, "m", "zip", files.masks),
      ...CASIA_KEYS,
      labels: "folder" as const,
    };
    const fraction = await runPipeline({ ...base, out: join(dir, "a"), holdout: "0.3" });
    const percent = await runPipeline({ ...base, out: join(dir, "b"), holdout: "30%" });
    expect(fraction.identity.labels?.holdout).toBe(30);
    expect(fraction.splits).toEqual(percent.splits);
    expect(fraction.splits?.test?.samples).toBeGreaterThan(0);
    const testDir = join(dir, "a", "test");
    for (const shard of (await readdir(testDir)).filter((name) => name.endsWith(".tar"))) {
      for (const member of await readShard(join(testDir, shard))) {
        if (!member.name.endsWith(".json")) continue;
        expect(heldOut(JSON.parse(member.data.toString()).identity, 30)).toBe(true);
      }
    }
  });
});

describe("a folder input is part of the run identity", () => {
  it("--resume refuses when an identity folder went away, naming --originals and the labels; the same folder resumes", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(40, 100, 8), size: 32 });
    const { photos, masks } = await casiaFolder(dir, files);
    const out = join(dir, "out");
    const base: RunOptions = {
      name: "casia",
      originals: photos,
      masks,
      out,
      ...CASIA_KEYS,
      labels: "folder",
      shardMaxCount: 4,
    };
    const controller = new AbortController();
    let seen = 0;
    const first = await runPipeline({
      ...base,
      concurrency: 1,
      signal: controller.signal,
      onProgress: () => {
        if (++seen === 10) controller.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    expect(first.identity.originals).toMatchObject({ images: 40 });
    const kept = (await readdir(out)).sort();

    const gone = join(photos, "CASIA-WebFace", "0000103");
    await rm(gone, { recursive: true });
    const refused = runPipeline({ ...base, resume: true });
    await expect(refused).rejects.toMatchObject({ code: "ERR_RUN_MISMATCH" });
    const message = ((await refused.catch((error: Error) => error)) as Error).message;
    expect(message).toContain(`--originals was ${photos} (40 images, listing `);
    expect(message).toContain(`now ${photos} (35 images, listing `);
    expect(message).toMatch(/labels \(--annotations, --classes, --holdout[^)]*\) was /);
    expect(message).toContain("pass --overwrite to start again");
    expect((await readdir(out)).sort()).toEqual(kept); // nothing written, nothing taken away

    // The same members again (new files, same names and sizes): the run goes on.
    await photoFolder(dir, files);
    const resumed = await runPipeline({ ...base, resume: true });
    expect(resumed.resumed).toBeGreaterThan(0);
    expect(resumed.problems).toEqual([]);
    expect(await readFile(join(out, "classes.txt"), "utf8")).toBe(
      `${Array.from({ length: 8 }, (_, i) => `00001${String(i).padStart(2, "0")}`).join("\n")}\n`,
    );
  });

  it("pins the class list itself, whatever the label mode", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(6, 100, 3), size: 32 });
    const { photos, masks } = await casiaFolder(dir, files);
    const base = { name: "casia", originals: photos, masks, ...CASIA_KEYS, dryRun: true };
    const folder = await runPipeline({ ...base, out: join(dir, "a"), labels: "folder" });
    const classes = join(dir, "classes.txt");
    await writeFile(classes, "0000102\n0000101\n0000100\n");
    const listed = await runPipeline({ ...base, out: join(dir, "b"), labels: "folder", classes });
    expect(folder.identity.labels?.classes).toMatch(/^[0-9a-f]{64}$/);
    expect(listed.identity.labels?.classes).toMatch(/^[0-9a-f]{64}$/);
    expect(listed.identity.labels?.classes).not.toBe(folder.identity.labels?.classes);
  });
});

describe("a dry run's label counts", () => {
  it("are the real run's: annotations without photo and photos missing from the files", async () => {
    const c = await celeba(10);
    const annotations = join(c.dir, "CelebA");
    // Images 9 and 10 are in no file; the annotated 999998 and 999999 have no photo.
    await writeCelebaAnnotations(annotations, [...c.images.slice(0, 8), "999998", "999999"]);
    const base = {
      name: "celeba",
      originals: c.photos,
      masks: c.masks,
      ...CELEBA_KEYS,
      labels: "annotations" as const,
      annotations,
    };
    const dry = await runPipeline({ ...base, out: join(c.dir, "dry"), dryRun: true });
    const real = await runPipeline({ ...base, out: join(c.dir, "real") });
    expect(real.labels).toMatchObject({
      annotationsWithoutPhoto: 2,
      missing: { identity: 2, split: 2, attributes: 2, bbox: 2, landmarks: 2 },
    });
    expect(dry.labels).toEqual(real.labels);
  });
});
