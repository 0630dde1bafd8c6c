import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { maskPng, photoJpeg } from "../scripts/synthetic.js";
import { imageSize } from "../src/transforms/image-size.js";
import { readBeforeKeysMeet } from "../src/transforms/keys-meet.js";
import { checkPairSizes } from "../src/transforms/mask-size.js";
import { PixelBudget } from "../src/transforms/pixel-budget.js";
import { runCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { tempDir } from "./support/temp.js";

/** `maskpipe run celeba` of these inputs into `out`. */
const celebaRun = (photos: string, masks: string, out: string, ...more: string[]) =>
  runCli(["run", "celeba", "--originals", photos, "--masks", masks, "--out", out, ...more]);

const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));
const errorLines = async (path: string) =>
  (await readFile(path, "utf8"))
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));

/** A CASIA-like input (photos zip, masks zip) with three extra pairs whose names no file can have. */
async function badNames() {
  const dir = await tempDir();
  const files = await corpusFiles({ keys: casiaKeys(6, 100, 2) });
  const odd = ["a\u0000b", "..", "n".repeat(300)];
  for (const [i, name] of odd.entries()) {
    files.photos.push({
      name: `CASIA-WebFace/0000100/${name}.jpg`,
      data: await photoJpeg({ seed: 50 + i, width: 64, height: 64 }),
    });
    files.masks.push({
      name: `CASIA-WebFace_masks/0000100/${name}.png`,
      data: await maskPng({ seed: 50 + i, width: 64, height: 64 }),
    });
  }
  return {
    dir,
    photos: await writeArchive(dir, "photos", "zip", files.photos),
    masks: await writeArchive(dir, "masks", "zip", files.masks),
  };
}

describe("member names no file can have", () => {
  for (const layout of ["folder", "webdataset"]) {
    it(`--layout ${layout}: each such pair is a failure of its own; the run goes on`, async () => {
      const c = await badNames();
      const out = join(c.dir, "out");
      const errors = join(c.dir, "errors.jsonl");
      const args = ["run", "casia", "--originals", c.photos, "--masks", c.masks, "--out", out];
      const result = await runCli([...args, "-q", "--layout", layout, "--errors", errors]);
      const report = await readJson(join(out, "report.json"));
      if (layout === "webdataset") {
        // Shards hold any name (percent-encoded, long ones hashed): every pair is written.
        expect(result.code, result.stderr).toBe(0);
        expect(report).toMatchObject({ pairs: 9, written: 9, failed: 0 });
        return;
      }
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).not.toContain("unexpected error");
      expect(report).toMatchObject({
        pairs: 9,
        written: 6,
        failed: 3,
        failedByReason: { ERR_OUTPUT_NAME: 3 },
      });
      const lines = await errorLines(errors);
      expect(lines.map((line) => [line.stage, line.code])).toEqual(
        Array(3).fill(["write", "ERR_OUTPUT_NAME"]),
      );
      expect(lines.map((line) => line.member)).toEqual([
        "CASIA-WebFace/0000100/a\u0000b.jpg",
        "CASIA-WebFace/0000100/...jpg",
        `CASIA-WebFace/0000100/${"n".repeat(300)}.jpg`,
      ]);
      expect(lines[0].message).toContain("holds a NUL byte");
      expect(lines[2].message).toContain("longer than a file name may be");
      // The good pairs are all there, and nothing else.
      const written = [
        ...(await readdir(join(out, "0000100"))),
        ...(await readdir(join(out, "0000101"))),
      ];
      expect(written.sort()).toEqual([
        "000.jpg",
        "001.jpg",
        "002.jpg",
        "003.jpg",
        "004.jpg",
        "005.jpg",
      ]);
      // With the allowance the same run is complete.
      const again = await runCli([
        ...args.slice(0, -1),
        join(c.dir, "out2"),
        "-q",
        "--layout",
        layout,
        "--max-failed",
        "3",
      ]);
      expect(again.code, again.stderr).toBe(0);
      expect(existsSync(join(c.dir, "out2", "0000100", "000.jpg"))).toBe(true);
    });
  }
});

/** A 10000x10000 RGBA PNG, all transparent: 389 KB of file, 400 MB once decoded. */
const hugeMask = () =>
  sharp({
    create: {
      width: 10000,
      height: 10000,
      channels: 4,
      background: { r: 0, g: 0, b: 0, alpha: 0 },
    },
  })
    .png({ compressionLevel: 9 })
    .toBuffer();

