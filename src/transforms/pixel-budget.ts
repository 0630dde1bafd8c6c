/**
 * Pixels being decoded, blended and encoded at once, across the images in flight: a pair waits
 * until its pixels fit, first come first served. A pair larger than the whole budget runs alone.
 * So memory follows the budget, not the images in flight times the largest image.
 */
export class PixelBudget {
  private used = 0;
  private readonly waiting: { pixels: number; start: () => void }[] = [];

  constructor(readonly limit: number) {}

  /** Waits until `pixels` fit, takes them; call the returned function to give them back. */
  async take(pixels: number): Promise<() => void> {
    const wanted = Math.min(pixels, this.limit);
    if (this.waiting.length > 0 || this.used + wanted > this.limit) {
      await new Promise<void>((start) => this.waiting.push({ pixels: wanted, start }));
    } else {
      this.used += wanted;
    }
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used -= wanted;
      this.next();
    };
  }

  /** Pixels taken now. */
  get inUse(): number {
    return this.used;
  }

  private next(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.pixels <= this.limit) {
      const first = this.waiting.shift()!;
      this.used += first.pixels;
      first.start();
    }
  }
}
