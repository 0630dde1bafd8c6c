import { Readable } from "node:stream";
import sharp, { type OverlayOptions } from "sharp";
import { extract } from "tar-stream";
import { MaskpipeError } from "../core/errors.js";
import { seededRandom } from "../core/seeded-random.js";
import { splitMemberName } from "../sinks/webdataset-names.js";
import { OUTPUT_EXTENSIONS } from "../transforms/encode.js";
import type { OutputFiles } from "./output-files.js";

/** A shard to pick from: where it is in the output and how many samples it holds. */
export interface PreviewShard {
  path: string;
  nsamples: number;
}

export interface ContactSheetOptions {
  /** Columns and rows of tiles. Default 8 x 8. */
  columns?: number;
  rows?: number;
  /** Picks the samples: the same seed, the same sheet. Default 0. */
  seed?: number;
  /** Tile edge in pixels. Default 128. */
  tile?: number;
}

export const CONTACT_SHEET_DEFAULTS = { columns: 8, rows: 8, seed: 0, tile: 128 } as const;

/**
 * Samples are picked among the first 256 of each shard, so a sheet of a Hub repo reads the
 * start of a few shards with Range requests, never whole shards of 500 MB.
 */
const WINDOW = 256;
/** Height of the strip under each tile that names its sample. */
export const LABEL_HEIGHT = 16;
const READ_BYTES = 2 ** 20;

/** One tile of a sheet: which sample it shows and where. */
export interface SheetTile {
  key: string;
  identity: string | null;
  shard: string;
  /** The tile's top-left corner in the sheet. */
  left: number;
  top: number;
}

export interface ContactSheet {
  /** The sheet as raw RGB pixels. */
  pixels: Buffer;
  width: number;
  height: number;
  tile: number;
  tiles: SheetTile[];
}

/**
 * Which samples a sheet shows: tiles go round the shards (in an order the seed shuffles), each
 * taking a sample the seed picks among the shard's first 256. Returns shard -> sample positions.
 */
export function pickSamples(
  shards: readonly PreviewShard[],
  count: number,
  seed: number,
): Map<string, number[]> {
  const random = seededRandom(seed);
  const order = shards
    .filter((shard) => shard.nsamples > 0)
    .map((shard) => ({ shard, key: random() }));
  order.sort((a, b) => a.key - b.key);
  const free = new Map(
    order.map(({ shard }) => [
      shard.path,
      Array.from({ length: Math.min(shard.nsamples, WINDOW) }, (_, i) => i),
    ]),
  );
  const picks = new Map<string, number[]>();
  let taken = 0;
  while (taken < count) {
    let any = false;
    for (const { shard } of order) {
      if (taken >= count) break;
      const left = free.get(shard.path)!;
      if (left.length === 0) continue;
      const [position] = left.splice(Math.floor(random() * left.length), 1);
      picks.set(shard.path, [...(picks.get(shard.path) ?? []), position!]);
      taken++;
      any = true;
    }
    if (!any) break;
  }
  for (const positions of picks.values()) positions.sort((a, b) => a - b);
  return picks;
}

/** The samples at `positions` of one shard: reads from its start only as far as needed. */
async function readPicked(
  files: OutputFiles,
  path: string,
  positions: readonly number[],
): Promise<{ key: string; image: Buffer; identity: string | null }[]> {
  const wanted = new Set(positions);
  const last = positions.at(-1) ?? -1;
  const size = (await files.size(path)) ?? 0;
  async function* chunks() {
    for (let offset = 0; offset < size; offset += READ_BYTES) {
      yield await files.range(path, offset, Math.min(READ_BYTES, size - offset));
    }
  }
  const reader = extract();
  const input = Readable.from(chunks());
  input.on("error", (error) => reader.destroy(error));
  input.pipe(reader);
  const found: { key: string; image: Buffer; identity: string | null }[] = [];
  let index = -1;
  let current: { key: string; image?: Buffer; identity: string | null } | undefined;
  const close = () => {
    if (current?.image !== undefined && wanted.has(index)) {
      found.push({ key: current.key, image: current.image, identity: current.identity });
    }
    current = undefined;
  };
  try {
    for await (const entry of reader) {
      const name = entry.header.name;
      const { key, extension } = splitMemberName(name);
      if (current?.key !== key) {
        close();
        if (index >= last) {
          entry.resume();
          break;
        }
        index++;
      }
      current ??= { key, identity: null };
      const chunksOf: Buffer[] = [];
      for await (const chunk of entry) chunksOf.push(chunk as Buffer);
      if (!wanted.has(index)) continue;
      const data = Buffer.concat(chunksOf);
      if (extension === "json") {
        const json = JSON.parse(data.toString("utf8")) as {
          key?: string;
          identity?: string | null;
        };
        current.identity = json.identity ?? null;
      } else if (OUTPUT_EXTENSIONS.includes(extension)) {
        current.image = data;
      }
    }
    close();
  } finally {
    input.destroy();
  }
  return found;
}

