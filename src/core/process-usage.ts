import { readFileSync } from "node:fs";

/**
 * This process's peak resident memory in bytes. On Linux from `VmHWM`: getrusage's maxrss (what
 * `process.resourceUsage().maxRSS` reads) keeps, across exec, the high-water mark of the copy of
 * the parent that fork made, so a child started by a 1.8 GB parent reported 1.8 GB.
 */
export function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (match !== null) return Number(match[1]) * 1024;
  } catch {
    // No /proc (macOS, Windows): maxrss is the best there is.
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** CPU seconds this process has used so far (user + system, all threads). */
export function cpuSecondsUsed(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
