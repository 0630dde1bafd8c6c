import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename } from "node:path";

/** What the server does with request number `n` (1-based, counting every request). */
export type Fault =
  | "none"
  | "drop-mid-body" // sends half the body, then destroys the socket
  | "503" // 503 with Retry-After: 0
  | "429" // 429 with Retry-After: 0
  | "ignore-range" // answers 200 with the whole file
  | "changed" // a different ETag from now on (If-Match with the old one gets 412)
  | "replaced" // another file from now on: new ETag, other bytes, If-Match ignored
  | "stall" // sends headers, then nothing for longer than the client's timeout
  | "close" // answers with Connection: close and ends the connection after the body
  | "endless" // 200 without a length, then bytes that never end
  | "long-length" // a Content-Length 1,000 bytes past the body, then nothing more
  | "hold"; // a whole body (not a range): 90% of it, the rest once the test calls release()

export interface TestServer {
  url(name: string): string;
  requests: number;
  rangeRequests: number;
  /** Sends the rest of every body held back ("hold"), and of those asked for from now on. */
  release(): void;
  /** Headers of the last request, to check what clients send. */
  lastHeaders: Record<string, string | string[] | undefined>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 (port 0) serving files with Range and If-Match support,
 * scripted to fail: `fault(n, path)` says what to do with the n-th request. Closed by the test
 * that starts it.
 */
export async function startFileServer(
  files: string[],
  fault: (n: number, path: string) => Fault = () => "none",
  /** More URL paths to serve, e.g. the Hub's `/datasets/{repo}/resolve/{rev}/{path}`. */
  routes: Record<string, string> = {},
): Promise<TestServer> {
  const contents = new Map<string, Buffer>();
  for (const file of files) contents.set(`/${basename(file)}`, await readFile(file));
  for (const [route, file] of Object.entries(routes)) contents.set(route, await readFile(file));
  let etagVersion = 1;
  let replaced = false;
  const state = {
    requests: 0,
    rangeRequests: 0,
    lastHeaders: {} as IncomingMessage["headers"],
    released: false,
    held: [] as (() => void)[],
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    state.requests++;
    state.lastHeaders = request.headers;
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const what = fault(state.requests, path);
    if (what === "replaced") replaced = true;
    const original = contents.get(path);
    // The replacement: as long again and then some, so its size differs too.
    const body = replaced && original ? Buffer.concat([original, original]) : original;
    if (body === undefined) {
      // What the Hub answers for a missing file in an existing repo.
      response.writeHead(404, { "x-error-code": "EntryNotFound" }).end();
      return;
    }
    if (what === "503" || what === "429") {
      response.writeHead(Number(what), { "retry-after": "0" }).end();
      return;
    }
    if (what === "changed" || what === "replaced") etagVersion++;
    const etag = `"v${etagVersion}"`;
    const ifMatch = request.headers["if-match"];
    if (ifMatch !== undefined && ifMatch !== etag && !replaced) {
      response.writeHead(412).end();
      return;
    }
    if (what === "endless") {
      response.writeHead(200, { etag });
      const junk = Buffer.alloc(64 * 1024, 0x42);
      const more = () => {
        while (!response.destroyed && response.write(junk));
      };
      response.on("drain", more);
      more();
      return;
    }
    const headers = {
      etag,
      "accept-ranges": "bytes",
      "last-modified": "Fri, 01 Jan 2021 00:00:00 GMT",
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
    let status = 200;
    let slice = body;
    let extra: Record<string, string> = {};
    if (range !== null && what !== "ignore-range") {
      state.rangeRequests++;
      const start = Number(range[1]);
      const end = range[2] === "" ? body.length - 1 : Math.min(Number(range[2]), body.length - 1);
      if (start > end) {
        response.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
      slice = body.subarray(start, end + 1);
      extra = { "content-range": `bytes ${start}-${end}/${body.length}` };
    }
    const length = slice.length + (what === "long-length" ? 1000 : 0);
    if (what === "close") extra.connection = "close";
    response.writeHead(status, { ...headers, ...extra, "content-length": String(length) });
    if (what === "long-length") {
      response.write(slice);
    } else if (what === "drop-mid-body" && slice.length > 1) {
      response.write(slice.subarray(0, slice.length >> 1), () => response.socket?.destroy());
    } else if (what === "stall") {
      response.flushHeaders();
    } else if (what === "hold" && !state.released && status === 200) {
      const cut = Math.floor(slice.length * 0.9);
      response.write(slice.subarray(0, cut));
      state.held.push(() => response.end(slice.subarray(cut)));
    } else {
      response.end(slice);
    }
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    get requests() {
      return state.requests;
    },
    get rangeRequests() {
      return state.rangeRequests;
    },
    get lastHeaders() {
      return state.lastHeaders;
    },
    release: () => {
      state.released = true;
      for (const send of state.held.splice(0)) send();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
