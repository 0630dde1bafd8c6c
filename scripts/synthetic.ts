import sharp from "sharp";
import { seededRandom } from "../src/core/seeded-random.js";

/*
 * Deterministic synthetic faces and masks for the sample, the tests and the benchmarks. Photos
 * have natural-image texture (gradients, noise, shapes) so JPEG sizes and codec costs are
 * realistic; masks are RGBA with soft edges, so 0 < alpha < 255 is exercised like the real
 * CelebA+masks PNGs.
 */

/** A small, fast, seedable PRNG (mulberry32): same seed, same pixels, every machine. */
export const random = seededRandom;

export interface PhotoSpec {
  seed: number;
  width: number;
  height: number;
  gray?: boolean;
  quality?: number;
  /** Pixel noise amplitude; real photos sit around 6-12. Default 28 (busy, large files). */
  noise?: number;
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value | 0;
}

/** Raw RGB of a face-like picture. */
export function photoPixels(spec: PhotoSpec): Buffer {
  const { width, height } = spec;
  const rand = random(spec.seed);
  const bg = [rand() * 255, rand() * 255, rand() * 255];
  const skin = [170 + rand() * 70, 120 + rand() * 60, 90 + rand() * 50];
  const cx = width * (0.45 + rand() * 0.1);
  const cy = height * (0.45 + rand() * 0.1);
  const rx = width * (0.25 + rand() * 0.08);
  const ry = height * (0.32 + rand() * 0.08);
  const noiseAmplitude = spec.noise ?? 28;
  const out = Buffer.allocUnsafe(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const dx = (x - cx) / rx;
      const dy = (y - cy) / ry;
      const inFace = dx * dx + dy * dy <= 1;
      const eye = Math.min(
        Math.hypot(x - (cx - rx * 0.4), y - (cy - ry * 0.25)),
        Math.hypot(x - (cx + rx * 0.4), y - (cy - ry * 0.25)),
      );
      const noise = (rand() - 0.5) * noiseAmplitude;
      for (let c = 0; c < 3; c++) {
        let v = inFace
          ? skin[c]! * (1 - 0.25 * (dx * dx + dy * dy))
          : bg[c]! + 40 * Math.sin((x + y * (c + 1)) / 17);
        if (inFace && eye < rx * 0.12) v = 40;
        out[i + c] = clamp(v + noise);
      }
    }
  }
  return out;
}

export async function photoJpeg(spec: PhotoSpec): Promise<Buffer> {
  const raw = photoPixels(spec);
  const image = sharp(raw, { raw: { width: spec.width, height: spec.height, channels: 3 } });
  return (spec.gray ? image.toColourspace("b-w") : image)
    .jpeg({ quality: spec.quality ?? 90 })
    .toBuffer();
}

export interface MaskSpec {
  seed: number;
  width: number;
  height: number;
}

/** Raw RGBA of a surgical-mask-like shape over the lower face, with a soft edge. */
export function maskPixels(spec: MaskSpec): Buffer {
  const { width, height } = spec;
  const rand = random(spec.seed ^ 0x9e3779b9);
  const colour = [150 + rand() * 100, 190 + rand() * 60, 220 + rand() * 35];
  const cx = width * (0.45 + rand() * 0.1);
  const top = height * (0.55 + rand() * 0.05);
  const bottom = height * (0.85 + rand() * 0.05);
  const half = width * (0.26 + rand() * 0.06);
  const out = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const t = (y - top) / (bottom - top);
      const taper = half * (1 - 0.3 * Math.max(0, t) ** 2);
      // Distance inside the shape, in pixels; the 3-pixel ramp gives partial alpha at the edge.
      const inside = Math.min(y - top, bottom - y, taper - Math.abs(x - cx));
      const alpha = clamp((inside + 1.5) * (255 / 3));
      if (alpha === 0) continue;
      const pleat = Math.abs(((y - top) % 14) - 7) < 1 ? 0.85 : 1;
      out[i] = clamp(colour[0]! * pleat);
      out[i + 1] = clamp(colour[1]! * pleat);
      out[i + 2] = clamp(colour[2]! * pleat);
      out[i + 3] = alpha;
    }
  }
  return out;
}

export async function maskPng(spec: MaskSpec): Promise<Buffer> {
  return sharp(maskPixels(spec), { raw: { width: spec.width, height: spec.height, channels: 4 } })
    .png()
    .toBuffer();
}
