/** One thing wrong with an output, named by shard and member where it has one. */
export interface VerifyProblem {
  shard?: string;
  member?: string;
  message: string;
}

/** What `verifyOutput` checked, and what it found wrong. */
export interface VerifyReport {
  where: string;
  shards: number;
  samples: number;
  bytes: number;
  /** Images decoded (`decode`). */
  decoded: number;
  /** Samples found per split (`train` ... ; "" without splits). */
  samplesBySplit: Record<string, number>;
  /** What was checked, one line each. */
  checked: string[];
  problems: VerifyProblem[];
}

export function emptyReport(where: string): VerifyReport {
  return {
    where,
    shards: 0,
    samples: 0,
    bytes: 0,
    decoded: 0,
    samplesBySplit: {},
    checked: [],
    problems: [],
  };
}
