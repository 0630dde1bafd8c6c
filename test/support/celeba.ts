import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { corpusFiles, writeArchive } from "./corpus.js";
import { tempDir } from "./temp.js";

export const ATTRIBUTES = Array.from({ length: 40 }, (_, i) => `Attr_${i}`);
ATTRIBUTES[0] = "5_o_Clock_Shadow";
export const LANDMARKS =
  "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y";

/**
 * CelebA's five annotation files for `images` (`000001` ...), written as the release writes
 * them: CRLF line ends, a count line and a header line in the list_* files, values padded with
 * runs of spaces. Identity of image i: 100 + (i % 7); partition: by position, as CelebA's
 * (train first, then validation, then test).
 */
export async function writeCelebaAnnotations(dir: string, images: string[]) {
  await mkdir(join(dir, "Anno"), { recursive: true });
  await mkdir(join(dir, "Eval"), { recursive: true });
  const line = (parts: (string | number)[]) => parts.map((p) => String(p).padStart(4)).join(" ");
  const n = images.length;
  await writeFile(
    join(dir, "Anno/identity_CelebA.txt"),
    images.map((image, i) => `${image}.jpg ${100 + (i % 7)}\r\n`).join(""),
  );
  await writeFile(
    join(dir, "Eval/list_eval_partition.txt"),
    images.map((image, i) => `${image}.jpg ${i < n * 0.6 ? 0 : i < n * 0.8 ? 1 : 2}\r\n`).join(""),
  );
  await writeFile(
    join(dir, "Anno/list_attr_celeba.txt"),
    `${n}\r\n${ATTRIBUTES.join(" ")} \r\n${images
      .map(
        (image, i) =>
          `${image}.jpg ${line(ATTRIBUTES.map((_, a) => ((i + a) % 3 === 0 ? 1 : -1)))}\r\n`,
      )
      .join("")}`,
  );
  await writeFile(
    join(dir, "Anno/list_bbox_celeba.txt"),
    `${n}\r\nimage_id x_1 y_1 width height\r\n${images
      .map((image, i) => `${image}.jpg ${line([i, i + 1, 40, 50])}\r\n`)
      .join("")}`,
  );
  await writeFile(
    join(dir, "Anno/list_landmarks_celeba.txt"),
    `${n}\r\n${LANDMARKS}\r\n${images
      .map((image, i) => `${image}.jpg ${line(Array.from({ length: 10 }, (_, k) => i + k))}\r\n`)
      .join("")}`,
  );
}

/**
 * A CelebA-like input of `count` images (`000001` ...): `img_celeba/` photos and
 * `celeba_masks/..._mask.png` masks, each side a zip, in a fresh temp folder.
 */
export async function celeba(count: number) {
  const dir = await tempDir();
  const images = Array.from({ length: count }, (_, i) => String(i + 1).padStart(6, "0"));
  const files = await corpusFiles({
    keys: images,
    photoPrefix: "img_celeba/",
    maskPrefix: "celeba_masks/",
    maskSuffix: "_mask",
    size: 48,
  });
  return {
    dir,
    images,
    photos: await writeArchive(dir, "img_celeba", "zip", files.photos),
    masks: await writeArchive(dir, "celeba_masks", "zip", files.masks),
  };
}
