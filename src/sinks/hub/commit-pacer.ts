import { setTimeout as sleep } from "node:timers/promises";

/** Commits per hour and the burst allowed above that pace. */
export interface CommitPace {
  perHour: number;
  burst: number;
}

/**
 * The Hub limits commits per repo and hour (128/h seen in its error messages). A token bucket
 * of `burst` commits refilled at `perHour` keeps any hour under burst + perHour: 20 + 100 by
 * default, so even a run of many small shards never meets the limit.
 */
export const COMMIT_PACE: CommitPace = { perHour: 100, burst: 20 };

export class CommitPacer {
  private tokens: number;
  private last: number;

  constructor(
    private readonly pace: CommitPace = COMMIT_PACE,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = pace.burst;
    this.last = now();
  }

  /** Milliseconds until the next commit may start (0 when it may start now). */
  delayMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) * 3_600_000) / this.pace.perHour;
  }

  /** Waits for a commit's turn and takes it. */
  async take(signal?: AbortSignal): Promise<void> {
    for (let wait = this.delayMs(); wait > 0; wait = this.delayMs()) {
      await sleep(wait, undefined, signal === undefined ? undefined : { signal });
    }
    this.tokens -= 1;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(
      this.pace.burst,
      this.tokens + ((now - this.last) * this.pace.perHour) / 3_600_000,
    );
    this.last = now;
  }
}
