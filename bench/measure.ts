/** What each measurement prints as its last stdout line (JSON), read by bench/run.ts. */
export interface Measurement {
  what: string;
  images: number;
  seconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

export function cpuSecondsNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
