import { execFileSync } from "node:child_process";
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HUB_RETRY } from "../src/sinks/hub/hub-connect.js";
import { hubFetch } from "../src/sinks/hub/hub-fetch.js";
import { HubRepo } from "../src/sinks/hub/hub-repo.js";
import { writeOutputFile } from "../src/sinks/output-file.js";
import { runCli } from "./support/cli.js";
import { type FakeHub, startFakeHub } from "./support/fake-hub.js";
import { tempDir } from "./support/temp.js";

/**
 * A run writes, replaces and removes only what is its own: links planted in the output, and user
 * files where the report or errors go, are refused and left byte for byte as they were.
 */

const VICTIM = "precious: not the run's\n";

/** A folder with `victim.txt` outside the output `out` (not yet made). */
async function place(): Promise<{ dir: string; out: string; victim: string }> {
  const dir = await tempDir();
  const victim = join(dir, "victim.txt");
  await writeFile(victim, VICTIM);
  return { dir, out: join(dir, "out"), victim };
}

const sample = (out: string, ...more: string[]) => ["run", "sample", "--out", out, "-q", ...more];

describe("the one write helper", () => {
  it("writes beside a link planted at the old .partial name, never through it", async () => {
    const { out, victim } = await place();
    await mkdir(join(out, "0000100"), { recursive: true });
    await symlink(victim, join(out, "0000100/000.jpg.partial"));
    await writeOutputFile(out, join(out, "0000100/000.jpg"), "image bytes");
    expect(await readFile(victim, "utf8")).toBe(VICTIM);
    expect(await readFile(join(out, "0000100/000.jpg"), "utf8")).toBe("image bytes");
    expect((await readdir(join(out, "0000100"))).sort()).toEqual(["000.jpg", "000.jpg.partial"]);
  });

  it("refuses a link at the file itself and at a folder on the way", async () => {
    const { dir, out, victim } = await place();
    await mkdir(out);
    await symlink(victim, join(out, "index.json"));
    await expect(writeOutputFile(out, join(out, "index.json"), "{}")).rejects.toMatchObject({
      code: "ERR_OUTPUT_LINK",
      message: expect.stringContaining(`${join(out, "index.json")}: is a symbolic link`),
    });
    await mkdir(join(dir, "elsewhere"));
    await symlink(join(dir, "elsewhere"), join(out, "train"));
    await expect(writeOutputFile(out, join(out, "train/a.tar"), "x")).rejects.toMatchObject({
      code: "ERR_OUTPUT_LINK",
    });
    expect(await readFile(victim, "utf8")).toBe(VICTIM);
    expect(await readdir(join(dir, "elsewhere"))).toEqual([]);
  });
});

