import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join as joinPath } from "node:path";
import { describe, expect, it } from "vitest";
import type { ArchiveFile } from "../scripts/archives.js";
import type { Pair } from "../src/core/pair.js";
import { RunStats } from "../src/core/stats.js";
import { openLocalSource } from "../src/sources/open-source.js";
import { join } from "../src/transforms/join.js";
import { type ArchiveKind, corpusFiles, writeArchive } from "./support/corpus.js";
import { flipByte, writeStoredZip64 } from "./support/stored-zip.js";
import { closeAfterTest, tempDir } from "./support/temp.js";

const casia = { depth: 2, suffixes: ["_mask"] };
const keys = [
  "0000045/001",
  "0000045/002",
  "0000045/003",
  "0000099/001",
  "0000099/002",
  "0000102/007",
];

async function writeFolder(root: string, files: ArchiveFile[]): Promise<string> {
  for (const file of files) {
    const path = joinPath(root, file.name);
    await mkdir(dirname(path), { recursive: true });
    if (!file.directory) await writeFile(path, file.data!);
  }
  return root;
}

async function runJoin(photos: string, masks: string, memoryBudget?: number) {
  const stats = new RunStats();
  const stream = join({
    photos: closeAfterTest(await openLocalSource(photos)),
    masks: closeAfterTest(await openLocalSource(masks)),
    photoKeys: casia,
    maskKeys: casia,
    stats,
    memoryBudget,
  });
  const pairs: Pair[] = [];
  for await (const pair of stream) pairs.push(pair as Pair);
  return { pairs, stats };
}

type Side = ArchiveKind | "folder";

function onePairBudget(photos: ArchiveFile[], masks: ArchiveFile[]): number {
  const largest = (files: ArchiveFile[]) =>
    Math.max(...files.map((file) => file.data?.length ?? 0));
  return largest(photos) + largest(masks) + 1;
}

async function place(dir: string, base: string, kind: Side, files: ArchiveFile[]) {
  return kind === "folder"
    ? writeFolder(joinPath(dir, base), files)
    : writeArchive(dir, base, kind, files);
}

