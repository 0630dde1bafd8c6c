import { Writable } from "node:stream";
import type { Sample } from "../../src/core/sample.js";

/** A ready-made sample for sink and naming tests: 1x1, member paths derived from the key. */
export function sampleOf(key: string, image: Buffer, extra: Partial<Sample> = {}): Sample {
  return {
    key,
    photo: { archive: "p", path: `p/${key}.jpg` },
    mask: { archive: "m", path: `m/${key}.png` },
    width: 1,
    height: 1,
    maskWidth: 1,
    maskHeight: 1,
    extension: "jpg",
    image,
    ...extra,
  };
}

/** A sink that takes 2 ms per sample, one at a time, and calls `onWrite` as each arrives. */
export function slowSink(onWrite: () => void): Writable {
  return new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(_sample, _encoding, callback) {
      onWrite();
      setTimeout(() => callback(), 2);
    },
  });
}
