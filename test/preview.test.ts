import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { previewOutput } from "../src/commands/preview/preview-output.js";
import { LABEL_HEIGHT, tilePixels } from "../src/dataset/contact-sheet.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { runCli } from "./support/cli.js";
import { startFakeHub } from "./support/fake-hub.js";
import { readShard } from "./support/read-shard.js";
import { SAMPLE_RUN } from "./support/sample-run.js";
import { tempDir } from "./support/temp.js";

const SAMPLE = SAMPLE_RUN;

/** The image of every sample of an output folder's shards, by member key. */
async function imagesOf(out: string, shards: string[]) {
  const images = new Map<string, Buffer>();
  for (const shard of shards) {
    for (const member of await readShard(join(out, shard))) {
      if (member.name.endsWith(".jpg"))
        images.set(member.name.slice(0, -".jpg".length), member.data);
    }
  }
  return images;
}

/** The RGB pixels of one tile cut out of a sheet. */
function tileOf(sheet: { pixels: Buffer; width: number }, left: number, top: number, size: number) {
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const start = ((top + y) * sheet.width + left) * 3;
    rows.push(sheet.pixels.subarray(start, start + size * 3));
  }
  return Buffer.concat(rows);
}

describe("maskpipe preview", () => {
  it("makes a grid of the samples it picks, each tile the sample's image scaled", async () => {
    const out = join(await tempDir(), "out");
    const report = await runPipeline({ ...SAMPLE, out });
    const sheet = await previewOutput(out, { columns: 4, rows: 3, seed: 7, tile: 64 });
    expect([sheet.width, sheet.height]).toEqual([4 * 64, 3 * (64 + LABEL_HEIGHT)]);
    expect(sheet.tiles).toHaveLength(12);
    expect(new Set(sheet.tiles.map((tile) => tile.key)).size).toBe(12);
    expect(new Set(sheet.tiles.map((tile) => tile.shard)).size).toBe(3); // across all shards
    const images = await imagesOf(
      out,
      report.shards.map((shard) => shard.name),
    );
    for (const tile of sheet.tiles) {
      expect(tile.identity).toBe(tile.key.split("/")[0]);
      const expected = await tilePixels(images.get(tile.key)!, 64);
      expect(tileOf(sheet, tile.left, tile.top, 64).equals(expected), tile.key).toBe(true);
    }
    const again = await previewOutput(out, { columns: 4, rows: 3, seed: 7, tile: 64 });
    expect(again.tiles.map((t) => t.key)).toEqual(sheet.tiles.map((t) => t.key));
    const other = await previewOutput(out, { columns: 4, rows: 3, seed: 8, tile: 64 });
    expect(other.tiles.map((t) => t.key)).not.toEqual(sheet.tiles.map((t) => t.key));
  });

  it("writes the sheet from the command line, 8x8 by default (as many as there are)", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    await runPipeline({ ...SAMPLE, out });
    const result = await runCli(["preview", out, "--out", join(dir, "sheet.png")]);
    expect(result.code, result.stderr).toBe(0);
    const meta = await sharp(join(dir, "sheet.png")).metadata();
    expect([meta.width, meta.height]).toEqual([8 * 128, 5 * (128 + LABEL_HEIGHT)]); // 33 samples
    expect(result.stderr).toContain("33 samples from 3 shards");
  });

  it("reads a Hub repo with Range requests and shows the same sheet; a Hub run puts it on the card", async () => {
    const hub = await startFakeHub();
    try {
      const out = join(await tempDir(), "out");
      await runPipeline({ ...SAMPLE, out });
      await runPipeline({
        ...SAMPLE,
        out: "hf://datasets/me/sample-masked",
        hub: { token: hub.token, endpoint: hub.url },
      });
      const options = { columns: 3, rows: 3, seed: 1, tile: 48 };
      const local = await previewOutput(out, options);
      const remote = await previewOutput("hf://datasets/me/sample-masked", {
        ...options,
        token: hub.token,
        hubUrl: hub.url,
      });
      expect(remote.pixels.equals(local.pixels)).toBe(true);
      const card = hub.read("me/sample-masked", "README.md").toString();
      expect(card).toContain("](preview.jpg)");
      const sheet = await sharp(hub.read("me/sample-masked", "preview.jpg")).metadata();
      expect([sheet.format, sheet.width]).toEqual(["jpeg", 8 * 128]);
    } finally {
      await hub.close();
    }
  });
});
