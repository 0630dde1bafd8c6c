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

/**
 * CPU seconds this process's main (JavaScript) thread has used so far, from
 * `/proc/self/task/{pid}/stat` (clock ticks, 100 a second); undefined without /proc.
 */
export function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, fields 14 and 15 of proc(5).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds this process has used so far (user + system, all threads). */
export function cpuSecondsUsed(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
