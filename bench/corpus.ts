import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ArchiveFile, writeTar, writeZip } from "../scripts/archives.js";
import { maskPng, photoJpeg, random } from "../scripts/synthetic.js";

export type CorpusKind = "celeba" | "casia";

export interface Corpus {
  kind: CorpusKind;
  pairs: number;
  dir: string;
  /** Photos archive and masks archive as the benchmark's pipeline reads them. */
  originals: string;
  masks: string;
  pipeline: string;
}

/**
 * Deterministic benchmark corpora, cached under bench/.corpus/:
 * - celeba: photos 400-600 x 500-800 (mean about 500x650), noise like a real photo (~45 KB
 *   JPEGs, as img_celeba's), masks the size of their photos, 3% of photos without a mask; photos
 *   and masks as zips, as CelebA and CelebA+masks ship.
 * - casia: 250x250 photos (~9 KB) in identity folders of 40, 3% without a mask; photos as a tar
 *   (streamed), masks as a zip (looked up).
 */
export async function corpus(kind: CorpusKind, pairs: number, root: string): Promise<Corpus> {
  const dir = join(root, `${kind}-${pairs}`);
  const zipOrTar = kind === "celeba" ? "zip" : "tar";
  const result: Corpus = {
    kind,
    pairs,
    dir,
    originals: join(dir, `photos.${zipOrTar}`),
    masks: join(dir, "masks.zip"),
    pipeline: join(process.cwd(), `pipelines/${kind}.json`),
  };
  // A corpus made for another bench may lack this one's archives (bench:7z keeps photos.7z).
  if ([join(dir, "done"), result.originals, result.masks].every((path) => existsSync(path)))
    return result;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const rand = random(kind === "celeba" ? 1 : 2);
  const photos: ArchiveFile[] = [];
  const masks: ArchiveFile[] = [];
  for (let i = 1; i <= pairs; i++) {
    const width = kind === "celeba" ? 400 + Math.floor(rand() * 200) : 250;
    const height = kind === "celeba" ? 500 + Math.floor(rand() * 300) : 250;
    const seed = i * 7919;
    const name =
      kind === "celeba"
        ? String(i).padStart(6, "0")
        : `${String(100 + Math.floor(i / 40)).padStart(7, "0")}/${String((i % 40) + 1).padStart(3, "0")}`;
    const photo = await photoJpeg({
      seed,
      width,
      height,
      noise: kind === "celeba" ? 16 : 12,
      quality: 80,
    });
    photos.push({
      name: kind === "celeba" ? `img_celeba/${name}.jpg` : `CASIA-WebFace/${name}.jpg`,
      data: photo,
    });
    if (rand() < 0.03) continue;
    const mask = await maskPng({ seed, width, height });
    masks.push({
      name: kind === "celeba" ? `celeba_masks/${name}_mask.png` : `CASIA-WebFace_masks/${name}.png`,
      data: mask,
    });
    if (i % 500 === 0) process.stderr.write(`  generated ${i}/${pairs} ${kind}-like pairs\n`);
  }
  if (zipOrTar === "zip") await writeZip(result.originals, photos);
  else await writeTar(result.originals, photos);
  await writeZip(result.masks, masks);
  await writeFile(join(dir, "done"), "complete\n"); // written last: a cut-short run is redone

  return result;
}
