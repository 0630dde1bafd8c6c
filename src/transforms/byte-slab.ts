/**
 * Hands out views of large shared allocations. Each ArrayBuffer V8 tracks adds to its GC work
 * (external memory accounting, finalisers); one new 85 KB buffer per image cost about 0.4 ms of
 * GC per image on CelebA-sized photos. A slab is freed when the last view into it is, so a
 * caller that keeps one sample keeps its slab (at most 4 MiB).
 */
export class ByteSlab {
  private slab = Buffer.alloc(0);
  private used = 0;

  constructor(private readonly slabBytes = 4 * 2 ** 20) {}

  /** `length` bytes nobody else holds (not zeroed: the caller fills them). */
  take(length: number): Buffer {
    if (this.used + length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(this.slabBytes, length));
      this.used = 0;
    }
    const view = this.slab.subarray(this.used, this.used + length);
    this.used += (length + 7) & ~7; // keep views 8-byte aligned
    return view;
  }
}
