import { join } from "node:path";
import { type ArchiveFile, writeTar, writeZip } from "../../scripts/archives.js";
import { maskPng, photoJpeg } from "../../scripts/synthetic.js";

export type ArchiveKind = "zip" | "tar" | "tar.gz";

export interface CorpusOptions {
  /** Keys like `0000045/001` (CASIA) or `000001` (CelebA). */
  keys: string[];
  /** Keys that get no mask. */
  withoutMask?: string[];
  /** Extra masks whose photo does not exist. */
  orphanMasks?: string[];
  photoPrefix?: string;
  maskPrefix?: string;
  maskSuffix?: string;
  size?: number;
  /** Reverse the order of one side's members. */
  reverseMasks?: boolean;
}

export interface CorpusFiles {
  photos: ArchiveFile[];
  masks: ArchiveFile[];
}

/**
 * CASIA-style keys `{identity}/{nnn}`: `count` photos spread over `identities` 7-digit identity
 * folders numbered from `first`.
 */
export function casiaKeys(count: number, first: number, identities = 1): string[] {
  return Array.from(
    { length: count },
    (_, i) => `${String(first + (i % identities)).padStart(7, "0")}/${String(i).padStart(3, "0")}`,
  );
}

/**
 * Images made once per test file: a corpus's n-th photo and mask depend only on n and the size,
 * and the suite builds the same ones again and again (a JPEG and a PNG encode each).
 */
const made = new Map<string, Promise<Buffer>>();
function memo(what: string, make: () => Promise<Buffer>): Promise<Buffer> {
  let image = made.get(what);
  if (image === undefined) {
    image = make();
    made.set(what, image);
  }
  return image;
}

/** Synthetic photos and masks, deterministic for the same keys. */
export async function corpusFiles(options: CorpusOptions): Promise<CorpusFiles> {
  const size = options.size ?? 64;
  const photoPrefix = options.photoPrefix ?? "CASIA-WebFace/";
  const maskPrefix = options.maskPrefix ?? "CASIA-WebFace_masks/";
  const suffix = options.maskSuffix ?? "";
  const without = new Set(options.withoutMask ?? []);
  const photos: ArchiveFile[] = [];
  const masks: ArchiveFile[] = [];
  let seed = 1;
  for (const key of options.keys) {
    seed++;
    photos.push({
      name: `${photoPrefix}${key}.jpg`,
      data: await memo(`photo ${seed} ${size}`, () =>
        photoJpeg({ seed, width: size, height: size }),
      ),
    });
    if (!without.has(key)) {
      masks.push({
        name: `${maskPrefix}${key}${suffix}.png`,
        data: await memo(`mask ${seed} ${size}`, () =>
          maskPng({ seed, width: size, height: size }),
        ),
      });
    }
  }
  for (const key of options.orphanMasks ?? []) {
    masks.push({
      name: `${maskPrefix}${key}${suffix}.png`,
      data: await maskPng({ seed: 7, width: size, height: size }),
    });
  }
  if (options.reverseMasks) masks.reverse();
  return { photos, masks };
}

export async function writeArchive(
  dir: string,
  base: string,
  kind: ArchiveKind,
  files: ArchiveFile[],
): Promise<string> {
  const path = join(dir, `${base}.${kind}`);
  if (kind === "zip") await writeZip(path, files);
  else await writeTar(path, files, kind === "tar.gz");
  return path;
}
