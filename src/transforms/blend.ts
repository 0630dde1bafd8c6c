/** Raw 8-bit pixels, channels interleaved, rows top to bottom. */
export interface RawPixels {
  data: Buffer;
  width: number;
  height: number;
}

// The reference computes alpha = A/255 and (1 - alpha) in float64; these tables hold exactly
// those doubles, so the arithmetic below repeats it operation for operation.
const ALPHA = Float64Array.from({ length: 256 }, (_, a) => a / 255);
const ONE_MINUS_ALPHA = Float64Array.from(ALPHA, (alpha) => 1 - alpha);

/**
 * Blends an RGBA mask over an RGB photo at (0, 0), in place:
 * `out = trunc(A/255 * mask + (1 - A/255) * photo)` per channel, exactly as the reference
 * scripts' numpy code (float64 products, truncated by the uint8 store). Where the mask is larger
 * than the photo it is clipped; where smaller, the photo outside it is unchanged.
 */
export function blendMaskInto(photo: RawPixels, mask: RawPixels): void {
  const rows = Math.min(photo.height, mask.height);
  const columns = Math.min(photo.width, mask.width);
  const p = photo.data;
  const m = mask.data;
  // Most mask pixels are fully transparent. Read as little-endian uint32 (alpha in the top
  // byte), a transparent pixel is any value below 2^24: runs of them are skipped with one
  // compare per pixel instead of byte reads.
  const m32 =
    m.byteOffset % 4 === 0
      ? new Uint32Array(m.buffer, m.byteOffset, mask.width * mask.height)
      : new Uint32Array(new Uint8Array(m).buffer);
  for (let y = 0; y < rows; y++) {
    const rowStart = y * mask.width;
    const rowEnd = rowStart + columns;
    const photoRow = y * photo.width * 3 - rowStart * 3;
    for (let mp = rowStart; mp < rowEnd; mp++) {
      if (m32[mp]! < 0x01000000) continue; // 0 * mask + 1 * photo == photo
      const pi = photoRow + mp * 3;
      const mi = mp * 4;
      const a = m[mi + 3]!;
      if (a === 255) {
        // 1 * mask + 0 * photo == mask
        p[pi] = m[mi]!;
        p[pi + 1] = m[mi + 1]!;
        p[pi + 2] = m[mi + 2]!;
        continue;
      }
      const alpha = ALPHA[a]!;
      const rest = ONE_MINUS_ALPHA[a]!;
      // Results lie in [0, 255], so `| 0` truncates exactly as the uint8 store does.
      p[pi] = (alpha * m[mi]! + rest * p[pi]!) | 0;
      p[pi + 1] = (alpha * m[mi + 1]! + rest * p[pi + 1]!) | 0;
      p[pi + 2] = (alpha * m[mi + 2]! + rest * p[pi + 2]!) | 0;
    }
  }
}
