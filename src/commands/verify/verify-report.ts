/** One thing wrong with an output, named by shard and member where it has one. */
export interface VerifyProblem {
  shard?: string;
  member?: string;
  message: string;
}

/** What a proof against the inputs (`verify --inputs`) compared. */
export interface InputProof {
  /** Samples chosen from the output. */
  chosen: number;
  /** Samples whose every compared member is what the inputs give, byte for byte. */
  samples: number;
  /** Members compared and found equal. */
  members: number;
  /** Members not compared, and why (labels that cannot be re-derived). */
  unproved: { members: number; why?: string };
  /** Where each input was opened from (as shown: URLs redacted), and what reading it cost. */
  inputs: { originals: string; masks: string };
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
  /** With `inputs`: the samples re-derived from the run's inputs and compared byte for byte. */
  proof?: InputProof;
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
