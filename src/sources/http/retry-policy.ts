/**
 * When and how often a failed HTTP request is tried again: one policy object, defaults written
 * out, used by the one retrying dispatcher every HTTP source goes through.
 */
export interface RetryPolicy {
  /** Tries after the first. */
  retries: number;
  /** Delay before the first retry; doubled (times `factor`) for each further one. */
  minDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** Each delay is moved by up to this fraction either way, so clients do not retry in step. */
  jitter: number;
  /** Replies that are tried again (a Retry-After header sets the delay). */
  statusCodes: number[];
  /** Connection failures and timeouts that are tried again. */
  errorCodes: string[];
}

export const RETRY_DEFAULTS: RetryPolicy = {
  retries: 5,
  minDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.2,
  statusCodes: [408, 429, 500, 502, 503, 504],
  errorCodes: [
    "ECONNRESET",
    "ECONNREFUSED",
    "ENOTFOUND",
    "ENETDOWN",
    "ENETUNREACH",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "EPIPE",
    "ETIMEDOUT",
    "UND_ERR_SOCKET",
    "UND_ERR_CONNECT_TIMEOUT",
    "UND_ERR_HEADERS_TIMEOUT",
    "UND_ERR_BODY_TIMEOUT",
    "UND_ERR_CLOSED",
  ],
};

/**
 * Whether a failed request is tried again: a reply whose status the policy lists, or a
 * connection failure whose code it lists, anywhere in the error's cause chain (fetch wraps
 * them in "fetch failed").
 */
export function isRetryable(policy: RetryPolicy, failure: unknown): boolean {
  const status = (failure as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === "number") return policy.statusCodes.includes(status);
  for (let cause = failure; cause instanceof Error; cause = cause.cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== undefined && policy.errorCodes.includes(code)) return true;
  }
  return false;
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), if any. */
export function retryAfterMs(
  header: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The wait before retry number `attempt` (1-based): Retry-After if given, else backoff with jitter. */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfter: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, policy.maxDelayMs);
  const base = Math.min(policy.minDelayMs * policy.factor ** (attempt - 1), policy.maxDelayMs);
  return Math.max(0, Math.round(base * (1 + policy.jitter * (2 * random() - 1))));
}