/** The tile of one sample: the image scaled to fit `tile` x `tile`, on black. */
export async function tilePixels(image: Buffer, tile: number): Promise<Buffer> {
  return sharp(image)
    .resize(tile, tile, { fit: "contain", background: { r: 0, g: 0, b: 0 } })
    .removeAlpha()
    .raw()
    .toBuffer();
}

/**
 * A contact sheet of an output's samples: a grid of tiles, each its image scaled and a strip
 * under it naming the sample's key and identity.
 */
export async function contactSheet(
  files: OutputFiles,
  shards: readonly PreviewShard[],
  options: ContactSheetOptions = {},
): Promise<ContactSheet> {
  const { columns, rows, seed, tile } = { ...CONTACT_SHEET_DEFAULTS, ...options };
  const picks = pickSamples(shards, columns * rows, seed);
  if (picks.size === 0) {
    throw new MaskpipeError("ERR_OUTPUT", `${files.where}: holds no samples to preview`, {
      archive: files.where,
    });
  }
  const samples: { key: string; image: Buffer; identity: string | null; shard: string }[] = [];
  for (const shard of shards) {
    const positions = picks.get(shard.path);
    if (positions === undefined) continue;
    for (const sample of await readPicked(files, shard.path, positions))
      samples.push({ ...sample, shard: shard.path });
  }
  const cell = tile + LABEL_HEIGHT;
  const width = columns * tile;
  const height = Math.ceil(samples.length / columns) * cell;
  const layers: OverlayOptions[] = [];
  const tiles: SheetTile[] = [];
  for (const [i, sample] of samples.entries()) {
    const left = (i % columns) * tile;
    const top = Math.floor(i / columns) * cell;
    layers.push({
      input: await tilePixels(sample.image, tile),
      raw: { width: tile, height: tile, channels: 3 },
      left,
      top,
    });
    const text = `${decodeURIComponentSafe(sample.key)}${sample.identity === null ? "" : `  ${sample.identity}`}`;
    const label = await labelStrip(text, tile);
    if (label !== undefined) layers.push({ input: label, left, top: top + tile });
    tiles.push({ key: sample.key, identity: sample.identity, shard: sample.shard, left, top });
  }
  const pixels = await sharp({
    create: { width, height, channels: 3, background: { r: 24, g: 24, b: 24 } },
  })
    .composite(layers)
    .png({ compressionLevel: 0 })
    .toBuffer()
    // Compositing the labels' alpha gives the sheet one too; the sheet itself is RGB.
    .then((png) => sharp(png).removeAlpha().raw().toBuffer());
  return { pixels, width, height, tile, tiles };
}

/** White text on the strip under a tile; `undefined` where no font can render it. */
async function labelStrip(text: string, width: number): Promise<Buffer | undefined> {
  try {
    const rendered = await sharp({
      text: {
        text: `<span foreground="white">${escapeMarkup(text)}</span>`,
        font: "monospace 8",
        rgba: true,
        dpi: 72,
      },
    })
      .png()
      .toBuffer({ resolveWithObject: true });
    const crop = {
      left: 0,
      top: 0,
      width: Math.min(width, rendered.info.width),
      height: Math.min(LABEL_HEIGHT, rendered.info.height),
    };
    return sharp(rendered.data).extract(crop).png().toBuffer();
  } catch {
    return undefined;
  }
}

function escapeMarkup(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The sheet as a JPEG (quality 90) or a PNG. */
export function encodeSheet(sheet: ContactSheet, format: "jpeg" | "png"): Promise<Buffer> {
  const image = sharp(sheet.pixels, {
    raw: { width: sheet.width, height: sheet.height, channels: 3 },
  });
  return format === "png" ? image.png().toBuffer() : image.jpeg({ quality: 90 }).toBuffer();
}
