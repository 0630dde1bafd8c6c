import type { HubStats } from "../src/sinks/hub-sink.js";

/** What each measurement prints as its last stdout line (JSON), read by bench/run.ts. */
export interface Measurement {
  what: string;
  images: number;
  seconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** Sizes of the shards written (pipeline runs). */
  shardBytes?: number[];
  /** What publishing to a Hub repo cost (bench/hub.ts). */
  hub?: HubStats;
}

export function cpuSecondsNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
