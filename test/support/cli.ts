import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "../..");

/** The CLI's launcher as built for this test run (build-for-tests.ts), as `npx maskpipe` runs dist/. */
export const CLI = join(ROOT, "test-dist/cli/bin.js");

/** Starts the CLI through its launcher, as `npx maskpipe` does. */
export function startCli(
  args: string[],
  cwd = ROOT,
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0", ...env },
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function runCli(
  args: string[],
  cwd = ROOT,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return finished(startCli(args, cwd, env));
}
