/**
 * Makes the embedded sample under sample/: CASIA-like identity folders of synthetic 250x250
 * faces, the photos as a zip and the masks as a tar, so `npm start` shows the whole pipeline on
 * a fresh clone. Deterministic: running it again gives the same files. Run: npm run make-sample
 */
import { mkdir } from "node:fs/promises";
import { type ArchiveFile, writeTar, writeZip } from "./archives.js";
import { maskPng, photoJpeg } from "./synthetic.js";

const IDENTITIES = ["0000045", "0000099", "0000102", "0000107"];
const PER_IDENTITY = 9;
const SIZE = 250;

const photos: ArchiveFile[] = [{ name: "CASIA-WebFace/", directory: true }];
const masks: ArchiveFile[] = [];
let seed = 1;
for (const identity of IDENTITIES) {
  photos.push({ name: `CASIA-WebFace/${identity}/`, directory: true });
  for (let n = 1; n <= PER_IDENTITY; n++, seed++) {
    const file = String(n).padStart(3, "0");
    const gray = seed % 11 === 0;
    photos.push({
      name: `CASIA-WebFace/${identity}/${file}.jpg`,
      data: await photoJpeg({ seed, width: SIZE, height: SIZE, gray }),
    });
    // About 1 in 12 photos has no mask, as in the real data sets (90-97% coverage).
    if (seed % 12 === 5) continue;
    // One mask drawn larger than its photo: the overlay clips it, as the reference does.
    const maskSize = seed === 7 ? SIZE + 14 : SIZE;
    masks.push({
      name: `CASIA-WebFace_masks/${identity}/${file}.png`,
      data: await maskPng({ seed, width: maskSize, height: maskSize }),
    });
  }
}
// A mask whose photo is missing, and members that are not images: all counted, none fatal.
masks.push({
  name: "CASIA-WebFace_masks/0000107/042.png",
  data: await maskPng({ seed: 999, width: SIZE, height: SIZE }),
});
photos.push({
  name: "CASIA-WebFace/README.txt",
  data: Buffer.from("synthetic sample for maskpipe\n"),
});
photos.push({ name: "__MACOSX/CASIA-WebFace/._0000045", data: Buffer.from("resource fork") });

await mkdir("sample", { recursive: true });
await writeZip("sample/sample-photos.zip", photos);
await writeTar("sample/sample-masks.tar", masks.reverse());
console.log(`sample/: ${photos.length} zip members, ${masks.length} tar members`);