describe("links planted in the output are refused", () => {
  it("folder layout: a .partial link where an image goes: exit 1, the target unchanged", async () => {
    const { out, victim } = await place();
    await mkdir(join(out, "0000100"), { recursive: true });
    await symlink("../../victim.txt", join(out, "0000100/000.jpg.partial"));
    const result = await runCli(sample(out, "--layout", "folder"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${join(out, "0000100/000.jpg.partial")}: is a symbolic link where maskpipe writes`,
    );
    expect(result.stderr).toContain("[ERR_OUTPUT_LINK]");
    expect(await readFile(victim, "utf8")).toBe(VICTIM);
  });

  it("a symlinked subfolder: refused, the folder it points to untouched, also with --overwrite", async () => {
    const { dir, out } = await place();
    const elsewhere = join(dir, "elsewhere");
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, "keep.jpg"), "mine");
    await mkdir(out);
    await symlink(elsewhere, join(out, "0000100"));
    for (const more of [[], ["--overwrite"]]) {
      const result = await runCli(sample(out, "--layout", "folder", ...more));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${join(out, "0000100")}: is a symbolic link`);
      expect(await readdir(elsewhere)).toEqual(["keep.jpg"]);
      expect(await readFile(join(elsewhere, "keep.jpg"), "utf8")).toBe("mine");
    }
  });

  it("a symlinked errors.jsonl with --resume: exit 1, the target unchanged", async () => {
    const { out, victim } = await place();
    expect((await runCli(sample(out))).code).toBe(0);
    await symlink(victim, join(out, "errors.jsonl"));
    const result = await runCli(sample(out, "--resume"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(out, "errors.jsonl")}: is a symbolic link`);
    expect(result.stderr).toContain("[ERR_OUTPUT_LINK]");
    expect(await readFile(victim, "utf8")).toBe(VICTIM);
    expect((await lstat(join(out, "errors.jsonl"))).isSymbolicLink()).toBe(true);
  });

  it("a link where a shard of the run would be: refused, not removed, with --overwrite", async () => {
    const { out, victim } = await place();
    await mkdir(out);
    await symlink(victim, join(out, "sample-000000.tar"));
    const result = await runCli(sample(out, "--overwrite"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("[ERR_OUTPUT_LINK]");
    expect((await lstat(join(out, "sample-000000.tar"))).isSymbolicLink()).toBe(true);
    expect(await readFile(victim, "utf8")).toBe(VICTIM);
  });
});

describe("--report and --errors never replace what is not maskpipe's", () => {
  it("a user's file: refused saying so, also with --overwrite; the file unchanged", async () => {
    const { dir, out, victim } = await place();
    for (const more of [[], ["--overwrite"]]) {
      const result = await runCli(sample(out, "--report", victim, ...more));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `${victim}: holds a file maskpipe did not write (not the report of an earlier run); it is never written over or removed, also with --overwrite`,
      );
      expect(result.stderr).toContain("[ERR_OUTPUT_NOT_OURS]");
      expect(result.stderr).not.toContain("already holds files");
      expect(await readFile(victim, "utf8")).toBe(VICTIM);
    }
    const errors = await runCli(sample(out, "--errors", victim, "--overwrite"));
    expect(errors.code).toBe(1);
    expect(errors.stderr).toContain("(not the errors file of an earlier run)");
    expect(await readFile(victim, "utf8")).toBe(VICTIM);
    expect(await readdir(dir)).toEqual(["victim.txt"]);
  });

  it("a symlink: refused as a link, also with --overwrite; its target unchanged", async () => {
    const { dir, out, victim } = await place();
    const link = join(dir, "report.json");
    await symlink(victim, link);
    for (const more of [[], ["--overwrite"]]) {
      const result = await runCli(sample(out, "--report", link, ...more));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${link}: is a symbolic link where maskpipe writes`);
      expect(result.stderr).not.toContain("already holds files");
      expect(await readFile(victim, "utf8")).toBe(VICTIM);
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
    }
  });

  it("a named pipe (as a device): refused, never removed, also with --overwrite", async () => {
    const { dir, out } = await place();
    const pipe = join(dir, "report.json");
    execFileSync("mkfifo", [pipe]);
    const result = await runCli(sample(out, "--report", pipe, "--overwrite"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${pipe}: is not a regular file`);
    expect((await lstat(pipe)).isFIFO()).toBe(true);
  });

  it("an earlier run's report: a plain run names it, --overwrite replaces it", async () => {
    const { dir, out } = await place();
    const report = join(dir, "report.json");
    expect((await runCli(sample(out, "--report", report))).code).toBe(0);
    const again = await runCli(sample(out, "--report", report));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already holds files of an earlier run of sample");
    expect((await runCli(sample(out, "--report", report, "--overwrite"))).code).toBe(0);
    expect(JSON.parse(await readFile(report, "utf8")).name).toBe("sample");
  });
});

describe("a Hub repo's own README.md", () => {
  const REPO = "me/has-readme";
  const USERS = "# My dataset\n\nWritten by hand.\n";
  let hub: FakeHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it("is kept by a plain run, which says so; --overwrite replaces it with the card", async () => {
    hub = await startFakeHub();
    const repo = new HubRepo({
      repo: { name: REPO, revision: "main" },
      hubUrl: hub.url,
      accessToken: hub.token,
      fetch: hubFetch(HUB_RETRY).fetch,
      useXet: false,
      spec: `hf://datasets/${REPO}`,
    });
    await repo.open({ private: false });
    hub.commitElsewhere(REPO, "README.md", USERS);
    const args = (...more: string[]) => [
      ...sample(`hf://datasets/${REPO}`),
      "--hub-url",
      hub!.url,
      "--hf-token",
      hub!.token,
      ...more,
    ];
    const kept = await runCli(args());
    expect(kept.code).toBe(0);
    expect(kept.stderr).toContain(
      `hf://datasets/${REPO}: its README.md is not one maskpipe wrote: kept, and no dataset card written; pass --overwrite to replace it with the card`,
    );
    expect(hub.read(REPO, "README.md").toString()).toBe(USERS);
    expect(JSON.parse(hub.read(REPO, "report.json").toString()).notes).toHaveLength(1);

    const replaced = await runCli(args("--overwrite"));
    expect(replaced.code).toBe(0);
    expect(replaced.stderr).not.toContain("README.md is not one maskpipe wrote");
    expect(hub.read(REPO, "README.md").toString()).toContain("written by maskpipe");
  });
});
