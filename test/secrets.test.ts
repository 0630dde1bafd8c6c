import { existsSync } from "node:fs";
import { copyFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { commandSecrets, Redactor, redactArgs, redactUrl } from "../src/core/redact.js";
import { finished, ROOT, runCli, startCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { type FakeHub, startFakeHub } from "./support/fake-hub.js";
import { type Fault, startFileServer, type TestServer } from "./support/http-server.js";
import { tempDir } from "./support/temp.js";

/** What a user typed that must never be written or printed back. */
const PASSWORD = "PASSW0RD-4711";
const SIGNATURE = "SIGSECRET-0815";
const QUERY_TOKEN = "QTOKEN-9999";
const HEADER = "HDRSECRET-1234";
const ENV_TOKEN = "hf_ENVSECRET5678";
const SAMPLE_PHOTOS = join(ROOT, "sample/sample-photos.zip");
const SAMPLE_MASKS = join(ROOT, "sample/sample-masks.tar");

const servers: TestServer[] = [];
const hubs: FakeHub[] = [];
afterEach(async () => {
  await Promise.all([...servers.splice(0), ...hubs.splice(0)].map((server) => server.close()));
});

async function serve(files: string[], fault?: (n: number, path: string) => Fault) {
  const server = await startFileServer(files, fault);
  servers.push(server);
  return server;
}

/** `file` on `server` as a presigned URL with credentials: every part of it a secret. */
function secretUrl(server: TestServer, file: string, signature = SIGNATURE): string {
  const url = new URL(server.url(file));
  url.username = "user";
  url.password = PASSWORD;
  url.search = `?X-Amz-Signature=${signature}&token=${QUERY_TOKEN}`;
  return url.href;
}

/** The secret flags of a run, in both forms a user types them. */
function secretFlags(token: string): string[] {
  return ["--header", `Authorization: Bearer ${HEADER}`, `--hf-token=${token}`];
}

/** Every file under `dir`, as text. */
async function filesUnder(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (!existsSync(dir)) return found;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.set(path, await readFile(path, "utf8"));
  }
  return found;
}

/** Names each place (file or stream) where one of `secrets` shows up. */
function leaks(places: Map<string, string>, secrets: readonly string[]): string[] {
  return [...places].flatMap(([place, text]) =>
    secrets.filter((secret) => text.includes(secret)).map((secret) => `${secret} in ${place}`),
  );
}

const ENV = { HF_TOKEN: ENV_TOKEN };

describe("the redaction rule", () => {
  it("shows a URL by scheme, host and path; a query as ?…; never credentials", () => {
    expect(redactUrl(`https://u:${PASSWORD}@host:8443/a/photos.zip?sig=${SIGNATURE}`)).toBe(
      "https://host:8443/a/photos.zip?…",
    );
    expect(redactUrl("/data/photos.zip")).toBe("/data/photos.zip");
  });

  it("hides secret flags in both forms and, for publication, local paths", () => {
    const argv = [
      "/home/me/pipelines/casia.json",
      "--originals",
      `https://u:${PASSWORD}@host/p.tar?sig=${SIGNATURE}`,
      "--masks=/home/me/masks.zip",
      "--header",
      `Authorization: Bearer ${HEADER}`,
      "--header=X-Key: abc",
      "--hf-token",
      ENV_TOKEN,
      "--hf-token=hf_other",
      "--partition",
      "1/3",
    ];
    expect(redactArgs(argv)).toBe(
      "/home/me/pipelines/casia.json --originals 'https://host/p.tar?…' --masks=/home/me/masks.zip --header … --header=… --hf-token … --hf-token=… --partition 1/3",
    );
    expect(redactArgs(argv, true)).toBe(
      "casia.json --originals 'https://host/p.tar?…' --masks=masks.zip --header … --header=… --hf-token … --hf-token=… --partition 1/3",
    );
  });

  it("takes a command's secrets out of any text, however a library quoted them", () => {
    const url = `https://user:${PASSWORD}@host/p.zip?X-Amz-Signature=${SIGNATURE}`;
    const redactor = new Redactor(
      commandSecrets(["--originals", url, "--header", `Authorization: Bearer ${HEADER}`], ENV),
    );
    const said = `fetch ${url} failed; sent Bearer ${HEADER}; token ${ENV_TOKEN}; sig ${encodeURIComponent(SIGNATURE)}`;
    expect(
      leaks(new Map([["text", redactor.text(said)]]), [PASSWORD, SIGNATURE, HEADER, ENV_TOKEN]),
    ).toEqual([]);
    // Once more over a message that already shows the URL redacted: nothing else changes.
    const shown = "maskpipe: https://host/p.zip?…: the file changed on the server (412).";
    expect(redactor.text(shown)).toBe(shown);
    expect(redactor.text(`${url}: answered 503.`)).toBe("https://host/p.zip?…: answered 503.");
  });
});

describe("no secret leaves the machine", () => {
  it("a local run over HTTP: not in the output, the report, the errors file or the console", async () => {
    const server = await serve([SAMPLE_PHOTOS]);
    const dir = await tempDir();
    const out = join(dir, "out");
    const result = await runCli(
      [
        "run",
        "sample",
        "--originals",
        secretUrl(server, "sample-photos.zip"),
        "--out",
        out,
        "--report",
        join(dir, "report.json"),
        "--errors",
        join(dir, "errors.jsonl"),
        ...secretFlags("hf_EQSECRET42"),
      ],
      ROOT,
      ENV,
    );
    expect(result.code).toBe(0);
    // The header reached the server: redaction is for what is shown, not what is sent.
    expect(server.lastHeaders.authorization).toBe(`Bearer ${HEADER}`);
    const places = await filesUnder(dir);
    places.set("stdout", result.stdout).set("stderr", result.stderr);
    expect(places.size).toBeGreaterThan(4);
    expect(
      leaks(places, [PASSWORD, SIGNATURE, QUERY_TOKEN, HEADER, "hf_EQSECRET42", ENV_TOKEN]),
    ).toEqual([]);
    const card = places.get(join(out, "README.md"))!;
    expect(card).toContain("--header … --hf-token=…");
    expect(card).toContain(
      `- Originals: \`http://${new URL(server.url("x")).host}/sample-photos.zip?…\``,
    );
  });

  it("an interrupted run: its resume hint says where the secrets go, not what they are", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(200, 100, 4) });
    const photos = await writeArchive(dir, "photos", "zip", files.photos);
    const server = await serve([await writeArchive(dir, "masks", "tar", files.masks)]);
    const out = join(dir, "out");
    const child = startCli(
      [
        "run",
        "casia",
        "--originals",
        photos,
        "--masks",
        secretUrl(server, "masks.tar"),
        "--out",
        out,
        "--shard-max-count",
        "10",
        "--concurrency",
        "1",
        ...secretFlags("hf_EQSECRET42"),
      ],
      ROOT,
      ENV,
    );
    const result = finished(child);
    while (!existsSync(join(out, "casia-000001.tar"))) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    const { code, stdout, stderr } = await result;
    expect(code).toBe(130);
    expect(stderr).toMatch(/--header … --hf-token=… --resume \(give your own …/);
    const places = await filesUnder(out);
    places.set("stdout", stdout).set("stderr", stderr);
    expect(places.size).toBeGreaterThan(3);
    expect(
      leaks(places, [PASSWORD, SIGNATURE, QUERY_TOKEN, HEADER, "hf_EQSECRET42", ENV_TOKEN]),
    ).toEqual([]);
  });

  it("error messages: a resume that differs, and inputs that look swapped", async () => {
    const dir = await tempDir();
    const photos = join(dir, "photos.zip");
    const other = join(dir, "other.zip");
    await copyFile(SAMPLE_PHOTOS, photos);
    await copyFile(SAMPLE_PHOTOS, other);
    const server = await serve([photos, other, SAMPLE_MASKS]);
    const out = join(dir, "out");
    const args = (originals: string, ...more: string[]) => [
      "run",
      "sample",
      "--originals",
      originals,
      "--out",
      out,
      ...secretFlags("hf_EQSECRET42"),
      ...more,
    ];
    expect((await runCli(args(secretUrl(server, "photos.zip")), ROOT, ENV)).code).toBe(0);
    const mismatch = await runCli(args(secretUrl(server, "other.zip"), "--resume"), ROOT, ENV);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain("[ERR_RUN_MISMATCH]");
    expect(mismatch.stderr).toMatch(/--originals was http:\/\/[^ ]+\/photos\.zip\?… \(/);

    const swapped = await runCli(
      [
        // No labels: a remote tar of photos gives no class list without a second download.
        ...args(secretUrl(server, "sample-masks.tar"), "--overwrite", "--labels", "none"),
        "--masks",
        secretUrl(server, "photos.zip"),
      ],
      ROOT,
      ENV,
    );
    expect(swapped.code).toBe(1);
    expect(swapped.stderr).toContain("[ERR_INPUTS_MISMATCH]");
    const places = new Map([
      ["mismatch", mismatch.stdout + mismatch.stderr],
      ["swapped", swapped.stdout + swapped.stderr],
    ]);
    expect(
      leaks(places, [PASSWORD, SIGNATURE, QUERY_TOKEN, HEADER, "hf_EQSECRET42", ENV_TOKEN]),
    ).toEqual([]);
  });

  it("a Hub run: nothing in any file committed, no local path, nothing on the console", async () => {
    const hub = await startFakeHub();
    hubs.push(hub);
    const server = await serve([SAMPLE_PHOTOS]);
    const dir = await tempDir();
    const masks = join(dir, "sample-masks.tar");
    await copyFile(SAMPLE_MASKS, masks);
    const result = await runCli(
      [
        "run",
        join(ROOT, "pipelines/sample.json"),
        "--originals",
        secretUrl(server, "sample-photos.zip"),
        "--masks",
        masks,
        "--out",
        "hf://datasets/me/public-set",
        "--hub-url",
        hub.url,
        ...secretFlags(hub.token),
      ],
      ROOT,
      ENV,
    );
    expect(result.code).toBe(0);
    const places = new Map<string, string>([
      ["stdout", result.stdout],
      ["stderr", result.stderr],
    ]);
    for (const [path, file] of hub.files("me/public-set")) {
      if (path.endsWith(".tar") || path.endsWith(".jpg")) continue;
      places.set(path, hub.read("me/public-set", path).toString("utf8"));
      expect(file.size).toBeGreaterThan(0);
    }
    for (const commit of hub.commits("me/public-set"))
      places.set(`commit ${commit.oid}`, commit.summary);
    expect([...places.keys()]).toEqual(
      expect.arrayContaining(["README.md", "report.json", "run.json", "index.json"]),
    );
    expect(leaks(places, [PASSWORD, SIGNATURE, QUERY_TOKEN, HEADER, hub.token, ENV_TOKEN])).toEqual(
      [],
    );
    // Local paths are published as file names: not the temp folder, not the checkout.
    const published = new Map([...places].filter(([place]) => !place.startsWith("std")));
    expect(leaks(published, [dir, ROOT])).toEqual([]);
    expect(places.get("README.md")).toContain("- Masks: `sample-masks.tar`");
    expect(JSON.parse(places.get("run.json")!).masks.source).toBe("sample-masks.tar");
  });
});