describe("join", () => {
  const cases: [Side, Side, string][] = [
    ["tar", "zip", "lookup-masks"],
    ["zip", "tar", "lookup-photos"],
    ["tar.gz", "folder", "lookup-masks"],
    ["folder", "zip", "lookup-masks"],
    ["tar", "tar.gz", "merge"],
  ];
  for (const [photoKind, maskKind, strategy] of cases) {
    it(`pairs ${photoKind} photos with ${maskKind} masks (${strategy}) and counts the unmatched`, async () => {
      const dir = await tempDir();
      const { photos, masks } = await corpusFiles({
        keys,
        withoutMask: ["0000045/002"],
        orphanMasks: ["0000099/009"],
        maskSuffix: "_mask",
      });
      photos.push({ name: "CASIA-WebFace/readme.txt", data: Buffer.from("x") });
      const photoPath = await place(dir, "photos", photoKind, photos);
      const maskPath = await place(dir, "masks", maskKind, masks);
      const { pairs, stats } = await runJoin(photoPath, maskPath);

      const byKey = new Map(pairs.map((pair) => [pair.key, pair]));
      expect([...byKey.keys()].sort()).toEqual(keys.filter((key) => key !== "0000045/002").sort());
      for (const pair of pairs) {
        // Each photo must meet the very mask drawn for it: compare bytes with the corpus.
        expect(pair.photo.data.equals(photos.find((f) => f.name === pair.photo.path)!.data!)).toBe(
          true,
        );
        expect(pair.mask.path).toBe(`CASIA-WebFace_masks/${pair.key}_mask.png`);
        expect(pair.mask.data.equals(masks.find((f) => f.name === pair.mask.path)!.data!)).toBe(
          true,
        );
      }
      expect(stats.pairs).toBe(5);
      expect(stats.photosWithoutMask).toBe(1);
      expect(stats.masksWithoutPhoto).toBe(1);
      expect(stats.unmatchedExamples.photos).toEqual(["CASIA-WebFace/0000045/002.jpg"]);
      expect(stats.unmatchedExamples.masks).toEqual(["CASIA-WebFace_masks/0000099/009_mask.png"]);
      expect(stats.skippedByReason["not-image"]).toBe(1);
    });
  }

  it("merge-joins sorted tars holding almost nothing in memory", async () => {
    const dir = await tempDir();
    const { photos, masks } = await corpusFiles({
      keys,
      withoutMask: ["0000099/001"],
      orphanMasks: ["0000045/009"],
    });
    masks.sort((a, b) => (a.name < b.name ? -1 : 1));
    const photoPath = await writeArchive(dir, "p", "tar", photos);
    const maskPath = await writeArchive(dir, "m", "tar", masks);
    // Room for one photo and one mask: only enough if unmatched members are given up as passed.
    const { pairs, stats } = await runJoin(photoPath, maskPath, onePairBudget(photos, masks));
    expect(pairs).toHaveLength(5);
    expect(stats.photosWithoutMask).toBe(1);
    expect(stats.masksWithoutPhoto).toBe(1);
  });

  it("holds out-of-order members within the budget", async () => {
    const dir = await tempDir();
    const { photos, masks } = await corpusFiles({ keys, reverseMasks: true });
    const { pairs } = await runJoin(
      await writeArchive(dir, "p", "tar", photos),
      await writeArchive(dir, "m", "tar", masks),
    );
    expect(pairs.map((pair) => pair.key).sort()).toEqual([...keys].sort());
  });

  it("stops with advice when out-of-order members exceed the budget", async () => {
    const dir = await tempDir();
    const { photos, masks } = await corpusFiles({ keys, reverseMasks: true });
    const run = runJoin(
      await writeArchive(dir, "p", "tar", photos),
      await writeArchive(dir, "m", "tar", masks),
      3000,
    );
    await expect(run).rejects.toMatchObject({
      code: "ERR_JOIN_MEMORY",
      message: expect.stringContaining("pass one side as a zip or a folder"),
    });
  });

  it("stops when a side turns out unsorted after its partner was passed over", async () => {
    const dir = await tempDir();
    const { photos, masks } = await corpusFiles({
      keys,
      withoutMask: ["0000099/001", "0000099/002"],
    });
    // Masks sorted except the first key, which comes last. Photos without masks pile up until
    // memory is short; then photo 0000045/001 is given up as passed, and its mask comes after.
    masks.push(masks.shift()!);
    const largest = Math.max(...photos.map((file) => file.data!.length));
    const budget = 2 * largest + Math.max(...masks.map((file) => file.data!.length)) + 1;
    const run = runJoin(
      await writeArchive(dir, "p", "tar", photos),
      await writeArchive(dir, "m", "tar", masks),
      budget,
    );
    await expect(run).rejects.toMatchObject({
      code: "ERR_JOIN_ORDER",
      message: expect.stringContaining(
        'CASIA-WebFace_masks/0000045/001.png (key "0000045/001") arrived after',
      ),
    });
  });

  it("refuses two members with the same key on one side, naming both", async () => {
    const dir = await tempDir();
    const { photos, masks } = await corpusFiles({ keys });
    photos.push({ name: "other-top/0000045/001.jpg", data: photos[0]!.data });
    const run = runJoin(
      await writeArchive(dir, "p", "zip", photos),
      await writeArchive(dir, "m", "tar", masks),
    );
    await expect(run).rejects.toMatchObject({
      code: "ERR_DUPLICATE_KEY",
      message: expect.stringContaining(
        'CASIA-WebFace/0000045/001.jpg and other-top/0000045/001.jpg both give the key "0000045/001"',
      ),
    });
  });

  it("counts a member that cannot be read as a failed pair, not as unmatched", async () => {
    const dir = await tempDir();
    const { photos, masks } = await corpusFiles({ keys });
    const photoPath = await writeArchive(dir, "p", "tar", photos);
    const maskPath = joinPath(dir, "m.zip");
    await writeStoredZip64(
      maskPath,
      masks.map((m) => ({ name: m.name, data: m.data! })),
    );
    const zip = await readFile(maskPath);
    flipByte(zip, 30 + Buffer.byteLength(masks[0]!.name) + 100); // corrupt the first mask's bytes
    await writeFile(maskPath, zip);
    const { pairs, stats } = await runJoin(photoPath, maskPath);
    expect(pairs).toHaveLength(keys.length - 1);
    expect(stats.failed).toBe(1);
    expect(stats.failedByReason).toEqual({ ERR_MEMBER_CRC: 1 });
    expect(stats.photosWithoutMask).toBe(0);
  });
});
