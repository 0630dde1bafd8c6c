import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MaskpipeError } from "../src/core/errors.js";
import { publishedIdentity } from "../src/dataset/run-identity.js";
import type { RunOptions } from "../src/run/run-options.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { CommitPacer } from "../src/sinks/hub/commit-pacer.js";
import { hubFetch } from "../src/sinks/hub/hub-fetch.js";
import { HubRepo } from "../src/sinks/hub/hub-repo.js";
import { ShardSpool } from "../src/sinks/hub/shard-spool.js";
import { ROOT, runCli } from "./support/cli.js";
import { corpusFiles, writeArchive } from "./support/corpus.js";
import { type FakeHub, startFakeHub } from "./support/fake-hub.js";
import { tempDir } from "./support/temp.js";

const KEYS = Array.from({ length: 24 }, (_, i) => `00000${Math.floor(i / 6)}/00${i % 6}`);
const REPO = "me/casia-masked";
const OUT = `hf://datasets/${REPO}`;

let photos: string;
let masks: string;
/** The files beside the shards of a finished run in the repo. */
const PUBLISHED = [
  ".gitattributes",
  "README.md",
  "index.json",
  "preview.jpg",
  "report.json",
  "run.json",
];

/** Shard name -> bytes of a straight run to a local folder with the same options. */
const local = new Map<string, Buffer>();
const hubs: FakeHub[] = [];

async function fakeHub(options?: Parameters<typeof startFakeHub>[0]): Promise<FakeHub> {
  const hub = await startFakeHub(options);
  hubs.push(hub);
  return hub;
}

function options(hub: FakeHub, extra: Partial<RunOptions> = {}): RunOptions {
  return {
    name: "casia",
    originals: photos,
    masks,
    out: OUT,
    photoKeys: { depth: 2, suffixes: [] },
    maskKeys: { depth: 2, suffixes: [] },
    shardMaxCount: 4,
    hub: { token: hub.token, endpoint: hub.url },
    ...extra,
  };
}

/** The repo's shards, by name, and the other files' paths. */
function repoState(hub: FakeHub): { shards: Map<string, Buffer>; others: string[] } {
  const shards = new Map<string, Buffer>();
  const others: string[] = [];
  for (const path of hub.files(REPO).keys()) {
    if (path.startsWith("data/train/")) shards.set(path.slice(11), hub.read(REPO, path));
    else others.push(path);
  }
  return { shards, others: others.sort() };
}

let corpusDir: string;

beforeAll(async () => {
  // Not tempDir(): that one is removed after each test, and every test here reads the corpus.
  corpusDir = await mkdtemp(join(tmpdir(), "maskpipe-hub-"));
  const dir = corpusDir;
  const files = await corpusFiles({ keys: KEYS });
  photos = await writeArchive(dir, "photos", "zip", files.photos);
  masks = await writeArchive(dir, "masks", "zip", files.masks);
  const out = join(dir, "local");
  await runPipeline({ ...options({ token: "", url: "" } as FakeHub), out, hub: undefined });
  for (const name of (await readdir(out)).filter((file) => file.endsWith(".tar"))) {
    local.set(name, await readFile(join(out, name)));
  }
}, 60_000);