describe("the run identity keeps what it compares, not the query", () => {
  it("a presigned URL signed anew resumes; another object is refused", async () => {
    const dir = await tempDir();
    const photos = join(dir, "photos.zip");
    await copyFile(SAMPLE_PHOTOS, photos);
    // The object is replaced once: from then on the server gives its new ETag.
    let replacements = 0;
    const server = await serve([photos], () => (replacements-- > 0 ? "changed" : "none"));
    const out = join(dir, "out");
    const run = (signature: string, ...more: string[]) =>
      runCli([
        "run",
        "sample",
        "--originals",
        secretUrl(server, "photos.zip", signature),
        "--out",
        out,
        ...more,
      ]);
    expect((await run("first-signature")).code).toBe(0);
    const identity = await readFile(join(out, "run.json"), "utf8");
    expect(identity).not.toContain("first-signature");
    expect(JSON.parse(identity).originals).toMatchObject({
      source: expect.stringMatching(/\/photos\.zip\?…$/),
      query: expect.any(String),
    });

    const refreshed = await run("second-signature", "--resume");
    expect(refreshed.stderr).toContain("nothing to do: the same run");
    expect(refreshed.code).toBe(0);

    replacements = 1;
    const other = await run("third-signature", "--resume");
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("[ERR_RUN_MISMATCH]");
    expect(other.stderr).toMatch(/--originals was .*ETag "v1".*now .*ETag "v\d+"/);
  });
});
