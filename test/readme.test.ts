import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/cli.js";
import { docExamples } from "./support/doc-examples.js";
import { tempDir } from "./support/temp.js";

/** Runs an example as a user would (from the package root), returns its stdout; it must exit 0. */
async function runExample(dir: string, code: string): Promise<string> {
  const file = join(dir, "example.mts");
  await writeFile(file, code);
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exitCode = await new Promise((resolve) => child.on("close", resolve));
  expect(exitCode).toBe(0);
  return stdout;
}

/**
 * The library examples of the README and docs/library.md, run as written but against src/ (the
 * fast path; test/install.test.ts runs them from a project that installed the packed tarball).
 */
const examples = await docExamples();

describe("README", () => {
  for (const example of examples) {
    it(`${example.doc} example ${example.name} runs and prints what it says`, async () => {
      const dir = await tempDir();
      const code = example.code
        .replace('from "maskpipe"', `from ${JSON.stringify(join(ROOT, "src/index.ts"))}`)
        // The example is written to a temp folder: its other packages come from this checkout.
        .replace('from "sharp"', `from ${JSON.stringify(import.meta.resolve("sharp"))}`)
        .replace(/"out\/[\w-]+"/, JSON.stringify(join(dir, "out")));
      expect(await runExample(dir, code)).toBe(example.stdout);
    });
  }

  it("quick start has exactly the two promised commands", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const quick = /## Quick start\n\n```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(
      quick
        .trim()
        .split("\n")
        .map((line) => line.split("#")[0]!.trim()),
    ).toEqual(["npm ci && npm start", "npm ci && npm test"]);
  });
});
