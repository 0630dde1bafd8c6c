/**
 * Writes the inputs of the byte-identity test to test/fixtures/reference/. The expected outputs
 * beside them were then made by the reference overlay (OpenCV 4.6 from Debian's python3-opencv):
 *
 *   npx tsx scripts/make-reference-fixtures.ts
 *   for c in test/fixtures/reference/*.photo.jpg; do n=${c%.photo.jpg}
 *     /usr/bin/python3 tools/reference_overlay.py $c $n.mask.png $n.expected.jpg; done
 *
 * The test suite only reads the committed files; it needs neither Python nor OpenCV.
 */
import { mkdir, writeFile } from "node:fs/promises";
import sharp from "sharp";
import { maskPng, photoPixels } from "./synthetic.js";

interface Case {
  name: string;
  photo: {
    width: number;
    height: number;
    gray?: boolean;
    progressive?: boolean;
    subsampling?: string;
  };
  mask: { width: number; height: number };
}

const CASES: Case[] = [
  { name: "celeba-like", photo: { width: 178, height: 218 }, mask: { width: 178, height: 218 } },
  { name: "casia-like", photo: { width: 250, height: 250 }, mask: { width: 250, height: 250 } },
  {
    name: "gray",
    photo: { width: 200, height: 200, gray: true },
    mask: { width: 200, height: 200 },
  },
  { name: "mask-larger", photo: { width: 200, height: 180 }, mask: { width: 224, height: 200 } },
  { name: "mask-smaller", photo: { width: 240, height: 260 }, mask: { width: 200, height: 210 } },
  { name: "odd-size", photo: { width: 177, height: 219 }, mask: { width: 177, height: 219 } },
  {
    name: "progressive",
    photo: { width: 190, height: 230, progressive: true },
    mask: { width: 190, height: 230 },
  },
  {
    name: "photo-444",
    photo: { width: 160, height: 200, subsampling: "4:4:4" },
    mask: { width: 160, height: 200 },
  },
];

const dir = "test/fixtures/reference";
await mkdir(dir, { recursive: true });
let seed = 500;
for (const c of CASES) {
  seed++;
  const raw = photoPixels({ seed, width: c.photo.width, height: c.photo.height });
  let image = sharp(raw, { raw: { width: c.photo.width, height: c.photo.height, channels: 3 } });
  if (c.photo.gray) image = image.toColourspace("b-w");
  const photo = await image
    .jpeg({
      quality: 90,
      progressive: c.photo.progressive ?? false,
      chromaSubsampling: c.photo.subsampling ?? "4:2:0",
    })
    .toBuffer();
  await writeFile(`${dir}/${c.name}.photo.jpg`, photo);
  await writeFile(`${dir}/${c.name}.mask.png`, await maskPng({ seed, ...c.mask }));
}
console.log(`${CASES.length} cases in ${dir}`);
