import sharp from "sharp";
import { type CheckedMix, isMaskedKey, marksMasked } from "../core/mix.js";
import type { JoinedPhoto, MemberData } from "../core/pair.js";
import type { OriginalPhoto, Sample } from "../core/sample.js";
import type { RawPixels } from "./blend.js";
import { FILE_EXTENSION, type OutputFormat } from "./encode.js";
import { imageSize } from "./image-size.js";

/*
 * The parts of a sample beside the masked photo (issue 25): the unmasked photo as it was, the
 * mask's alpha as a PNG, and which samples are masked at all.
 */

/** What the pixel work for one photo made: the image and, when asked for, the mask's alpha. */
export interface MadeImages {
  width: number;
  height: number;
  maskWidth: number;
  maskHeight: number;
  extension: string;
  image: Buffer;
  maskAlpha?: Buffer;
}

/** True when the photo gets its mask: it has one, and its key is in the `masked` share. */
export function blendsPhoto(item: JoinedPhoto, mix: Pick<CheckedMix, "maskedPercent">): boolean {
  return item.mask !== undefined && isMaskedKey(item.key, mix.maskedPercent);
}

/** The format of an image's bytes, from its signature; undefined for any other. */
export function photoFormat(bytes: Buffer): OutputFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return "jpeg";
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47) return "png";
  if (bytes.length >= 12 && bytes.toString("latin1", 0, 4) === "RIFF")
    return bytes.toString("latin1", 8, 12) === "WEBP" ? "webp" : undefined;
  return undefined;
}

/**
 * True when an unmasked photo is written as its own bytes: it is already in the output format
 * and its header gives its size. Otherwise it is decoded and encoded as a masked one would be.
 */
export function keepsPhotoBytes(photo: Buffer, format: OutputFormat): boolean {
  return photoFormat(photo) === format && imageSize(photo) !== undefined;
}

/** True when making the sample takes decoding or encoding; false when bytes only pass through. */
export function needsPixels(
  item: JoinedPhoto,
  blend: boolean,
  options: { format: OutputFormat; with: CheckedMix["with"] },
): boolean {
  return (
    blend || options.with.includes("mask") || !keepsPhotoBytes(item.photo.data, options.format)
  );
}

/** An unmasked photo that passes through: its own bytes, its size from its header. */
export function passedThrough(item: JoinedPhoto, format: OutputFormat): MadeImages {
  const size = imageSize(item.photo.data)!;
  const maskSize = item.mask === undefined ? undefined : imageSize(item.mask.data);
  return {
    width: size.width,
    height: size.height,
    maskWidth: (maskSize ?? size).width,
    maskHeight: (maskSize ?? size).height,
    extension: FILE_EXTENSION[format],
    image: item.photo.data,
  };
}

/**
 * The mask's alpha as a one-channel 8-bit PNG at the mask's size; a photo without a mask gets
 * one of zeros at its own size (the mask is nowhere). Fixed encoder settings: the same bytes in
 * every process and on every run.
 */
export async function alphaPng(
  mask: RawPixels | undefined,
  size: { width: number; height: number },
): Promise<Buffer> {
  const { width, height } = mask ?? size;
  const alpha = Buffer.alloc(width * height);
  if (mask !== undefined) for (let i = 0; i < alpha.length; i++) alpha[i] = mask.data[i * 4 + 3]!;
  // Without the colourspace, libvips writes one raw band as an RGB PNG.
  return sharp(alpha, { raw: { width, height, channels: 1 } })
    .toColourspace("b-w")
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

/** The photo's own bytes for `{key}.orig.{extension}`, the extension from their format. */
export function originalPhoto(photo: MemberData): OriginalPhoto {
  const format = photoFormat(photo.data);
  const own = /\.([A-Za-z0-9]{1,8})$/.exec(photo.path)?.[1]?.toLowerCase();
  const extension = format !== undefined ? FILE_EXTENSION[format] : (own ?? "bin");
  return { extension: extension === "jpeg" ? "jpg" : extension, data: photo.data };
}

/** The sample of `item` from the images made for it, with the parts the run asked for. */
export function sampleOf(
  item: JoinedPhoto,
  made: MadeImages,
  blend: boolean,
  mix: CheckedMix,
): Sample {
  const { maskAlpha, ...images } = made;
  return {
    key: item.key,
    photo: { archive: item.photo.archive, path: item.photo.path },
    ...(item.mask !== undefined && {
      mask: { archive: item.mask.archive, path: item.mask.path },
    }),
    ...images,
    ...(item.label !== undefined && { label: item.label }),
    ...(marksMasked(mix) && { masked: blend }),
    ...(mix.with.includes("original") && { original: originalPhoto(item.photo) }),
    ...(maskAlpha !== undefined && { maskAlpha }),
  };
}
