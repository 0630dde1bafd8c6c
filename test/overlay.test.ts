import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { maskPixels, maskPng, photoJpeg } from "../scripts/synthetic.js";
import type { Pair } from "../src/core/pair.js";
import type { Sample } from "../src/core/sample.js";
import { RunStats } from "../src/core/stats.js";
import { blendMaskInto } from "../src/transforms/blend.js";
import { overlay, overlayPair } from "../src/transforms/overlay.js";

/** The reference scripts' formula, spelled out as numpy evaluates it. */
function reference(alphaByte: number, mask: number, photo: number): number {
  const alpha = alphaByte / 255;
  return Math.trunc(alpha * mask + (1 - alpha) * photo);
}

function pair(key: string, photo: Buffer, mask: Buffer): Pair {
  return {
    key,
    photo: { archive: "photos.zip", path: `p/${key}.jpg`, data: photo },
    mask: { archive: "masks.tar", path: `m/${key}.png`, data: mask },
  };
}

describe("blend", () => {
  it("equals the reference formula on every (alpha, mask, photo) combination", () => {
    const width = 256 * 256;
    let mismatches = 0;
    for (let alpha = 0; alpha < 256; alpha++) {
      const photo = Buffer.alloc(width * 3);
      const mask = Buffer.alloc(width * 4);
      for (let m = 0; m < 256; m++) {
        for (let p = 0; p < 256; p++) {
          const i = m * 256 + p;
          photo.fill(p, i * 3, i * 3 + 3);
          mask.fill(m, i * 4, i * 4 + 3);
          mask[i * 4 + 3] = alpha;
        }
      }
      blendMaskInto({ data: photo, width, height: 1 }, { data: mask, width, height: 1 });
      for (let m = 0; m < 256; m++) {
        for (let p = 0; p < 256; p++) {
          if (photo[(m * 256 + p) * 3] !== reference(alpha, m, p)) mismatches++;
        }
      }
    }
    expect(mismatches).toBe(0);
  });
});

describe("overlay pixels", () => {
  const cases = [
    { name: "same size", photo: [120, 150], mask: [120, 150] },
    { name: "mask larger (clipped)", photo: [100, 90], mask: [130, 120] },
    { name: "mask smaller (rest unchanged)", photo: [140, 160], mask: [100, 110] },
    { name: "grayscale photo", photo: [96, 96], mask: [96, 96], gray: true },
  ];
  for (const c of cases) {
    it(`puts every pixel where the formula says (${c.name})`, async () => {
      const [pw, ph] = c.photo as [number, number];
      const [mw, mh] = c.mask as [number, number];
      const photo = await photoJpeg({ seed: 3, width: pw, height: ph, gray: c.gray });
      const mask = await maskPng({ seed: 3, width: mw, height: mh });
      const sample = await overlayPair(pair("k", photo, mask), { format: "png" });
      expect([sample.width, sample.height]).toEqual([pw, ph]);

      const out = await sharp(sample.image).raw().toBuffer({ resolveWithObject: true });
      expect(out.info.channels).toBe(3);
      // The photo as OpenCV reads it: 3 channels, gray replicated.
      const decoded = await sharp(photo).raw().toBuffer({ resolveWithObject: true });
      const maskRaw = maskPixels({ seed: 3, width: mw, height: mh });
      let wrong = 0;
      let blended = 0;
      for (let y = 0; y < ph; y++) {
        for (let x = 0; x < pw; x++) {
          for (let ch = 0; ch < 3; ch++) {
            const p =
              decoded.data[
                (y * pw + x) * decoded.info.channels + (decoded.info.channels === 1 ? 0 : ch)
              ]!;
            let want = p;
            if (x < mw && y < mh) {
              const a = maskRaw[(y * mw + x) * 4 + 3]!;
              want = reference(a, maskRaw[(y * mw + x) * 4 + ch]!, p);
              if (a > 0 && a < 255) blended++;
            }
            if (out.data[(y * pw + x) * 3 + ch] !== want) wrong++;
          }
        }
      }
      expect(wrong).toBe(0);
      expect(blended).toBeGreaterThan(0); // the soft edge really was exercised
    });
  }
});

