import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { isMaskedKey } from "../src/core/mix.js";
import type { Sample } from "../src/core/sample.js";
import type { RunOptions } from "../src/run/run-options.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { sampleMembers, webDatasetKey } from "../src/sinks/webdataset-names.js";
import { casiaRun, runCli } from "./support/cli.js";
import { type ArchiveKind, casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { startFakeHub } from "./support/fake-hub.js";
import { readShard } from "./support/read-shard.js";
import { tempDir, tempDirForFile } from "./support/temp.js";

const casia = { depth: 2, suffixes: [] };
const KEYS = casiaKeys(12, 500, 3);
const WITHOUT_MASK = [KEYS[2]!, KEYS[7]!];

let dir: string;
let files: Awaited<ReturnType<typeof corpusFiles>>;
const inputs: Partial<Record<ArchiveKind, { photos: string; masks: string }>> = {};

beforeAll(async () => {
  dir = await tempDirForFile();
  files = await corpusFiles({ keys: KEYS, size: 40, withoutMask: WITHOUT_MASK });
  for (const kind of ["zip", "tar"] as const) {
    inputs[kind] = {
      photos: await writeArchive(dir, `p-${kind}`, kind, files.photos),
      masks: await writeArchive(dir, `m-${kind}`, kind, files.masks),
    };
  }
});

const runOptions = (out: string, more: Partial<RunOptions> = {}): RunOptions => ({
  name: "casia",
  originals: inputs.zip!.photos,
  masks: inputs.tar!.masks,
  out,
  photoKeys: casia,
  maskKeys: casia,
  labels: "folder",
  overlayWorkers: 1,
  ...more,
});

/** `maskpipe run pipelines/casia.json` on the zip of photos and tar of masks, and `flags`. */
const cli = (out: string, ...flags: string[]) =>
  runCli([...casiaRun(inputs.zip!.photos, inputs.tar!.masks, out, "100"), ...flags]);

/** Every member of every shard in `out` (sorted by shard name), by member name. */
async function members(out: string): Promise<Map<string, Buffer>> {
  const shards = (await readdir(out)).filter((name) => name.endsWith(".tar")).sort();
  const all = new Map<string, Buffer>();
  for (const shard of shards)
    for (const member of await readShard(join(out, shard))) all.set(member.name, member.data);
  return all;
}

/** The sample jsons of an output, in shard order. */
async function jsons(out: string): Promise<{ key: string; masked?: boolean; mask: unknown }[]> {
  return [...(await members(out))]
    .filter(([name]) => name.endsWith(".json"))
    .map(([, data]) => JSON.parse(data.toString()));
}

describe("--with original,mask", () => {
  it("carries the archive's photo bytes and the mask's alpha as a one-channel PNG", async () => {
    const out = join(await tempDir(), "out");
    const result = await cli(out, "--with", "original,mask");
    expect(result.code, result.stderr).toBe(0);
    const written = await members(out);
    const photo = files.photos[0]!;
    const mask = files.masks[0]!;
    const key = KEYS[0]!;
    expect(written.get(`${key}.orig.jpg`)).toEqual(photo.data);
    const png = written.get(`${key}.mask.png`)!;
    expect((await sharp(png).metadata()).channels).toBe(1);
    const decoded = await sharp(png)
      .toColourspace("b-w")
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(decoded.info.channels).toBe(1);
    const rgba = await sharp(mask.data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([decoded.info.width, decoded.info.height]).toEqual([rgba.info.width, rgba.info.height]);
    const alpha = Buffer.alloc(rgba.info.width * rgba.info.height);
    for (let i = 0; i < alpha.length; i++) alpha[i] = rgba.data[i * 4 + 3]!;
    expect(decoded.data.equals(alpha)).toBe(true);
    expect(alpha.some((value) => value > 0)).toBe(true);
    // The masked image is the one a run without --with writes, byte for byte.
    const plain = join(await tempDir(), "plain");
    expect((await runCli(casiaRun(inputs.zip!.photos, inputs.tar!.masks, plain, "100"))).code).toBe(
      0,
    );
    expect(written.get(`${key}.jpg`)).toEqual((await members(plain)).get(`${key}.jpg`));
    const verify = await runCli(["verify", out]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it("puts the parts beside each image in the folder layout, and the card documents them", async () => {
    const root = await tempDir();
    const folder = join(root, "folder");
    const report = await runPipeline(
      runOptions(folder, { layout: "folder", with: ["original", "mask"] }),
    );
    expect(report.written).toBe(KEYS.length - WITHOUT_MASK.length);
    const key = KEYS[0]!;
    const names = await readdir(join(folder, key.split("/")[0]!));
    expect(names.filter((name) => name.startsWith(key.split("/")[1]!)).sort()).toEqual([
      "000.jpg",
      "000.mask.png",
      "000.orig.jpg",
    ]);
    expect((await runCli(["verify", folder])).code).toBe(0);
    const folderProof = await runCli(["verify", folder, "--inputs", "--sample", "all"]);
    expect(folderProof.code, folderProof.stdout + folderProof.stderr).toBe(0);
    const shards = join(root, "shards");
    const result = await cli(
      shards,
      "--with",
      "original,mask",
      "--masked",
      "50%",
      "--keep-unmasked",
      "--dali-index",
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /samples by kind +\d+ masked, \d+ unmasked, 2 unmasked without a mask/,
    );
    const card = await readFile(join(shards, "README.md"), "utf8");
    expect(card).toContain("| `orig.jpg` |");
    expect(card).toContain("| `mask.png` |");
    expect(card).toContain("`masked`: true when `jpg` is the masked photo");
    // DALI's index lists the parts too (verify checks its offsets against the shard).
    const idx = await readFile(join(shards, "casia-000000.idx"), "utf8");
    expect(idx.split("\n")[1]).toMatch(/ mask\.png \d+ \d+ \S+\.mask\.png orig\.jpg /);
    const verify = await runCli(["verify", shards]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain("DALI indexes");
    // The proof re-derives every sample with the mix the run recorded, byte for byte.
    const proof = await runCli(["verify", shards, "--inputs", "--sample", "all"]);
    expect(proof.code, proof.stdout + proof.stderr).toBe(0);
  });

  it("publishes the same shards to a Hub repo, with a card that documents the columns", async () => {
    const hub = await startFakeHub();
    try {
      const mix = { with: "original,mask", masked: "50%", keepUnmasked: true, shardMaxCount: 5 };
      const local = join(await tempDir(), "local");
      await runPipeline(runOptions(local, mix));
      const repo = "me/paired";
      const hubOptions = { token: hub.token, endpoint: hub.url };
      const out = `hf://datasets/${repo}`;
      const report = await runPipeline(runOptions(out, { ...mix, hub: hubOptions }));
      expect(report.written).toBe(KEYS.length);
      const names = (await readdir(local)).filter((name) => name.endsWith(".tar")).sort();
      expect(names.length).toBe(3);
      for (const name of names) {
        const published = hub.read(repo, `data/train/${name}`);
        expect(published.equals(await readFile(join(local, name))), name).toBe(true);
      }
      expect(hub.read(repo, "README.md").toString()).toContain("| `mask.png` |");
    } finally {
      await hub.close();
    }
  });

  it("writes the same bytes with overlay worker processes as in one process", async () => {
    const root = await tempDir();
    const mix = { with: "original,mask", masked: "50%", keepUnmasked: true } as const;
    await runPipeline(runOptions(join(root, "one"), mix));
    await runPipeline(runOptions(join(root, "two"), { ...mix, overlayWorkers: 2 }));
    const one = await members(join(root, "one"));
    expect(one.size).toBe(KEYS.length * 5);
    expect(await members(join(root, "two"))).toEqual(one);
  });
});

describe("member names with paired parts", () => {
  const sample = (key: string, parts: Partial<Sample> = {}): Sample => ({
    key,
    photo: { archive: "p.zip", path: `${key}.jpg` },
    mask: { archive: "m.zip", path: `${key}.png` },
    width: 1,
    height: 1,
    maskWidth: 1,
    maskHeight: 1,
    extension: "jpg",
    image: Buffer.from("i"),
    ...parts,
  });
  const parts = {
    original: { extension: "jpg", data: Buffer.from("o") },
    maskAlpha: Buffer.from("m"),
  };

  it("fit the 100-byte tar name for a long key, which keeps its spelling without them", () => {
    const key = `${"a".repeat(40)}/${"b".repeat(52)}`; // 93 bytes: fits beside .json only
    const plain = sampleMembers(sample(key)).map((member) => member.name);
    expect(plain).toEqual([`${key}.jpg`, `${key}.json`]);
    const paired = sampleMembers(sample(key, parts)).map((member) => member.name);
    const short = webDatasetKey(key, 91);
    expect(short).not.toBe(key);
    expect(paired).toEqual(["jpg", "json", "mask.png", "orig.jpg"].map((e) => `${short}.${e}`));
    for (const name of paired) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(100);
    expect(sampleMembers(sample("0000045/001", parts)).map((m) => m.name)).toEqual(
      ["jpg", "json", "mask.png", "orig.jpg"].map((e) => `0000045/001.${e}`),
    );
  });
});

describe("--masked P%", () => {
  it("masks 300 +- 45 of 1,000 keys, the same keys every time", () => {
    const keys = casiaKeys(1000, 100, 50);
    const masked = keys.filter((key) => isMaskedKey(key, 30));
    expect(Math.abs(masked.length - 300)).toBeLessThanOrEqual(45);
    expect(keys.filter((key) => isMaskedKey(key, 30))).toEqual(masked);
    expect(keys.filter((key) => isMaskedKey(key, 0))).toEqual([]);
    expect(keys.filter((key) => isMaskedKey(key, 100))).toEqual(keys);
  });

  it("writes unmasked samples as the photo's own bytes, the same keys across partitions and archive kinds", async () => {
    const root = await tempDir();
    const report = await runPipeline(runOptions(join(root, "all"), { masked: "30%" }));
    const all = await jsons(join(root, "all"));
    const photos = KEYS.filter((key) => !WITHOUT_MASK.includes(key));
    expect(all.map((json) => json.key)).toEqual(photos);
    const maskedKeys = all.filter((json) => json.masked === true).map((json) => json.key);
    expect(maskedKeys).toEqual(photos.filter((key) => isMaskedKey(key, 30)));
    expect(all.every((json) => typeof json.masked === "boolean")).toBe(true);
    expect(report.kinds).toEqual({
      masked: maskedKeys.length,
      unmasked: photos.length - maskedKeys.length,
      unmaskedWithoutMask: 0,
    });
    const written = await members(join(root, "all"));
    const unmasked = photos.find((key) => !maskedKeys.includes(key))!;
    expect(written.get(`${unmasked}.jpg`)).toEqual(files.photos[KEYS.indexOf(unmasked)]!.data);
    const masked = maskedKeys[0]!;
    expect(written.get(`${masked}.jpg`)).not.toEqual(files.photos[KEYS.indexOf(masked)]!.data);

    const parts: string[] = [];
    for (let index = 0; index < 3; index++) {
      const out = join(root, "parts");
      await runPipeline(runOptions(out, { masked: "30%", partition: { index, count: 3 } }));
    }
    for (const json of await jsons(join(root, "parts"))) if (json.masked) parts.push(json.key);
    expect(parts.sort()).toEqual([...maskedKeys].sort());
    expect((await runCli(["merge", join(root, "parts")])).code).toBe(0);
    const merged = JSON.parse(await readFile(join(root, "parts", "report.json"), "utf8"));
    expect(merged.kinds).toEqual(report.kinds);
    expect((await runCli(["verify", join(root, "parts")])).code).toBe(0);

    const tars = inputs.tar!;
    await runPipeline(runOptions(join(root, "tars"), { masked: "30%", originals: tars.photos }));
    const fromTars = (await jsons(join(root, "tars"))).filter((json) => json.masked);
    expect(fromTars.map((json) => json.key).sort()).toEqual([...maskedKeys].sort());
  });

  it("refuses a bare number, naming the flag", async () => {
    const out = join(await tempDir(), "out");
    const result = await cli(out, "--masked", "30");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'Expected a percent between 0% and 100% (30%) for --masked but received "30": write 30% for a percent',
    );
  });

  it("refuses a resume with another --masked, naming the flag", async () => {
    const out = join(await tempDir(), "out");
    expect((await cli(out, "--masked", "30%")).code).toBe(0);
    const result = await cli(out, "--masked", "40%", "--resume");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--masked was 30%, now 40%");
    const same = await cli(out, "--masked", "30%", "--resume");
    expect(same.code, same.stderr).toBe(0);
  });
});

describe("--keep-unmasked", () => {
  for (const kind of ["zip", "tar"] as const) {
    it(`writes every photo, those without a mask unmasked and flagged (photos from a ${kind})`, async () => {
      const out = join(await tempDir(), "out");
      const masks = kind === "zip" ? inputs.tar!.masks : inputs.zip!.masks;
      const originals = inputs[kind]!.photos;
      const report = await runPipeline(runOptions(out, { keepUnmasked: true, originals, masks }));
      const all = await jsons(out);
      expect(all.length).toBe(KEYS.length);
      expect(report.written).toBe(KEYS.length);
      expect(report.photosWithoutMask).toBe(WITHOUT_MASK.length);
      expect(report.kinds).toEqual({
        masked: KEYS.length - WITHOUT_MASK.length,
        unmasked: 0,
        unmaskedWithoutMask: WITHOUT_MASK.length,
      });
      const lone = all.filter((json) => json.mask === null);
      expect(lone.map((json) => json.key).sort()).toEqual([...WITHOUT_MASK].sort());
      expect(lone.every((json) => json.masked === false)).toBe(true);
      const written = await members(out);
      const key = WITHOUT_MASK[0]!;
      expect(written.get(`${key}.jpg`)).toEqual(files.photos[KEYS.indexOf(key)]!.data);
      expect(written.get(`${key}.cls`)?.toString()).toMatch(/^\d+$/);
    });
  }
});
