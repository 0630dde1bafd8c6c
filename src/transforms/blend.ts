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
  // Most mask pixels are fully transparent. Read as little-endian int32 (alpha in the top
  // byte), four pixels are all transparent when the top byte of their OR is zero: one test
  // skips four pixels. The colour comes from the same word, so the mask bytes are read once.
  const m32 =
    m.byteOffset % 4 === 0
      ? new Int32Array(m.buffer, m.byteOffset, mask.width * mask.height)
      : new Int32Array(new Uint8Array(m).buffer);
  for (let y = 0; y < rows; y++) {
    const rowStart = y * mask.width;
    const rowEnd = rowStart + columns;
    const photoRow = y * photo.width * 3 - rowStart * 3;
    let mp = rowStart;
    while (mp < rowEnd) {
      if (
        mp + 4 <= rowEnd &&
        (m32[mp]! | m32[mp + 1]! | m32[mp + 2]! | m32[mp + 3]!) >>> 24 === 0
      ) {
        mp += 4; // 0 * mask + 1 * photo == photo
        continue;
      }
      const v = m32[mp]!;
      const a = v >>> 24;
      const pi = photoRow + mp * 3;
      mp++;
      if (a === 0) continue;
      const r = v & 255;
      const g = (v >> 8) & 255;
      const b = (v >> 16) & 255;
      if (a === 255) {
        // 1 * mask + 0 * photo == mask
        p[pi] = r;
        p[pi + 1] = g;
        p[pi + 2] = b;
        continue;
      }
      const alpha = ALPHA[a]!;
      const rest = ONE_MINUS_ALPHA[a]!;
      // Results lie in [0, 255], so `| 0` truncates exactly as the uint8 store does.
      p[pi] = (alpha * r + rest * p[pi]!) | 0;
      p[pi + 1] = (alpha * g + rest * p[pi + 1]!) | 0;
      p[pi + 2] = (alpha * b + rest * p[pi + 2]!) | 0;
    }
  }
}
