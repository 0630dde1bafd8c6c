import { type ChildProcess, spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { mergePartitions } from "../commands/merge/merge-partitions.js";
import { MaskpipeError } from "../core/errors.js";
import { MAX_PARTITIONS } from "../core/partition.js";
import { defaultConcurrency, threadPoolSize } from "../core/thread-pool.js";
import type { RunReport } from "../dataset/report.js";
import type { RunProgress } from "../run/run-options.js";

/**
 * `--workers auto`: a process per core. Measured on 2 cores at steady state (docs/scale.md):
 * 2 processes of 2 images in flight made CelebA-like 211.6 img/s against 178.0 for 1 process
 * of 4, CASIA-like 387.1 against 345.0: each process's JavaScript thread (the join, sharp's
 * per-call work, the blend, tar packing and hashing) is its own, and one process's threads
 * contend with each other (the codec work alone costs 3.35 CPU ms an image in 2 processes,
 * 4.33 in one).
 */
export function autoWorkers(cores = availableParallelism()): number {
  return Math.max(1, cores);
}

/** `--workers K|auto` as a count. */
export function parseWorkers(text: string): number {
  if (text === "auto") return autoWorkers();
  if (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_PARTITIONS)
    return Number(text);
  throw new MaskpipeError(
    "ERR_INVALID_OPTION",
    `Expected --workers to be a number of processes (1 or more) or auto, but received "${text}"`,
  );
}

export interface LocalWorkersOptions {
  /** The `maskpipe run` arguments, `--workers` taken out. */
  args: readonly string[];
  /** The whole command as the card shows it (a token left out). */
  command: string;
  workers: number;
  out: string;
  /** `--concurrency` given by the user, for each worker; else the cores shared among them. */
  concurrency: number | undefined;
  maxFailed: number | string | undefined;
  hub: { token?: string; endpoint?: string } | undefined;
  signal: AbortSignal;
  onProgress: ((progress: RunProgress) => void) | undefined;
}

export interface LocalWorkersResult {
  /** The merged report, when every worker finished. */
  report?: RunReport;
  /** The first worker that did not finish: its exit code and what it printed. */
  failed?: { partition: number; code: number; stderr: string };
}

/**
 * One run as `workers` processes on this machine: each is `maskpipe run ... --partition I/K`
 * into the same output, then their partitions are merged. Each process has its own main thread,
 * so the cores are not capped by one (the samples' bytes are the same as one process makes; the
 * shards are named by partition).
 */
export async function runLocalWorkers(options: LocalWorkersOptions): Promise<LocalWorkersResult> {
  const { workers } = options;
  const perWorker = options.concurrency ?? Math.max(1, Math.round(defaultConcurrency() / workers));
  const started = performance.now();
  const progress: (RunProgress | undefined)[] = new Array(workers).fill(undefined);
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children) child.kill("SIGINT");
  };
  options.signal.addEventListener("abort", stop, { once: true });
  const ends = Array.from({ length: workers }, (_, index) => {
    const child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        mainFile(),
        "run",
        ...options.args,
        "--partition",
        `${index}/${workers}`,
        "--quiet",
        ...(options.concurrency === undefined ? ["--concurrency", String(perWorker)] : []),
        // K processes already use the cores: each overlays in itself unless told otherwise.
        ...(options.args.some((arg) => arg.startsWith("--overlay-workers"))
          ? []
          : ["--overlay-workers", "1"]),
      ],
      {
        stdio: ["ignore", "ignore", "pipe", "ipc"],
        env: {
          ...process.env,
          UV_THREADPOOL_SIZE: String(threadPoolSize(perWorker)),
          MASKPIPE_PROGRESS: "ipc",
        },
      },
    );
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Each worker sends its own progress as it goes (MASKPIPE_PROGRESS=ipc).
    child.on("message", (message: RunProgress) => {
      progress[index] = message;
      options.onProgress?.(combined(progress, started));
    });
    return new Promise<{ partition: number; code: number; stderr: string }>((resolve) => {
      child.on("error", (error) =>
        resolve({ partition: index, code: 1, stderr: `cannot start a worker: ${error.message}` }),
      );
      child.on("close", (code, signal) =>
        resolve({ partition: index, code: code ?? (signal === null ? 1 : 130), stderr }),
      );
    });
  });
  const results = await Promise.all(ends);
  options.signal.removeEventListener("abort", stop);
  // A worker that stopped on an error says more than one interrupted because of it.
  const failed =
    results.find((result) => result.code !== 0 && result.code !== 3 && result.code !== 130) ??
    results.find((result) => result.code === 130);
  if (failed !== undefined) return { failed };
  const report = await mergePartitions(options.out, {
    ...(options.maxFailed !== undefined && { maxFailed: options.maxFailed }),
    ...(options.hub?.token !== undefined && { token: options.hub.token }),
    ...(options.hub?.endpoint !== undefined && { hubUrl: options.hub.endpoint }),
    command: options.command,
  });
  return { report };
}

/** The workers' progress as one run's. */
function combined(progress: readonly (RunProgress | undefined)[], started: number): RunProgress {
  const known = progress.filter((p) => p !== undefined);
  const sum = (field: (p: RunProgress) => number) => known.reduce((t, p) => t + field(p), 0);
  const allExpected =
    known.length === progress.length && known.every((p) => p.expected !== undefined);
  return {
    written: sum((p) => p.written),
    failed: sum((p) => p.failed),
    expected: allExpected ? sum((p) => p.expected ?? 0) : undefined,
    seconds: (performance.now() - started) / 1000,
    networkBytes: sum((p) => p.networkBytes),
  };
}

/** The command's worker script beside this file: command.js, or command.ts run from source. */
function mainFile(): string {
  return fileURLToPath(
    new URL(import.meta.url.endsWith(".ts") ? "./command.ts" : "./command.js", import.meta.url),
  );
}