describe("a mask far larger than its photo", () => {
  it("is that pair's failure, refused from its header before it is decoded", async () => {
    const dir = await tempDir();
    const keys = casiaKeys(4, 100);
    const files = await corpusFiles({ keys, size: 32 });
    const huge = files.masks[1]!;
    huge.data = await hugeMask();
    const photos = await writeArchive(dir, "photos", "zip", files.photos);
    const masks = await writeArchive(dir, "masks", "tar", files.masks);
    const out = join(dir, "out");
    const errors = join(dir, "errors.jsonl");
    const args = ["run", "casia", "--originals", photos, "--masks", masks, "--out", out];
    const result = await runCli([...args, "-q", "--errors", errors, "--concurrency", "4"]);
    expect(result.code, result.stderr).toBe(3);
    const report = await readJson(join(out, "report.json"));
    expect(report).toMatchObject({ pairs: 4, written: 3, failed: 1, sizeMismatches: 0 });
    expect(report.failedByReason).toEqual({ ERR_MASK_SIZE: 1 });
    const [line] = await errorLines(errors);
    expect(line).toMatchObject({ key: keys[1], member: huge.name, stage: "decode" });
    expect(line.message).toContain(
      `${huge.name}: mask 10000x10000 is far larger than its photo 32x32`,
    );
  });

  it("headers give the size without decoding; a mask up to twice its photo's sides is kept", async () => {
    const photo = await photoJpeg({ seed: 1, width: 37, height: 21 });
    const mask = await maskPng({ seed: 1, width: 74, height: 42 });
    expect(imageSize(photo)).toEqual({ width: 37, height: 21 });
    expect(imageSize(mask)).toEqual({ width: 74, height: 42 });
    expect(imageSize(Buffer.from("not an image"))).toBeUndefined();
    const member = (path: string, data: Buffer) => ({ archive: "a.zip", path, data });
    const pair = (maskData: Buffer) => ({
      key: "k",
      photo: member("p.jpg", photo),
      mask: member("m.png", maskData),
    });
    expect(checkPairSizes(pair(mask)).mask).toEqual({ width: 74, height: 42 });
    const wider = await maskPng({ seed: 1, width: 75, height: 21 });
    expect(() => checkPairSizes(pair(wider))).toThrow(
      "a.zip: m.png: mask 75x21 is far larger than its photo 37x21",
    );
  });

  it("pixels in flight are bounded across images, first come first served", async () => {
    const budget = new PixelBudget(100);
    const first = await budget.take(60);
    let secondStarted = false;
    const second = budget.take(60).then((release) => {
      secondStarted = true;
      return release;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(secondStarted).toBe(false);
    expect(budget.inUse).toBe(60);
    first();
    const releaseSecond = await second;
    expect(budget.inUse).toBe(60);
    releaseSecond();
    // A pair larger than the whole budget runs, alone.
    const alone = await budget.take(1000);
    expect(budget.inUse).toBe(100);
    alone();
    expect(budget.inUse).toBe(0);
  });
});

/** CelebA-like pairs (`img_celeba/000001.jpg`, `celeba_masks/000001_mask.png`) of given sizes. */
async function celebaPairs(
  dir: string,
  count: number,
  photoFolder: string,
  size: (i: number) => { photo: [number, number]; mask: [number, number] },
) {
  const photos = [];
  const masks = [];
  for (let i = 0; i < count; i++) {
    const name = String(i + 1).padStart(6, "0");
    const { photo, mask } = size(i);
    photos.push({
      name: `${photoFolder}/${name}.jpg`,
      data: await photoJpeg({ seed: i, width: photo[0], height: photo[1] }),
    });
    masks.push({
      name: `celeba_masks/${name}_mask.png`,
      data: await maskPng({ seed: i, width: mask[0], height: mask[1] }),
    });
  }
  return {
    photos: await writeArchive(dir, photoFolder, "zip", photos),
    masks: await writeArchive(dir, "celeba_masks", "zip", masks),
  };
}

describe("photos of another size than their masks", () => {
  it("the aligned CelebA photos with the in-the-wild masks: refused up front, saying which", async () => {
    const dir = await tempDir();
    const c = await celebaPairs(dir, 10, "img_align_celeba", () => ({
      photo: [178, 218],
      mask: [409, 687],
    }));
    const out = join(dir, "out");
    const result = await celebaRun(c.photos, c.masks, out);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `the photos (${c.photos}) are not the ones the masks (${c.masks}) were drawn on: 8 of the first 8 masks are another size than their photo (the photos are 178x218 but their masks 409x687, e.g. ${c.photos}: img_align_celeba/000001.jpg and celeba_masks/000001_mask.png)`,
    );
    expect(result.stderr).toContain(
      "CelebA's masks belong to the in-the-wild photos (img_celeba, in Img/img_celeba.7z), not the aligned ones (img_align_celeba): give --originals the in-the-wild photos [ERR_INPUTS_MISMATCH]",
    );
    expect(existsSync(out)).toBe(false);
  });

  it("a few pairs of other sizes count against --max-failed: exit 3 naming the count", async () => {
    const dir = await tempDir();
    const odd = new Set([3, 9]);
    const c = await celebaPairs(dir, 10, "img_celeba", (i) => ({
      photo: [64, 64],
      mask: odd.has(i) ? [70, 60] : [64, 64],
    }));
    const result = await celebaRun(c.photos, c.masks, join(dir, "a"), "-q");
    expect(result.code, result.stderr).toBe(3);
    const report = await readJson(join(dir, "a", "report.json"));
    expect(report).toMatchObject({ pairs: 10, written: 10, failed: 0, sizeMismatches: 2 });
    expect(report.problems).toEqual([
      {
        code: "SIZE_MISMATCHES",
        message: expect.stringMatching(
          /^2 of 10 masks are another size than their photo \(--max-failed 0\): clipped or covering part of it, they are misplaced; check that --originals/,
        ),
      },
    ]);
    const allowed = await celebaRun(c.photos, c.masks, join(dir, "b"), "-q", "--max-failed", "2");
    expect(allowed.code, allowed.stderr).toBe(0);
  });
});

describe("a dry run gives the run's verdict", () => {
  /** Photos in a zip; masks in a tar, read in order: `orphans` masks of no photo, then the pairs. */
  async function lateFirstPair(orphans: number) {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(5, 100), size: 32 });
    const strays = casiaKeys(orphans, 5000, 50).map((key) => ({
      name: `CASIA-WebFace_masks/${key}.png`,
      data: Buffer.alloc(8),
    }));
    return {
      dir,
      photos: await writeArchive(dir, "photos", "zip", files.photos),
      masks: await writeArchive(dir, "masks", "tar", [...strays, ...files.masks]),
    };
  }

  it("no pair in the first 1,000 members read: both stop with the same error", async () => {
    const c = await lateFirstPair(1000);
    const args = ["run", "casia", "--originals", c.photos, "--masks", c.masks, "-q"];
    const dry = await runCli([...args, "--out", join(c.dir, "dry"), "--dry-run"]);
    const run = await runCli([...args, "--out", join(c.dir, "run")]);
    expect([dry.code, run.code]).toEqual([1, 1]);
    for (const result of [dry, run]) {
      expect(result.stderr).toContain(
        "no photo found its mask: the key rules give the two sides different keys.",
      );
      expect(result.stderr).toContain("[ERR_INPUTS_MISMATCH]");
    }
    expect(existsSync(join(c.dir, "run"))).toBe(false);
  });

  it("a pair within the first 1,000: both go on", async () => {
    const c = await lateFirstPair(999);
    const args = ["run", "casia", "--originals", c.photos, "--masks", c.masks, "-q"];
    const dry = await runCli([...args, "--out", join(c.dir, "dry"), "--dry-run"]);
    // It pairs: exit 3 only because most masks found no photo, as the run's verdict says.
    expect(dry.code, dry.stderr).toBe(3);
    expect(dry.stderr).toContain("999 of 1,004 masks found no photo");
    const run = await runCli([...args, "--out", join(c.dir, "run")]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain("999 of 1,004 masks found no photo");
  });

  it("counts members as the join reads them: in order, or both sides by key order", () => {
    const keys = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    expect(readBeforeKeysMeet("photos", ["x", "y", "a"], ["a"], 10)).toBe(2);
    expect(readBeforeKeysMeet("masks", ["a"], keys(20, "m"), 10)).toBe(10);
    // Sorted sides meet early in a merge however long the unmatched tail.
    expect(readBeforeKeysMeet("both", ["a1", "b", ...keys(50, "c")], ["a2", "b"], 1000)).toBe(3);
    // Keys that never meet: counting stops at the patience.
    expect(readBeforeKeysMeet("both", keys(600, "p"), keys(600, "q"), 1000)).toBe(1000);
  });
});