afterAll(async () => {
  await rm(corpusDir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});

describe("publishing to a Hub dataset repo", () => {
  it("creates the repo, commits the shards a few at a time, then the card, index and report", async () => {
    const hub = await fakeHub();
    const report = await runPipeline(
      options(hub, { hubBuffer: 2, command: "pipelines/casia.json" }),
    );

    expect(report.written).toBe(24);
    const { shards, others } = repoState(hub);
    expect([...shards.keys()]).toEqual([...local.keys()]);
    for (const [name, bytes] of local) expect(shards.get(name)!.equals(bytes), name).toBe(true);
    expect(others).toEqual(PUBLISHED);
    // The run's identity first, then 6 shards, 2 per commit, then the card: 5 commits after
    // the repo's first.
    const commits = hub.commits(REPO);
    expect(commits.map((commit) => commit.summary)).toEqual([
      "initial commit",
      "Start casia",
      "Add casia-000000.tar to casia-000001.tar",
      "Add casia-000002.tar to casia-000003.tar",
      "Add casia-000004.tar to casia-000005.tar",
      "Dataset card, index and report of casia",
    ]);
    expect(report.hub).toMatchObject({ commits: 5, shardsUploaded: 6, shardsUnchanged: 0 });
    // Published: the inputs by file name, not the local paths the report keeps.
    expect(JSON.parse(hub.read(REPO, "run.json").toString())).toEqual(
      publishedIdentity(report.identity),
    );
    expect([...hub.uploads.values()]).toEqual([1, 1, 1, 1, 1, 1]);

    const card = hub.read(REPO, "README.md").toString();
    expect(card).toMatch(/^---\nlicense: cc-by-nc-sa-4\.0\n/);
    expect(card).toContain(
      "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train/casia-*.tar\n",
    );
    expect(card).toContain("size_categories:\n- n<1K\n");
    expect(card).toMatch(/tags:\n- masked-faces\n- face-recognition\n- webdataset\n/);
    expect(card).toContain("| samples | 24 |");
    expect(card).toContain(`load_dataset("${REPO}"`);
    expect(card).toContain("maskpipe run pipelines/casia.json");
    expect(card).toContain("NeurIPS");
    const index = JSON.parse(hub.read(REPO, "index.json").toString());
    expect(index.shardlist.map((shard: { url: string }) => shard.url)).toEqual(
      [...local.keys()].map((name) => `data/train/${name}`),
    );
    const published = JSON.parse(hub.read(REPO, "report.json").toString());
    expect(published).toMatchObject({ written: 24, hub: { commits: 5, shardsUploaded: 6 } });
  });

  it("after an interruption, refuses a plain rerun; --overwrite starts again without sending a shard twice", async () => {
    const hub = await fakeHub();
    const controller = new AbortController();
    // Interrupt once the first shard commit has landed (after the repo's and the run's start).
    hub.onRequest = () => {
      if (hub.repos.has(REPO) && hub.commits(REPO).length >= 3) controller.abort();
    };
    const first = await runPipeline(options(hub, { signal: controller.signal }));
    expect(first.interrupted).toBe(true);
    const half = repoState(hub);
    expect(half.shards.size).toBeGreaterThan(0);
    expect(half.shards.size).toBeLessThan(local.size);
    expect(half.others).toEqual([".gitattributes", "run.json"]); // no card for a half upload

    hub.onRequest = undefined;
    const refused = await runPipeline(options(hub)).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "ERR_OUTPUT_EXISTS" });
    expect((refused as Error).message).toContain(
      "pass --resume to go on from them, or --overwrite",
    );

    const second = await runPipeline(options(hub, { overwrite: true }));
    const { shards, others } = repoState(hub);
    expect([...shards.keys()]).toEqual([...local.keys()]);
    for (const [name, bytes] of local) expect(shards.get(name)!.equals(bytes), name).toBe(true);
    expect(others).toEqual(PUBLISHED);
    expect(second.hub!.shardsUploaded).toBe(local.size);
    // The Hub already stores the bytes of the shards the first run sent: not sent again.
    for (const count of hub.uploads.values()) expect(count).toBe(1);
    expect(hub.uploads.size).toBe(local.size);

    // A --resume after the finished run keeps every shard: no shard commit, only the card.
    const third = await runPipeline(options(hub, { resume: true }));
    expect(third.hub).toMatchObject({ shardsUploaded: 0, shardsKept: 6, commits: 1 });
    expect(third.resumed).toBe(24);
  });

  it("with --resume, reads the repo's shards back and skips their samples", async () => {
    const hub = await fakeHub();
    const controller = new AbortController();
    hub.onRequest = () => {
      if (hub.repos.has(REPO) && hub.commits(REPO).length >= 3) controller.abort();
    };
    await runPipeline(options(hub, { signal: controller.signal }));
    const half = repoState(hub).shards.size;
    expect(half).toBeGreaterThan(0);
    hub.onRequest = undefined;

    const resumed = await runPipeline(options(hub, { resume: true }));
    expect(resumed.resumed).toBe(4 * half); // 4 samples a shard, not made again
    expect(resumed.written).toBe(24 - 4 * half);
    expect(resumed.hub).toMatchObject({ shardsKept: half, shardsUploaded: local.size - half });
    // The kept shards, run.json (read by each of the two runs), and the preview's Range reads.
    expect(hub.log.filter((line) => line === "GET resolve").length).toBeGreaterThanOrEqual(
      half + 2,
    );
    const { shards, others } = repoState(hub);
    expect([...shards.keys()]).toEqual([...local.keys()]);
    for (const [name, bytes] of local) expect(shards.get(name)!.equals(bytes), name).toBe(true);
    expect(others).toEqual(PUBLISHED);
    for (const count of hub.uploads.values()) expect(count).toBe(1);
    const index = JSON.parse(hub.read(REPO, "index.json").toString());
    expect(index.shardlist).toHaveLength(local.size);
    expect(hub.read(REPO, "README.md").toString()).toContain("| samples | 24 |");
  });

  it("retries 429 and 503 answers on every step of an upload", async () => {
    const hub = await fakeHub();
    hub.faults.push(
      { route: "create", status: 503, count: 1 },
      { route: "preupload", status: 429, count: 2 },
      { route: "batch", status: 503, count: 1 },
      { route: "upload", status: 429, count: 2 },
      { route: "commit", status: 503, count: 1 },
      { route: "tree", status: 502, count: 1 },
    );
    const report = await runPipeline(options(hub));
    expect(report.hub!.retries).toBe(8);
    expect(hub.faults.every((fault) => fault.count === 0)).toBe(true);
    const { shards } = repoState(hub);
    for (const [name, bytes] of local) expect(shards.get(name)!.equals(bytes), name).toBe(true);
  });

  it("uploads huge objects in parts when the Hub asks for multipart", async () => {
    const hub = await fakeHub({ multipartOver: 8_000, partSize: 4_096 });
    hub.faults.push({ route: "part", status: 503, count: 1 });
    const report = await runPipeline(options(hub));
    expect(hub.log.filter((line) => line === "PUT part").length).toBeGreaterThan(local.size + 1);
    expect(hub.log.filter((line) => line === "POST complete").length).toBe(local.size);
    expect(report.hub!.retries).toBe(1);
    const { shards } = repoState(hub);
    for (const [name, bytes] of local) expect(shards.get(name)!.equals(bytes), name).toBe(true);
  });

  it("commits again on the new head when someone else commits meanwhile", async () => {
    const hub = await fakeHub();
    let moved = false;
    hub.onRequest = (route) => {
      if (route === "commit" && !moved) {
        moved = true;
        hub.commitElsewhere(REPO, "notes.md", "written by someone else\n");
      }
    };
    await runPipeline(options(hub));
    const { shards, others } = repoState(hub);
    expect(shards.size).toBe(local.size);
    expect(others).toContain("notes.md");
    // start + 3 shard commits + card + 1 retried
    expect(hub.log.filter((line) => line === "POST commit").length).toBe(6);
  });

  it("a wrong token is a clear error before any work, and leaves no card", async () => {
    const hub = await fakeHub();
    await runPipeline(options(hub, { out: "hf://datasets/me/other" })); // the repo exists
    const error = await runPipeline(
      options(hub, { hub: { token: "hf_wrong", endpoint: hub.url } }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MaskpipeError);
    expect(error).toMatchObject({ code: "ERR_HUB_AUTH" });
    expect((error as Error).message).toMatch(
      /^hf:\/\/datasets\/me\/casia-masked: cannot read the repo: the Hub refused the token \(401/,
    );
    expect((error as Error).message).not.toContain("hf_wrong");
    expect(hub.repos.has(REPO)).toBe(false);

    const missing = await runPipeline(
      options(hub, { hub: { token: "", endpoint: hub.url } }),
    ).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "ERR_HUB_AUTH" });
    expect((missing as Error).message).toContain("set HF_TOKEN or pass --hf-token");
  });

  it("publishes from the command line", async () => {
    const hub = await fakeHub();
    const result = await runCli([
      "run",
      join(ROOT, "pipelines/casia.json"),
      "--originals",
      photos,
      "--masks",
      masks,
      "--out",
      "hf://datasets/me/from-cli",
      "--hub-url",
      hub.url,
      "--hf-token",
      hub.token,
      "--private",
      "--shard-max-count",
      "10",
    ]);
    expect(result.stderr).toMatch(/hub\s+4 commits, 3 shards uploaded, 0 already there/);
    expect(result.code).toBe(0);
    expect(hub.repos.get("me/from-cli")!.private).toBe(true);
    const card = hub.read("me/from-cli", "README.md").toString();
    expect(card).toContain("--hf-token … --private --shard-max-count 10");
    expect(card).not.toContain(hub.token);
  });
});

