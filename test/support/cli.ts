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

/** Runs the CLI as a process of its own: for what only a process shows (signals, its pool). */
export function runCliProcess(
  args: string[],
  cwd = ROOT,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return finished(startCli(args, cwd, env));
}

/**
 * Runs `maskpipe ARGS` as the command does, but in this process: main(argv) with stdout and
 * stderr captured, the folder and environment set for the call. About a second faster than a
 * process each call, which the suite makes a hundred times. Runs that start processes of their
 * own (--workers) go through runCliProcess.
 */
export async function runCli(
  args: string[],
  cwd = ROOT,
  env: Record<string, string> = {},
): Promise<CliResult> {
  if (args.some((arg) => arg === "--workers" || arg.startsWith("--workers="))) {
    return runCliProcess(args, cwd, env);
  }
  const { main } = await import("../../src/cli/main.js");
  const output = { stdout: "", stderr: "" };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (stream: "stdout" | "stderr") =>
    ((chunk: string | Uint8Array) => {
      output[stream] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
      return true;
    }) as typeof process.stdout.write;
  const savedEnv = Object.fromEntries(
    Object.keys({ ...env, FORCE_COLOR: "" }).map((name) => [name, process.env[name]]),
  );
  const savedCwd = process.cwd();
  Object.assign(process.env, { FORCE_COLOR: "0", ...env });
  process.chdir(cwd);
  process.stdout.write = capture("stdout");
  process.stderr.write = capture("stderr");
  try {
    const code = await main(args);
    return { code, signal: null, ...output };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    process.chdir(savedCwd);
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** `maskpipe run pipelines/casia.json` over the given archives, with small shards. */
export function casiaRun(
  photos: string,
  masks: string,
  out: string,
  shardMaxCount: string,
): string[] {
  const pipeline = join(ROOT, "pipelines/casia.json");
  return [
    "run",
    pipeline,
    "--originals",
    photos,
    "--masks",
    masks,
    "--out",
    out,
    "--shard-max-count",
    shardMaxCount,
  ];
}