describe("common mix-ups are named as such", () => {
  /** CelebA photos and masks (`img_celeba/000001.jpg`, `celeba_masks/000001_mask.png`). */
  const celebaFiles = () =>
    corpusFiles({
      keys: ["000001", "000002", "000003", "000004"],
      photoPrefix: "img_celeba/",
      maskPrefix: "celeba_masks/",
      maskSuffix: "_mask",
      size: 32,
    });

  it("CASIA-WebFace masks with CelebA photos: says which data set each side is", async () => {
    const dir = await tempDir();
    const celeba = await celebaFiles();
    const casia = await corpusFiles({ keys: casiaKeys(4, 45, 2), size: 32 });
    const photos = await writeArchive(dir, "img_celeba", "zip", celeba.photos);
    const masks = await writeArchive(dir, "casia_masks", "zip", casia.masks);
    const out = join(dir, "out");
    const result = await celebaRun(photos, masks, out);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `maskpipe: the inputs are of two data sets: --originals (${photos}) looks like CelebA photos (img_celeba/000001.jpg) and --masks (${masks}) like CASIA-WebFace masks (CASIA-WebFace_masks/0000045/000.png); masks fit only the photos of their own data set: give --originals and --masks of one data set, with its pipeline (celeba or casia) [ERR_INPUTS_MISMATCH]\n`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("CASIA-WebFace masks read in order: the duplicate key says what they look like", async () => {
    const dir = await tempDir();
    const celeba = await celebaFiles();
    const mask = await maskPng({ seed: 1, width: 32, height: 32 });
    const photos = await writeArchive(dir, "img_celeba", "zip", celeba.photos);
    const masks = await writeArchive(dir, "casia_masks", "tar", [
      { name: "CASIA-WebFace_masks/0000045/001.png", data: mask },
      { name: "CASIA-WebFace_masks/0000046/001.png", data: mask },
    ]);
    const out = join(dir, "out");
    const result = await celebaRun(photos, masks, out);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "CASIA-WebFace_masks/0000046/001.png looks like CASIA-WebFace masks (CASIA-WebFace_masks/0000046/001.png), whose keys need the identity folder: is this input for the casia pipeline? [ERR_DUPLICATE_KEY]",
    );
  });

  for (const kind of ["zip", "tar"] as const) {
    it(`CelebA photos and masks swapped (${kind}): says swap them`, async () => {
      const dir = await tempDir();
      const celeba = await celebaFiles();
      const photos = await writeArchive(dir, "img_celeba", kind, celeba.photos);
      const masks = await writeArchive(dir, "celeba_masks", kind, celeba.masks);
      const out = join(dir, "out");
      const result = await celebaRun(masks, photos, out);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `maskpipe: --originals and --masks look swapped: --originals (${masks}) looks like CelebA masks (celeba_masks/000001_mask.png) and --masks (${photos}) like CelebA photos (img_celeba/000001.jpg): swap --originals and --masks [ERR_INPUTS_MISMATCH]\n`,
      );
      expect(existsSync(out)).toBe(false);
    });
  }

  it("the CelebA download folder as --originals: points at Img/img_celeba.7z", async () => {
    const dir = await tempDir();
    const top = join(dir, "CelebA");
    for (const folder of ["Img/img_celeba.7z", "Anno", "Eval"]) {
      await mkdir(join(top, folder), { recursive: true });
    }
    for (let i = 1; i <= 14; i++) {
      const volume = `img_celeba.7z.${String(i).padStart(3, "0")}`;
      await writeFile(join(top, "Img/img_celeba.7z", volume), "volume");
    }
    await writeFile(join(top, "Img/img_align_celeba.zip"), "zip");
    for (const file of ["identity_CelebA.txt", "list_attr_celeba.txt", "list_bbox_celeba.txt"]) {
      await writeFile(join(top, "Anno", file), "");
    }
    await writeFile(join(top, "Eval/list_eval_partition.txt"), "");
    const celeba = await celebaFiles();
    const masks = await writeArchive(dir, "celeba_masks", "zip", celeba.masks);
    const result = await celebaRun(top, masks, join(dir, "out"));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `maskpipe: ${top}: holds no images (23 members, none a .jpg, .jpeg, .png or .webp file): this looks like the CelebA download folder, whose in-the-wild photos are the 7z split in Img/img_celeba.7z/: give --originals ${top}/Img/img_celeba.7z (the folder of its volumes) or its first volume ${top}/Img/img_celeba.7z/img_celeba.7z.001; not img_align_celeba.zip, whose aligned photos the masks do not fit [ERR_INPUTS_MISMATCH]\n`,
    );
  });
});
