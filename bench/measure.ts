import { readFileSync } from "node:fs";
import type { HubStats } from "../src/sinks/hub/hub-stats.js";

/** What each measurement prints as its last stdout line (JSON), read by bench/run.ts. */
export interface Measurement {
  what: string;
  images: number;
  seconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** CPU seconds of the run's main (JavaScript) thread, from its report (CLI runs, Linux). */
  mainThreadCpuSeconds?: number;
  /** Sizes of the shards written (pipeline runs). */
  shardBytes?: number[];
  /** What publishing to a Hub repo cost (bench/hub.ts). */
  hub?: HubStats;
  /** Epoch ms the measured work began and ended (processes side by side are joined by it). */
  window?: { start: number; end: number };
}

/**
 * CPU seconds of this process's waited-for children (Linux /proc), so a command that runs its
 * work in a child of its own (the CLI's launcher) is measured whole. Undefined elsewhere.
 */
export function childrenCpuSecondsNow(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // cutime and cstime, fields 16 and 17 of proc(5), in clock ticks (100 per second on Linux).
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}
