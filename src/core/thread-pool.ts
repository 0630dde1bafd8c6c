import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/*
 * How many images are in flight and how many threads work on them. sharp runs each image's
 * decode and encode as a task on libuv's thread pool, one libvips thread per image here, so the
 * pool's size caps the cores a run uses: 4 threads unless UV_THREADPOOL_SIZE says otherwise,
 * whatever the machine. libuv reads that variable once, when the pool first starts, so it must
 * be set before the process starts: the `maskpipe` command's launcher does it for its worker.
 */

/**
 * Images in flight by default: twice the cores this process may use (`taskset` and cgroup CPU
 * sets count). Measured on 2 cores, CelebA-like overlay alone: 2 in flight 166-181 img/s, 4
 * 200-221, 8 217-234; on 1 core (taskset): 1 in flight 134-142, 2 135-136, 4 120.
 */
export function defaultConcurrency(): number {
  return 2 * usableCores();
}

/**
 * The cores this process may use: its CPU affinity (`taskset`, cgroup CPU sets), and a cgroup CPU
 * quota (a container's `--cpus`, Kubernetes' CPU limit) rounded up, whichever is fewer.
 */
export function usableCores(): number {
  const quota = cgroupCpuQuota();
  const cores = availableParallelism();
  return quota === undefined ? cores : Math.max(1, Math.min(cores, Math.ceil(quota)));
}

/** CPUs' worth of time the cgroup allows (cgroup v2 `cpu.max`, else v1's CFS files), if any. */
export function cgroupCpuQuota(root = "/sys/fs/cgroup"): number | undefined {
  const read = (file: string) => {
    try {
      return readFileSync(`${root}/${file}`, "utf8").trim();
    } catch {
      return undefined;
    }
  };
  const v2 = read("cpu.max")?.split(/\s+/);
  const [quota, period] = v2 ?? [read("cpu/cpu.cfs_quota_us"), read("cpu/cpu.cfs_period_us")];
  const q = Number(quota);
  const p = Number(period);
  return Number.isFinite(q) && q > 0 && Number.isFinite(p) && p > 0 ? q / p : undefined;
}

/** libuv's own limit on its pool. */
const MAX_POOL = 1024;

/**
 * The thread pool a run of `concurrency` images in flight needs: one thread per image, and at
 * least libuv's default 4 (file reads and zlib share the pool).
 */
export function threadPoolSize(concurrency: number): number {
  return Math.min(MAX_POOL, Math.max(4, concurrency));
}

/**
 * `--concurrency N` from a command line (either spelling), or `undefined`: the launcher sizes
 * the pool before the command's own parser runs.
 */
export function concurrencyFlag(argv: readonly string[]): number | undefined {
  for (const [i, arg] of argv.entries()) {
    const value = arg === "--concurrency" ? argv[i + 1] : /^--concurrency=(.*)$/.exec(arg)?.[1];
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}
