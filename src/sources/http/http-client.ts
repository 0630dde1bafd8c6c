import { type Readable, Transform } from "node:stream";
import { Agent, type Dispatcher, interceptors, RetryAgent, request } from "undici";
import { MaskpipeError } from "../../core/errors.js";
import { redactUrl } from "../../core/redact.js";
import { finishBodyInterceptor } from "./finish-body-interceptor.js";
import {
  checkVersion,
  fileChanged,
  header,
  ifMatch,
  type PinnedVersion,
  type Validator,
} from "./remote-version.js";
import {
  isRetryable,
  RETRY_DEFAULTS,
  type RetryPolicy,
  retryAfterMs,
  retryDelayMs,
} from "./retry-policy.js";

export interface HttpOptions {
  /** Extra request headers (e.g. Authorization); never written to logs, errors or reports. */
  headers?: Record<string, string>;
  retry?: Partial<RetryPolicy>;
  /** Milliseconds to wait for a reply's headers, and between two chunks of its body. Default 60 s. */
  timeoutMs?: number;
  /** Connections kept open per server. Default 8. */
  connections?: number;
}

export const HTTP_DEFAULTS = { timeoutMs: 60_000, connections: 8 } as const;

/**
 * How long close() waits for replies still open before it cuts them: a body nobody reads any
 * more (a reader that stopped early) would hold a graceful close forever, and a process whose
 * last await never settles exits 13 without a word.
 */
const CLOSE_GRACE_MS = 1000;

/** What one HTTP source cost, for the report. */
export interface HttpStats {
  requests: number;
  retries: number;
  bytes: number;
}

function answered(status: number): string {
  return `answered ${status}${status === 404 ? " (not found)" : ""}`;
}

/**
 * undici with the retry policy composed around its dispatcher (RetryAgent: backoff with jitter,
 * Retry-After, broken bodies resumed with a Range request) and a counter of real requests. All
 * HTTP in maskpipe goes through one of these.
 */
export class HttpClient {
  readonly stats: HttpStats = { requests: 0, retries: 0, bytes: 0 };
  private readonly headers: Record<string, string>;
  private readonly agent: Agent;
  private readonly dispatcher: Dispatcher;

  constructor(options: HttpOptions = {}) {
    const policy: RetryPolicy = { ...RETRY_DEFAULTS, ...options.retry };
    const timeout = options.timeoutMs ?? HTTP_DEFAULTS.timeoutMs;
    this.headers = { ...options.headers };
    this.agent = new Agent({
      connections: options.connections ?? HTTP_DEFAULTS.connections,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connectTimeout: timeout,
    });
    // Hub and object-store URLs redirect to a CDN; undici drops Authorization on the way
    // to another origin.
    const counted = this.agent.compose(
      finishBodyInterceptor(),
      (dispatch) => (opts, handler) => {
        this.stats.requests++;
        return dispatch(opts, handler);
      },
      interceptors.redirect({ maxRedirections: 5 }),
    );
    const stats = this.stats;
    this.dispatcher = new RetryAgent(counted, {
      maxRetries: policy.retries,
      methods: ["GET", "HEAD"],
      statusCodes: policy.statusCodes,
      errorCodes: policy.errorCodes,
      retry(error, { state }, callback) {
        const failure = error as Error & { headers?: Record<string, string | string[]> };
        if (!isRetryable(policy, failure) || state.counter > policy.retries) {
          callback(error);
          return;
        }
        stats.retries++;
        const delay = retryDelayMs(
          policy,
          state.counter,
          retryAfterMs(failure.headers?.["retry-after"]),
        );
        setTimeout(() => callback(null), delay);
      },
    });
  }

  private failure(url: string, what: string, cause?: unknown): MaskpipeError {
    const detail = cause instanceof Error ? `: ${cause.message}` : "";
    return new MaskpipeError("ERR_HTTP", `${redactUrl(url)}: ${what}${detail}`, {
      archive: redactUrl(url),
      cause,
    });
  }

  private async send(url: string, headers: Record<string, string>, signal?: AbortSignal) {
    try {
      return await request(url, {
        method: "GET",
        headers: { ...this.headers, ...headers },
        dispatcher: this.dispatcher,
        signal,
      });
    } catch (cause) {
      if ((cause as Error)?.name === "AbortError") throw cause;
      const status = (cause as { statusCode?: number }).statusCode;
      throw this.failure(
        url,
        status === undefined ? "request failed after retries" : `answered ${status} after retries`,
        cause,
      );
    }
  }

