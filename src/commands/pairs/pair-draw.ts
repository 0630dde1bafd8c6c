/** Misses in a row after which drawing at random gives way to listing what is left. */
const MAX_MISSES = 2000;
/** Items this few have their pairs listed at once: drawing would mostly miss. */
const LISTED_BELOW = 24;

/**
 * Distinct unordered pairs of `items` (never an item with itself, never a pair twice) that
 * `fits` accepts, drawn at random; once draws keep missing (few fitting pairs left), the rest
 * are listed and handed out in a shuffled order, so `next` returns `undefined` exactly when
 * none is left.
 */
export class PairDraw {
  private readonly used = new Set<number>();
  private rest: number[] | undefined;

  constructor(
    private readonly items: readonly number[],
    private readonly fits: (a: number, b: number) => boolean,
    private readonly random: () => number,
    /** Above every item: pairs are numbered `a * span + b`. */
    private readonly span: number,
  ) {}

  next(): [number, number] | undefined {
    const { items, random, span } = this;
    if (this.rest === undefined && items.length >= LISTED_BELOW) {
      for (let misses = 0; misses < MAX_MISSES; misses++) {
        const i = items[Math.floor(random() * items.length)]!;
        const j = items[Math.floor(random() * items.length)]!;
        const [a, b] = i < j ? [i, j] : [j, i];
        if (a === b || this.used.has(a * span + b) || !this.fits(a, b)) continue;
        this.used.add(a * span + b);
        return [a, b];
      }
    }
    this.rest ??= this.listRest();
    const pair = this.rest.pop();
    return pair === undefined ? undefined : [Math.floor(pair / span), pair % span];
  }

  /** Every fitting pair not handed out yet, shuffled. */
  private listRest(): number[] {
    const { items, span } = this;
    const rest: number[] = [];
    for (let x = 0; x < items.length; x++) {
      for (let y = x + 1; y < items.length; y++) {
        const [a, b] = items[x]! < items[y]! ? [items[x]!, items[y]!] : [items[y]!, items[x]!];
        if (!this.used.has(a * span + b) && this.fits(a, b)) rest.push(a * span + b);
      }
    }
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [rest[i], rest[j]] = [rest[j]!, rest[i]!];
    }
    return rest;
  }
}
