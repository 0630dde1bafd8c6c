import { MaskpipeError } from "../core/errors.js";

/** What `--holdout` takes, as every message about it says it. */
const EXPECTED =
  "a share of identities: a percent between 0% and 100% (5%) or a fraction between 0 and 1 (0.05)";

/**
 * The held-out share as a percent (0-100) from `5%` or a fraction `0.05` (string or number).
 * A bare number of 1 or more is refused, not read as a percent: `--holdout 0.05` read as 0.05%
 * held out nothing on a small data set and said so nowhere.
 */
export function holdoutPercent(name: string, value: number | string): number {
  const text = String(value).trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  const fraction = /^\d*\.?\d+$/.test(text) ? Number(text) : Number.NaN;
  // 0.07 * 100 is 7.000000000000001: round away the binary noise, keep real decimals.
  const share = percent !== null ? Number(percent[1]) : Number((fraction * 100).toPrecision(12));
  if (share > 0 && share < 100) return share;
  const hint =
    fraction >= 1 ? `: write ${fraction}% for ${fraction} percent (a fraction is below 1)` : "";
  throw new MaskpipeError(
    "ERR_INVALID_OPTION",
    `Expected ${EXPECTED} for ${name} but received ${JSON.stringify(value)}${hint}`,
  );
}
