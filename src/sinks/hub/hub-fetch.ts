import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import {
  isRetryable,
  RETRY_DEFAULTS,
  type RetryPolicy,
  retryAfterMs,
  retryDelayMs,
} from "../../sources/http/retry-policy.js";

/** What the Hub client's requests cost: the figures the run's report shows. */
export interface HubFetchStats {
  requests: number;
  retries: number;
  bytesUploaded: number;
}

export interface HubFetch {
  fetch: typeof fetch;
  stats: HubFetchStats;
}

/**
 * The fetch handed to @huggingface/hub. Two things the client does not do itself:
 * - Blob bodies (shard uploads) are streamed through node:http(s): on Node 20 the built-in
 *   fetch holds a whole request body in memory while sending it.
 * - 429, 5xx and dropped connections are tried again with the same backoff as the sources
 *   (Retry-After honoured). Every body the client sends is a string or a Blob, so it can be
 *   sent again.
 */
export function hubFetch(policy: RetryPolicy = RETRY_DEFAULTS): HubFetch {
  const stats: HubFetchStats = { requests: 0, retries: 0, bytesUploaded: 0 };
  const send = async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    stats.requests++;
    if (init?.body instanceof Blob) {
      const response = await streamBlob(urlOf(input), init, init.body);
      stats.bytesUploaded += init.body.size;
      return response;
    }
    return fetch(input, init);
  };
  const retrying = async (
    input: Parameters<typeof fetch>[0],
    init?: RequestInit,
  ): Promise<Response> => {
    for (let attempt = 1; ; attempt++) {
      const last = attempt > policy.retries;
      let response: Response;
      try {
        response = await send(input, init);
      } catch (error) {
        if (last || !isRetryable(policy, error) || init?.signal?.aborted === true) throw error;
        stats.retries++;
        await sleep(retryDelayMs(policy, attempt, undefined), undefined, {
          signal: init?.signal ?? undefined,
        });
        continue;
      }
      if (last || !isRetryable(policy, { statusCode: response.status })) return response;
      await response.body?.cancel();
      stats.retries++;
      const wait = retryAfterMs(response.headers.get("retry-after") ?? undefined);
      await sleep(retryDelayMs(policy, attempt, wait), undefined, {
        signal: init?.signal ?? undefined,
      });
    }
  };
  return { fetch: retrying as typeof fetch, stats };
}

function urlOf(input: Parameters<typeof fetch>[0]): URL {
  if (input instanceof URL) return input;
  return new URL(typeof input === "string" ? input : input.url);
}

/** Sends a Blob body chunk by chunk with a Content-Length, and reads the (small) reply. */
async function streamBlob(url: URL, init: RequestInit, body: Blob): Promise<Response> {
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  headers["content-length"] = String(body.size);
  const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
    method: init.method ?? "PUT",
    headers,
    signal: init.signal ?? undefined,
  });
  const replied = new Promise<IncomingMessage>((resolve, reject) => {
    request.once("response", resolve);
    request.once("error", reject);
  });
  // A server may answer (an error) before taking the whole body: the reply decides then.
  const sent = pipeline(Readable.fromWeb(body.stream() as never), request).catch(() => {});
  const reply = await replied;
  const chunks: Buffer[] = [];
  for await (const chunk of reply) chunks.push(chunk as Buffer);
  await sent;
  const replyHeaders = new Headers();
  for (const [name, value] of Object.entries(reply.headers)) {
    if (value !== undefined)
      replyHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const status = reply.statusCode ?? 502;
  return new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
    status,
    statusText: reply.statusMessage ?? "",
    headers: replyHeaders,
  });
}
