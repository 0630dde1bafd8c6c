import sharp from "sharp";
import type { RawPixels } from "./blend.js";

/** Why an image cannot be used; becomes the failure's message. */
export class ImageProblem extends Error {}

async function decodeRaw(bytes: Buffer, maxPixels: number) {
  // No EXIF rotation (the masks were drawn on the stored pixels) and no ICC conversion: the
  // reference's cv2.imread does neither.
  const { data, info } = await sharp(bytes, { ignoreIcc: true, limitInputPixels: maxPixels })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (data.length !== info.width * info.height * info.channels) {
    throw new ImageProblem("samples wider than 8 bits are not supported; only 8-bit images are");
  }
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** The photo as 3-channel RGB; gray photos get three equal channels, as cv2.imread gives. */
export async function decodePhoto(bytes: Buffer, maxPixels: number): Promise<RawPixels> {
  const raw = await decodeRaw(bytes, maxPixels);
  if (raw.channels === 3) return raw;
  const pixels = raw.width * raw.height;
  const rgb = Buffer.allocUnsafe(pixels * 3);
  const step = raw.channels;
  const gray = step <= 2;
  for (let i = 0, o = 0, s = 0; i < pixels; i++, o += 3, s += step) {
    rgb[o] = raw.data[s]!;
    rgb[o + 1] = raw.data[gray ? s : s + 1]!;
    rgb[o + 2] = raw.data[gray ? s : s + 2]!;
  }
  return { data: rgb, width: raw.width, height: raw.height };
}

/** The mask as RGBA; a mask without alpha cannot say where the mask is. */
export async function decodeMask(bytes: Buffer, maxPixels: number): Promise<RawPixels> {
  const raw = await decodeRaw(bytes, maxPixels);
  if (raw.channels === 4) return raw;
  if (raw.channels !== 2) {
    throw new ImageProblem("the mask has no alpha channel, so it does not say where the mask is");
  }
  const pixels = raw.width * raw.height;
  const rgba = Buffer.allocUnsafe(pixels * 4);
  for (let i = 0; i < pixels; i++) {
    const gray = raw.data[i * 2]!;
    rgba[i * 4] = gray;
    rgba[i * 4 + 1] = gray;
    rgba[i * 4 + 2] = gray;
    rgba[i * 4 + 3] = raw.data[i * 2 + 1]!;
  }
  return { data: rgba, width: raw.width, height: raw.height };
}