describe("overlay JPEG", () => {
  const dir = join(import.meta.dirname, "fixtures/reference");
  const names = readdirSync(dir)
    .filter((file) => file.endsWith(".photo.jpg"))
    .map((file) => file.slice(0, -".photo.jpg".length));

  it("has reference fixtures to compare with", () => {
    expect(names.length).toBeGreaterThanOrEqual(8);
  });

  for (const name of names) {
    it(`is byte-identical to the reference script's file (${name})`, async () => {
      const photo = readFileSync(join(dir, `${name}.photo.jpg`));
      const mask = readFileSync(join(dir, `${name}.mask.png`));
      const sample = await overlayPair(pair(name, photo, mask));
      expect(sample.extension).toBe("jpg");
      expect(sample.image.equals(readFileSync(join(dir, `${name}.expected.jpg`)))).toBe(true);
    });
  }

  it("is no longer reference-identical, but smaller, with optimised coding", async () => {
    const photo = readFileSync(join(dir, "casia-like.photo.jpg"));
    const mask = readFileSync(join(dir, "casia-like.mask.png"));
    const expected = readFileSync(join(dir, "casia-like.expected.jpg"));
    const sample = await overlayPair(pair("x", photo, mask), { optimizeCoding: true });
    expect(sample.image.length).toBeLessThan(expected.length);
  });
});

async function runStage(pairs: Pair[], options: Parameters<typeof overlay>[0]) {
  const stage = overlay(options);
  const out: Sample[] = [];
  const done = (async () => {
    for await (const sample of stage) out.push(sample as Sample);
  })();
  Readable.from(pairs).pipe(stage);
  await done;
  return out;
}

describe("overlay stage", () => {
  it("keeps input order with many images in flight", async () => {
    const pairs: Pair[] = [];
    for (let i = 0; i < 12; i++) {
      // Alternate large and small images so later ones finish first.
      const size = i % 2 === 0 ? 400 : 40;
      pairs.push(
        pair(
          `k${i}`,
          await photoJpeg({ seed: i, width: size, height: size }),
          await maskPng({ seed: i, width: size, height: size }),
        ),
      );
    }
    const out = await runStage(pairs, { concurrency: 6 });
    expect(out.map((sample) => sample.key)).toEqual(pairs.map((p) => p.key));
  });

  it("records a corrupt photo and a mask without alpha, and writes the rest", async () => {
    const good = pair(
      "good",
      await photoJpeg({ seed: 1, width: 50, height: 50 }),
      await maskPng({ seed: 1, width: 50, height: 50 }),
    );
    const badPhoto = pair("bad-photo", Buffer.from("not a jpeg at all"), good.mask.data);
    const noAlpha = pair(
      "no-alpha",
      good.photo.data,
      await sharp(good.photo.data).png().toBuffer(),
    );
    const stats = new RunStats();
    const failures: string[] = [];
    stats.onFailure = (failure) =>
      failures.push(`${failure.key} ${failure.archive}: ${failure.member} ${failure.code}`);
    const out = await runStage([badPhoto, good, noAlpha], { stats });
    expect(out.map((sample) => sample.key)).toEqual(["good"]);
    expect(stats.failed).toBe(2);
    expect(failures).toEqual([
      "bad-photo photos.zip: p/bad-photo.jpg ERR_IMAGE_DECODE",
      "no-alpha masks.tar: m/no-alpha.png ERR_IMAGE_DECODE",
    ]);
  });

  it("stops on the first bad image with onError: fail, naming it", async () => {
    const bad = pair("bad", Buffer.from("garbage"), Buffer.from("garbage"));
    await expect(runStage([bad], { onError: "fail" })).rejects.toThrow(
      /photos\.zip: p\/bad\.jpg: cannot decode/,
    );
  });

  it("checks its options when made", () => {
    expect(() => overlay({ quality: 101 })).toThrow(
      "Expected integer between 1 and 100 for quality but received 101 of type number",
    );
    expect(() => overlay({ format: "gif" as "png" })).toThrow(
      'Expected one of jpeg, png, webp for format but received "gif" of type string',
    );
  });
});
