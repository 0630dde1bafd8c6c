import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { transform } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "../src/dataset/report.js";
import { finished, ROOT } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { docExamples } from "./support/doc-examples.js";
import { tempDirForFile } from "./support/temp.js";

const run = promisify(execFile);
const readJson = async <T>(path: string): Promise<T> =>
  JSON.parse(await readFile(path, "utf8")) as T;

/** npm, as a user runs it: offline from the cache that npm ci filled, else the registry. */
async function npm(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd,
    env: { ...process.env, npm_config_loglevel: "error" },
  });
  return stdout;
}

/**
 * The package as `npm pack` makes it, with dist/ from this test run's transpile of src/
 * (build-for-tests.ts: the same code as npm ci's tsc build, which typecheck covers, in a second
 * rather than twenty).
 */
let dir: string;
let tarball: string;
beforeAll(async () => {
  dir = await tempDirForFile();
  const stage = join(dir, "stage");
  await mkdir(stage);
  for (const file of ["package.json", "README.md", "pipelines", "sample"]) {
    await cp(join(ROOT, file), join(stage, file), { recursive: true });
  }
  await cp(join(ROOT, "test-dist"), join(stage, "dist"), { recursive: true });
  const packed = JSON.parse(
    await npm(stage, "pack", "--json", "--ignore-scripts", "--pack-destination", dir),
  ) as { filename: string }[];
  tarball = join(dir, packed[0]!.filename);
}, 60_000);

describe("npm install -g of the packed tarball", () => {
  it("runs `maskpipe` from another folder, and the resume it prints after Ctrl-C as printed", async () => {
    const prefix = join(dir, "prefix");
    await npm(dir, "install", "-g", "--prefix", prefix, tarball);
    const elsewhere = join(dir, "elsewhere");
    await mkdir(elsewhere);
    const env = { ...process.env, PATH: `${join(prefix, "bin")}:${process.env.PATH}` };
    const maskpipe = (...args: string[]) => spawn("maskpipe", args, { cwd: elsewhere, env });

    const demo = await finished(maskpipe("run", "sample", "--out", "sample-out"));
    expect(demo.code, demo.stderr).toBe(0);
    expect((await readJson<RunReport>(join(elsewhere, "sample-out/report.json"))).written).toBe(33);

    const files = await corpusFiles({ keys: casiaKeys(200, 100, 4), size: 40 });
    const photos = await writeArchive(elsewhere, "photos", "zip", files.photos);
    const masks = await writeArchive(elsewhere, "masks", "tar", files.masks);
    const args = ["--originals", photos, "--masks", masks, "--shard-max-count", "10"];
    const child = maskpipe("run", "casia", ...args, "--out", "out", "--concurrency", "1");
    const interrupted = finished(child);
    while (!existsSync(join(elsewhere, "out/casia-000001.tar")))
      await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill("SIGINT");
    const { code, stderr } = await interrupted;
    expect(code, stderr).toBe(130);
    const printed = /continue with\s+(.*)\n/.exec(stderr)?.[1];
    expect(printed).toBe(`maskpipe run casia ${args.join(" ")} --out out --concurrency 1 --resume`);
    const resumed = await finished(spawn("sh", ["-c", printed!], { cwd: elsewhere, env }));
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = await readJson<RunReport>(join(elsewhere, "out/report.json"));
    expect(report.resumed).toBeGreaterThan(0);
    expect(report.written + report.resumed).toBe(200);
  }, 60_000);
});

describe("the library examples in a project of their own", () => {
  it("run as written once the project has installed the packed tarball (and sharp)", async () => {
    const project = join(dir, "project");
    await mkdir(project);
    await writeFile(join(project, "package.json"), '{ "type": "module", "private": true }\n');
    const sharp = await readJson<{ version: string }>(
      join(ROOT, "node_modules/sharp/package.json"),
    );
    await npm(project, "install", tarball, `sharp@${sharp.version}`);
    for (const example of await docExamples()) {
      // TypeScript as the user's own build would strip it; then plain node in the project.
      const { code } = await transform(example.code, { loader: "ts", format: "esm" });
      await writeFile(join(project, `${example.name}.mjs`), code);
      const result = await finished(
        spawn(process.execPath, [`${example.name}.mjs`], { cwd: project, stdio: "pipe" }),
      );
      expect(result.stderr, example.name).toBe("");
      expect(result.stdout, example.name).toBe(example.stdout);
    }
  }, 60_000);
});