  /**
   * Size, validator and Range support from one 1-byte ranged GET (works where HEAD is refused,
   * as with presigned object-store URLs).
   */
  async probe(
    url: string,
    signal?: AbortSignal,
  ): Promise<{ size: number; validator: Validator; ranges: boolean }> {
    const reply = await this.send(url, { range: "bytes=0-0" }, signal);
    const validator = {
      etag: header(reply.headers, "etag"),
      lastModified: header(reply.headers, "last-modified"),
    };
    if (reply.statusCode === 206) {
      await reply.body.dump();
      const total = /\/(\d+)$/.exec(header(reply.headers, "content-range") ?? "")?.[1];
      if (total === undefined)
        throw this.failure(url, "206 reply without a total size in Content-Range");
      return { size: Number(total), validator, ranges: true };
    }
    await reply.body.dump();
    if (reply.statusCode === 200) {
      const length = Number(header(reply.headers, "content-length") ?? Number.NaN);
      return { size: Number.isFinite(length) ? length : -1, validator, ranges: false };
    }
    throw this.failure(url, answered(reply.statusCode));
  }

  /** Bytes [start, start + length) of the file, proven to be that range of that version. */
  async range(
    url: string,
    start: number,
    length: number,
    pinned: PinnedVersion,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const end = start + length - 1;
    const reply = await this.send(
      url,
      { range: `bytes=${start}-${end}`, ...ifMatch(pinned) },
      signal,
    );
    await this.sameVersion(url, pinned, reply);
    if (reply.statusCode !== 206) {
      await reply.body.dump();
      throw new MaskpipeError(
        "ERR_HTTP_RANGE",
        `${redactUrl(url)}: asked for bytes ${start}-${end} but the server answered ${reply.statusCode}${reply.statusCode === 200 ? " with the whole file: it does not support Range requests, which reading a zip in place needs; download the zip first or serve it from a server that supports Range" : ""}`,
        { archive: redactUrl(url) },
      );
    }
    const contentRange = header(reply.headers, "content-range") ?? "";
    const match = /^bytes (\d+)-(\d+)\//.exec(contentRange);
    if (match === null || Number(match[1]) !== start || Number(match[2]) !== end) {
      await reply.body.dump();
      throw new MaskpipeError(
        "ERR_HTTP_RANGE",
        `${redactUrl(url)}: asked for bytes ${start}-${end} but the reply's Content-Range is "${contentRange}"`,
        { archive: redactUrl(url) },
      );
    }
    const data = Buffer.from(await reply.body.arrayBuffer());
    if (data.length !== length) {
      throw this.failure(
        url,
        `bytes ${start}-${end}: received ${data.length} bytes instead of ${length}`,
      );
    }
    this.stats.bytes += data.length;
    return data;
  }

  /**
   * The whole file as a stream; a body cut off mid-way is resumed from the last byte. With
   * `pinned`, the reply must be that version (If-Match, ETag, size), or ERR_HTTP_CHANGED.
   */
  async stream(url: string, signal?: AbortSignal, pinned?: PinnedVersion): Promise<Readable> {
    const reply = await this.send(url, ifMatch(pinned), signal);
    if (pinned !== undefined) await this.sameVersion(url, pinned, reply);
    if (reply.statusCode !== 200) {
      await reply.body.dump();
      throw this.failure(url, answered(reply.statusCode));
    }
    const stats = this.stats;
    const body = reply.body;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        stats.bytes += chunk.length;
        callback(null, chunk);
      },
      // A reader that stops early (a limit, a failure elsewhere) destroys this stream: the
      // download stops with it. Left open, the body held its connection, close() waited for it
      // and the process exited 13 with nothing said.
      destroy(error, callback) {
        body.destroy();
        callback(error);
      },
    });
    body.on("error", (error) => counted.destroy(this.bodyFailure(url, error)));
    body.pipe(counted);
    return counted;
  }

  /** Why a download stopped mid-body, once the retries were spent, as an error naming the URL. */
  private bodyFailure(url: string, cause: Error): MaskpipeError {
    if (cause instanceof MaskpipeError) return cause;
    // undici's retry resumes a cut body with a Range request and checks the reply.
    if (/ETag mismatch/.test(cause.message))
      return fileChanged(url, "another ETag when the download resumed");
    if (/does not support the range header/.test(cause.message)) {
      return new MaskpipeError(
        "ERR_HTTP_RANGE",
        `${redactUrl(url)}: the download broke off and cannot resume: the server does not answer Range requests. Run again, or download the file first`,
        { archive: redactUrl(url), cause },
      );
    }
    return this.failure(url, "the download broke off", cause);
  }

  /** Throws ERR_HTTP_CHANGED, its body discarded, when the reply is not of the pinned version. */
  private async sameVersion(
    url: string,
    pinned: PinnedVersion,
    reply: Dispatcher.ResponseData,
  ): Promise<void> {
    try {
      checkVersion(url, pinned, reply.statusCode, reply.headers);
    } catch (error) {
      await reply.body.dump();
      throw error;
    }
  }

  /** Ends every connection: gracefully, or cut after CLOSE_GRACE_MS. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    try {
      await Promise.race([this.agent.close(), grace.then(() => this.agent.destroy())]);
    } finally {
      clearTimeout(timer);
    }
  }
}
