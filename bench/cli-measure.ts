import { spawn } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { childrenCpuSecondsNow, type Measurement } from "./measure.js";

/**
 * Runs `node args...` from `cwd` (on the CPUs `cpus` lists, through taskset, when given);
 * resolves with its stdout and wall time, rejects on failure.
 */
export function child(
  args: string[],
  cwd: string,
  cpus?: string,
): Promise<{ stdout: string; seconds: number }> {
  return cpus === undefined
    ? command(process.execPath, args, cwd)
    : command("taskset", ["-c", cpus, process.execPath, ...args], cwd);
}

/** Runs `program args...` from `cwd`; resolves with its stdout and wall time, rejects on failure. */
export function command(
  program: string,
  args: string[],
  cwd: string,
): Promise<{ stdout: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const process_ = spawn(program, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    process_.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    // The CLI's summary goes to stderr: shown only when something went wrong.
    process_.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    process_.on("error", reject);
    process_.on("close", (code) =>
      code === 0
        ? resolve({ stdout, seconds: (performance.now() - started) / 1000 })
        : reject(new Error(`${program} ${args.join(" ")} exited ${code}\n${stderr}`)),
    );
  });
}

export interface CliRun {
  /** The package root: dist/cli/bin.js is run from there. */
  root: string;
  pipeline: string;
  originals: string;
  masks: string;
  /** Output folder; removed first. */
  out: string;
  /** `--concurrency`; default the command's own. */
  concurrency?: number;
  /** `--workers`. */
  workers?: number;
  /** `--overlay-workers`; default the command's own (the usable cores). */
  overlayWorkers?: number;
  /** CPUs to run on (`taskset -c`), e.g. "0". */
  cpus?: string;
  /** More flags, e.g. `--labels none`. */
  flags?: readonly string[];
}

/**
 * The CLI as a user runs it: wall time with both node start-ups; CPU of the launcher, its worker
 * and their children (overlay workers, a 7-Zip, --workers' processes), from /proc; peak RSS of
 * the worker and its overlay workers, or with --workers the sum of the partition processes'
 * (the launcher adds ~43 MiB).
 */
export async function measureCli(run: CliRun): Promise<Measurement> {
  await rm(run.out, { recursive: true, force: true });
  const cpuBefore = childrenCpuSecondsNow();
  const { seconds } = await child(
    [
      "dist/cli/bin.js",
      "run",
      run.pipeline,
      "--originals",
      run.originals,
      "--masks",
      run.masks,
      "--out",
      run.out,
      ...(run.concurrency === undefined ? [] : ["--concurrency", String(run.concurrency)]),
      ...(run.workers === undefined ? [] : ["--workers", String(run.workers)]),
      ...(run.overlayWorkers === undefined
        ? []
        : ["--overlay-workers", String(run.overlayWorkers)]),
      ...(run.flags ?? []),
      "--quiet",
    ],
    run.root,
    run.cpus,
  );
  const report = JSON.parse(await readFile(join(run.out, "report.json"), "utf8"));
  // The whole tree: the run's process and its overlay worker processes.
  let peakRssBytes: number = report.peakRssBytes + (report.overlayWorkers?.peakRssBytes ?? 0);
  if (run.workers !== undefined && run.workers > 1) {
    peakRssBytes = 0;
    for (const label of await readdir(join(run.out, "partitions"))) {
      const part = JSON.parse(
        await readFile(join(run.out, "partitions", label, "report.json"), "utf8"),
      );
      peakRssBytes += part.peakRssBytes;
    }
  }
  const cpuAfter = childrenCpuSecondsNow();
  return {
    what: "cli",
    images: report.written,
    seconds,
    cpuSeconds:
      cpuBefore === undefined || cpuAfter === undefined ? report.cpuSeconds : cpuAfter - cpuBefore,
    peakRssBytes,
    ...(report.mainThreadCpuSeconds !== undefined && {
      mainThreadCpuSeconds: report.mainThreadCpuSeconds,
    }),
  };
}
