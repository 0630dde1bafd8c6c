import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/cli.js";
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

/** The README's library example, run as written but against src/ and a temp output folder. */
describe("README", () => {
  it("library example runs and writes what it says", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const match = /<!-- example: library[^>]*-->\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(match).not.toBeNull();
    const dir = await tempDir();
    const code = match![1]!
      .replace('from "maskpipe"', `from ${JSON.stringify(join(ROOT, "src/index.ts"))}`)
      .replace('"out/library-example"', JSON.stringify(join(dir, "out")));
    expect(await runExample(dir, code)).toBe(
      "33 written; 3 photos without mask\nsample-000000.tar\n",
    );
  });

  for (const [name, expected] of [
    ["library-resize", "33 samples of 112x112\n"],
    ["library-sink", "0000107: 8, 0000102: 9, 0000099: 8, 0000045: 8\n"],
    ["library-iterate", "stopped after 10 samples\n"],
  ] as const) {
    it(`docs/library.md example ${name} runs and prints what it says`, async () => {
      const doc = await readFile(join(ROOT, "docs/library.md"), "utf8");
      const match = new RegExp(
        `<!-- example: ${name}[^>]*-->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``,
      ).exec(doc);
      expect(match).not.toBeNull();
      const dir = await tempDir();
      const code = match![1]!
        .replace('from "maskpipe"', `from ${JSON.stringify(join(ROOT, "src/index.ts"))}`)
        // The example is written to a temp folder: its other packages come from this checkout.
        .replace('from "sharp"', `from ${JSON.stringify(import.meta.resolve("sharp"))}`)
        .replace('"out/resized-example"', JSON.stringify(join(dir, "out")));
      expect(await runExample(dir, code)).toBe(expected);
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
