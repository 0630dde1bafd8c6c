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
  | "changed" // a different ETag from now on
  | "stall"; // sends headers, then nothing for longer than the client's timeout

export interface TestServer {
  url(name: string): string;
  requests: number;
  rangeRequests: number;
  /** Headers of the last request, to check what clients send. */
  lastHeaders: Record<string, string | string[] | undefined>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 (port 0) serving files with Range support, scripted to fail:
 * `fault(n, path)` says what to do with the n-th request. Closed by the test that starts it.
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
  const state = { requests: 0, rangeRequests: 0, lastHeaders: {} as IncomingMessage["headers"] };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    state.requests++;
    state.lastHeaders = request.headers;
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const body = contents.get(path);
    if (body === undefined) {
      // What the Hub answers for a missing file in an existing repo.
      response.writeHead(404, { "x-error-code": "EntryNotFound" }).end();
      return;
    }
    const what = fault(state.requests, path);
    if (what === "503" || what === "429") {
      response.writeHead(Number(what), { "retry-after": "0" }).end();
      return;
    }
    if (what === "changed") etagVersion++;
    const headers = {
      etag: `"v${etagVersion}"`,
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
      status = 206;
      slice = body.subarray(start, end + 1);
      extra = { "content-range": `bytes ${start}-${end}/${body.length}` };
    }
    response.writeHead(status, { ...headers, ...extra, "content-length": String(slice.length) });
    if (what === "drop-mid-body" && slice.length > 1) {
      response.write(slice.subarray(0, slice.length >> 1), () => response.socket?.destroy());
    } else if (what === "stall") {
      response.flushHeaders();
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
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
