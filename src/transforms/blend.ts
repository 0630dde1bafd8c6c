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
  for (let y = 0; y < rows; y++) {
    let pi = y * photo.width * 3;
    let mi = y * mask.width * 4;
    for (let x = 0; x < columns; x++, pi += 3, mi += 4) {
      const a = m[mi + 3]!;
      if (a === 0) continue; // 0 * mask + 1 * photo == photo
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
