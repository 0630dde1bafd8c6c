/**
 * vitest's globalSetup: transpiles src/ into test-dist/ once per test run, so the tests that
 * start the CLI as a process start plain node on JavaScript (about 0.1 s) instead of tsx
 * compiling the sources in each of the two processes the command is (about 2 s each time).
 * Types are checked by `npm run typecheck` before vitest; this only strips them.
 */
import { readdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

const ROOT = join(import.meta.dirname, "../..");
/** Two levels under the root, as dist/ is, so ../../pipelines and package.json resolve alike. */
export const TEST_DIST = join(ROOT, "test-dist");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

export default async function setup(): Promise<void> {
  await rm(TEST_DIST, { recursive: true, force: true });
  const src = join(ROOT, "src");
  await build({
    entryPoints: sourceFiles(src),
    outdir: TEST_DIST,
    outbase: src,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    logLevel: "error",
  });
}