describe("uploading a shard", () => {
  it("streams a spooled shard from its file: memory stays flat while 192 MB go up", async () => {
    const hub = await fakeHub({ keepBlobs: false });
    const piece = Buffer.alloc(1 << 20);
    for (let i = 0; i < piece.length; i++) piece[i] = (i * 2654435761) >>> 24;
    const spool = new ShardSpool(await tempDir());
    const file = await spool.open("big-000000.tar");
    for (let i = 0; i < 192; i++) await file.write([piece]);
    const blob = await file.complete();
    const transport = hubFetch();
    const repo = new HubRepo({
      repo: { name: REPO, revision: "main" },
      hubUrl: hub.url,
      accessToken: hub.token,
      fetch: transport.fetch,
      useXet: false,
      spec: OUT,
    });
    await repo.open({ private: false });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    await repo.commit("big", [{ path: "data/train/big-000000.tar", content: blob }], []);
    clearInterval(sampler);
    expect(transport.stats.bytesUploaded).toBe(192 * 2 ** 20);
    expect(hub.files(REPO).get("data/train/big-000000.tar")?.size).toBe(192 * 2 ** 20);
    // A third of the shard: a client that held the shard in memory would pass it.
    expect(peak - before).toBeLessThan(64 * 2 ** 20);
    await file.remove();
    await spool.close();
  }, 60_000);

  it("leaves no spooled shard behind, interrupted or finished", async () => {
    const hub = await fakeHub();
    const hubSpool = await tempDir();
    const { readdir } = await import("node:fs/promises");
    const controller = new AbortController();
    let spooled = 0;
    hub.onRequest = () => {
      if (!hub.repos.has(REPO) || hub.commits(REPO).length < 3) return;
      spooled = Math.max(spooled, 1);
      controller.abort();
    };
    const first = await runPipeline(options(hub, { signal: controller.signal, hubSpool }));
    expect(first.interrupted).toBe(true);
    expect(spooled).toBe(1); // a shard commit had gone up from the spool
    await new Promise((resolve) => setTimeout(resolve, 50)); // the sink's close hook runs
    expect(await readdir(hubSpool)).toEqual([]);
    hub.onRequest = undefined;
    const second = await runPipeline(options(hub, { overwrite: true, hubSpool }));
    expect(second.hub!.shardsUploaded).toBe(6);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await readdir(hubSpool)).toEqual([]);
  });
});

describe("commit pacing", () => {
  it("allows a burst, then one commit per interval", () => {
    let now = 0;
    const pacer = new CommitPacer({ perHour: 3600, burst: 2 }, () => now);
    expect(pacer.delayMs()).toBe(0);
    void pacer.take();
    void pacer.take();
    expect(pacer.delayMs()).toBeCloseTo(1000);
    now += 500;
    expect(pacer.delayMs()).toBeCloseTo(500);
    now += 500;
    expect(pacer.delayMs()).toBe(0);
  });
});
