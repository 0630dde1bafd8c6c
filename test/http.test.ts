import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunOptions } from "../src/run/run-options.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { parseHfUrl } from "../src/sources/hf/hf-url.js";
import { RETRY_DEFAULTS, retryAfterMs, retryDelayMs } from "../src/sources/http/retry-policy.js";
import { runCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { type Fault, startFileServer, type TestServer } from "./support/http-server.js";
import { tempDir, tempDirForFile } from "./support/temp.js";

const casia = { depth: 2, suffixes: ["_mask"] };
const keys = Array.from({ length: 150 }, (_, i) => `00001${i % 5}/${String(i).padStart(3, "0")}`);
const fastRetry = { retry: { minDelayMs: 5, maxDelayMs: 50 } };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup() {
  const dir = await tempDir();
  const { photos, masks } = await corpusFiles({ keys, withoutMask: [keys[3]!], size: 48 });
  return {
    dir,
    photosZip: await writeArchive(dir, "photos", "zip", photos),
    photosTar: await writeArchive(dir, "photos", "tar.gz", photos),
    masksZip: await writeArchive(dir, "masks", "zip", masks),
    masksTar: await writeArchive(dir, "masks", "tar", masks),
  };
}

function run(
  dir: string,
  out: string,
  originals: string,
  masks: string,
  extra: Partial<RunOptions> = {},
) {
  return runPipeline({
    name: "casia",
    originals,
    masks,
    out: join(dir, out),
    photoKeys: casia,
    maskKeys: casia,
    shardMaxCount: 40,
    http: fastRetry,
    ...extra,
  });
}

const hashes = (report: { shards: { sha256: string }[] }) =>
  report.shards.map((shard) => shard.sha256);

describe("remote sources over HTTP", () => {
  it("give the same shards as local files, with few requests for a zip of many members", async () => {
    const c = await setup();
    server = await startFileServer([c.photosZip, c.masksTar, c.masksZip, c.photosTar]);
    const local = await run(c.dir, "local", c.photosZip, c.masksTar);
    const remote = await run(c.dir, "remote", server.url("photos.zip"), server.url("masks.tar"));
    expect(remote.written).toBe(149);
    expect(hashes(remote)).toEqual(hashes(local));
    // 150 photos read as members of a remote zip: the probe, the end record, the directory and
    // a few coalesced spans; for the tar, the probe (its size and ETag for the run identity)
    // and one streaming GET.
    expect(remote.network.originals!.requests).toBeLessThan(10);
    expect(remote.network.masks!.requests).toBe(2);
    expect(remote.network.originals!.bytes).toBeGreaterThan(0);

    const lookups = await run(
      c.dir,
      "lookups",
      server.url("photos.tar.gz"),
      server.url("masks.zip"),
    );
    expect(hashes(lookups)).toEqual(hashes(local));
    expect(lookups.network.masks!.requests).toBeLessThan(12); // partners read 32 at a time
  });

  const faults: [string, (n: number) => Fault][] = [
    ["dropped connections mid-body", (n) => (n % 3 === 0 ? "drop-mid-body" : "none")],
    ["503 and 429 with Retry-After", (n) => (n <= 2 ? "503" : n <= 4 ? "429" : "none")],
  ];
  for (const [label, fault] of faults) {
    it(`survive ${label} without losing or duplicating a sample`, async () => {
      const c = await setup();
      const local = await run(c.dir, "local", c.photosZip, c.masksTar);
      server = await startFileServer([c.photosZip, c.masksTar], fault);
      const remote = await run(c.dir, "remote", server.url("photos.zip"), server.url("masks.tar"));
      expect(hashes(remote)).toEqual(hashes(local));
      const retries = remote.network.originals!.retries + remote.network.masks!.retries;
      expect(retries).toBeGreaterThan(0);
    });
  }

  it("resume a tar download cut off mid-body from the last byte received", async () => {
    const c = await setup();
    const local = await run(c.dir, "local", c.photosZip, c.masksTar);
    let tarRequests = 0;
    const ranges: string[] = [];
    // Request 1 is the 1-byte probe; request 2 streams the body and is cut.
    server = await startFileServer([c.photosZip, c.masksTar], (_n, path) =>
      path === "/masks.tar" && ++tarRequests === 2 ? "drop-mid-body" : "none",
    );
    const remote = await run(c.dir, "remote", c.photosZip, server.url("masks.tar"));
    ranges.push(String(server.lastHeaders.range));
    expect(hashes(remote)).toEqual(hashes(local));
    expect(tarRequests).toBe(3);
    expect(ranges[0]).toMatch(/^bytes=\d+-/); // the second request asked for the rest only
    expect(remote.network.masks!.retries).toBe(1);
  });

  it("refuse a zip from a server that ignores Range, saying why", async () => {
    const c = await setup();
    server = await startFileServer([c.photosZip, c.masksTar], () => "ignore-range");
    await expect(
      run(c.dir, "o", server.url("photos.zip"), server.url("masks.tar")),
    ).rejects.toMatchObject({
      code: "ERR_HTTP_RANGE",
      message: expect.stringContaining("does not answer Range requests"),
    });
  });

  it("stop when the file changes on the server during the run", async () => {
    const c = await setup();
    // The zip's 4th request (after probe, end record and directory) sees a new version.
    let zipRequests = 0;
    server = await startFileServer([c.photosZip, c.masksTar], (_n, path) =>
      path === "/photos.zip" && ++zipRequests === 4 ? "changed" : "none",
    );
    await expect(
      run(c.dir, "o", server.url("photos.zip"), server.url("masks.tar")),
    ).rejects.toMatchObject({
      code: "ERR_HTTP_CHANGED",
      message: expect.stringContaining(
        "/photos.zip: the file changed on the server during the run",
      ),
    });
  });

  it("give up after the last try, naming the URL but never the headers", async () => {
    const c = await setup();
    server = await startFileServer([c.photosZip], () => "503");
    const attempt = run(c.dir, "o", server.url("photos.zip?sig=secret"), c.masksTar, {
      http: {
        retry: { retries: 2, minDelayMs: 1 },
        headers: { authorization: "Bearer hf_topsecret" },
      },
    });
    const error = await attempt.catch((e: Error) => e);
    expect(error).toMatchObject({ code: "ERR_HTTP" });
    expect((error as Error).message).toContain("/photos.zip?…: answered 503 after retries");
    expect((error as Error).message).not.toContain("secret");
    expect(server.requests).toBe(3);
    expect(server.lastHeaders.authorization).toBe("Bearer hf_topsecret");
  });

  it("time out a stalled reply and retry it", async () => {
    const c = await setup();
    server = await startFileServer([c.photosZip, c.masksTar], (n) => (n === 2 ? "stall" : "none"));
    const remote = await run(c.dir, "o", server.url("photos.zip"), c.masksTar, {
      http: { ...fastRetry, timeoutMs: 300 },
    });
    expect(remote.written).toBe(149);
    expect(remote.network.originals!.retries).toBeGreaterThan(0);
  });
});

describe("remote tar and tar.gz", () => {
  /**
   * Photos too many to sit whole in socket and body buffers (~2 MB): a reader that stops or
   * slows down is felt by the connection.
   */
  let made: Promise<{ dir: string; photosTar: string; photosTarGz: string; masksZip: string }>;
  function bigger() {
    made ??= (async () => {
      const dir = await tempDirForFile();
      const big = await corpusFiles({ keys: casiaKeys(300, 100, 5), size: 128 });
      return {
        dir,
        photosTar: await writeArchive(dir, "photos", "tar", big.photos),
        photosTarGz: await writeArchive(dir, "photos", "tar.gz", big.photos),
        masksZip: await writeArchive(dir, "masks", "zip", big.masks),
      };
    })();
    return made;
  }

  /** The CLI on remote photos: one try after the first, a 1 s timeout. */
  function cliRun(dir: string, photos: string, masks: string, ...more: string[]) {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const args = ["run", "casia", "--labels", "none", "--originals", photos, "--masks", masks];
    return runCli([
      ...args,
      "--out",
      out,
      "-q",
      "--http-retries",
      "1",
      "--http-timeout",
      "1",
      ...more,
    ]);
  }

  it("stop when the file is replaced between the probe and the download, naming the URL without credentials or query", async () => {
    const c = await setup();
    // Request 1 is the probe; the download (request 2) meets another version.
    for (const fault of ["changed", "replaced"] as const) {
      server = await startFileServer([c.photosTar], (n) => (n === 2 ? fault : "none"));
      const url = server.url("photos.tar.gz?X-Amz-Signature=secret").replace("://", "://me:pa55@");
      const result = await cliRun(c.dir, url, c.masksZip);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^maskpipe: ${server.url("photos.tar.gz").replace(/[.?]/g, "\\$&")}\\?…: the file changed on the server during the run \\(.+\\); .*Run it again.* \\[ERR_HTTP_CHANGED\\]\\n$`,
        ),
      );
      expect(result.stderr).not.toMatch(/secret|pa55|me:/);
      await server.close();
      server = undefined;
    }
  });

  it("end a --limit run on a remote tar or tar.gz with its summary and exit 0", async () => {
    const c = await bigger();
    server = await startFileServer([c.photosTar, c.photosTarGz]);
    for (const name of ["photos.tar", "photos.tar.gz"]) {
      const result = await cliRun(c.dir, server.url(name), c.masksZip, "--limit", "10");
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain("done (trial run of 10 pairs, --limit)");
    }
  });

  const broken: [string, (n: number) => Fault, RegExp][] = [
    ["stalls", (n) => (n >= 2 ? "stall" : "none"), /the download broke off: .*\[ERR_HTTP\]/],
    [
      "is cut by a server that ignores Range",
      (n) => (n === 2 ? "drop-mid-body" : n > 2 ? "ignore-range" : "none"),
      /cannot resume: the server does not answer Range requests.*\[ERR_HTTP_RANGE\]/,
    ],
    ["never ends", (n) => (n >= 2 ? "endless" : "none"), /gzip data is damaged or not gzip/],
    [
      "says a longer Content-Length than the probe saw",
      (n) => (n >= 2 ? "long-length" : "none"),
      /changed on the server during the run \([\d,]+ bytes, first [\d,]+\).*\[ERR_HTTP_CHANGED\]/,
    ],
  ];
  for (const [label, fault, message] of broken) {
    it(`stop with a message and exit 1 when a remote tar.gz ${label}`, async () => {
      const c = await setup();
      server = await startFileServer([c.photosTar], fault);
      const started = Date.now();
      const result = await cliRun(c.dir, server.url("photos.tar.gz"), c.masksZip);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/^maskpipe: http:\/\/127\.0\.0\.1:\d+\/photos\.tar\.gz: /);
      expect(result.stderr).toMatch(message);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  }

  it("read a tar.gz from a server that closes every connection (Connection: close)", async () => {
    const c = await bigger();
    server = await startFileServer([c.photosTarGz], () => "close");
    const local = await run(c.dir, "local", c.photosTarGz, c.masksZip, { labels: "none" });
    const remote = await run(c.dir, "remote", server.url("photos.tar.gz"), c.masksZip, {
      labels: "none",
    });
    expect(hashes(remote)).toEqual(hashes(local));
  });
});

describe("retry policy", () => {
  it("backs off exponentially with bounded jitter and honours Retry-After", () => {
    const policy = { ...RETRY_DEFAULTS, jitter: 0.2 };
    expect(retryDelayMs(policy, 1, undefined, () => 0.5)).toBe(500);
    expect(retryDelayMs(policy, 3, undefined, () => 0.5)).toBe(2000);
    expect(retryDelayMs(policy, 3, undefined, () => 0)).toBe(1600);
    expect(retryDelayMs(policy, 3, undefined, () => 1)).toBe(2400);
    expect(retryDelayMs(policy, 20, undefined, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(policy, 1, 7000)).toBe(7000);
    expect(retryAfterMs("3")).toBe(3000);
    expect(
      retryAfterMs("Thu, 01 Jan 2026 00:00:10 GMT", Date.parse("Thu, 01 Jan 2026 00:00:00 GMT")),
    ).toBe(10_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe("hf:// sources", () => {
  it("parse repo, revision and path", () => {
    expect(parseHfUrl("hf://datasets/me/celeba-masks/celeba_masks.zip")).toEqual({
      type: "dataset",
      name: "me/celeba-masks",
      revision: "main",
      path: "celeba_masks.zip",
    });
    expect(parseHfUrl("hf://datasets/me/m@v1.0/sub/dir/m.tar")).toMatchObject({
      revision: "v1.0",
      path: "sub/dir/m.tar",
    });
    expect(() => parseHfUrl("hf://nothing")).toThrow(
      "Expected hf://datasets/{owner}/{repo}[@{revision}]/{path}",
    );
  });

  it("resolve through @huggingface/hub against a local Hub and read the same bytes", async () => {
    const c = await setup();
    server = await startFileServer([], undefined, {
      "/datasets/me/casia-masks/resolve/main/masks.zip": c.masksZip,
      "/datasets/me/casia-photos/resolve/v2/photos.tar.gz": c.photosTar,
    });
    const endpoint = server.url("").replace(/\/$/, "");
    const local = await run(c.dir, "local", c.photosZip, c.masksTar);
    const hub = await run(
      c.dir,
      "hub",
      "hf://datasets/me/casia-photos@v2/photos.tar.gz",
      "hf://datasets/me/casia-masks/masks.zip",
      {
        hub: { endpoint, token: "hf_localtesttoken" },
      },
    );
    expect(hashes(hub)).toEqual(hashes(local));
    expect(server.lastHeaders.authorization).toBe("Bearer hf_localtesttoken");
    expect(hub.network.masks!.requests).toBeLessThan(12);

    const missing = run(c.dir, "missing", "hf://datasets/me/casia-masks/nope.zip", c.masksTar, {
      hub: { endpoint },
    });
    await expect(missing).rejects.toMatchObject({
      code: "ERR_SOURCE_NOT_FOUND",
      message: "hf://datasets/me/casia-masks/nope.zip: no such file in me/casia-masks@main",
    });
  });
});

describe("hostile remote input", () => {
  it("records a damaged member of a remote zip and writes every other sample", async () => {
    const c = await setup();
    const { readFile, writeFile } = await import("node:fs/promises");
    const zip = await readFile(c.masksZip);
    const name = Buffer.from("CASIA-WebFace_masks/000011/001.png");
    const at = zip.indexOf(name) + name.length + 60; // inside the first stored bytes of that mask
    zip.writeUInt8(zip.readUInt8(at) ^ 0xff, at);
    await writeFile(c.masksZip, zip);
    server = await startFileServer([c.photosTar, c.masksZip]);
    const report = await run(c.dir, "o", server.url("photos.tar.gz"), server.url("masks.zip"));
    expect(report.written).toBe(148);
    expect(report.failed).toBe(1);
    expect(Object.keys(report.failedByReason)).toHaveLength(1);
  });
});
