import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Why the Slurm tests cannot run here, or `undefined` when they can: only a machine without
 * `sinfo` (a developer's, without Slurm) skips them. CI starts a Slurm first (.ci/start-slurm.sh).
 */
export function slurmMissing(): string | undefined {
  const probe = spawnSync("sinfo", ["--version"], { encoding: "utf8" });
  return probe.error === undefined
    ? undefined
    : "no sinfo on PATH: this machine has no Slurm (.ci/start-slurm.sh starts one, as CI does)";
}

/** Each of `jobs`' array tasks and jobs still known to squeue: `{id} {state} {reason}` lines. */
export async function squeue(jobs: readonly string[]): Promise<string[]> {
  const args = ["--noheader", "-j", jobs.join(","), "-o", "%i %T %r"];
  // squeue refuses ids the controller has already forgotten: those are done too.
  const { stdout } = await run("squeue", args).catch((error: { stderr?: string }) => {
    if (/Invalid job id/.test(error.stderr ?? "")) return { stdout: "" };
    throw error;
  });
  return stdout.split("\n").filter((line) => line.trim() !== "");
}

export async function scontrol(...args: string[]): Promise<void> {
  await run("scontrol", args);
}

/** Cancels the test's own jobs (done ones are ignored). */
export async function scancel(jobs: readonly string[]): Promise<void> {
  await run("scancel", [...jobs]).catch(() => undefined);
}

/**
 * Waits until squeue knows none of `jobs`, calling `onPoll` with its lines each time. Throws on a
 * dependency that can never be satisfied (the merge of a failed array would wait for ever) and
 * after `timeoutMs`.
 */
export async function waitForJobs(
  jobs: readonly string[],
  timeoutMs: number,
  onPoll: (lines: string[]) => Promise<void> = async () => {},
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const lines = await squeue(jobs);
    if (lines.length === 0) return;
    const stuck = lines.find((line) => line.includes("DependencyNeverSatisfied"));
    if (stuck !== undefined) throw new Error(`a job can never start: ${stuck}`);
    if (Date.now() > until) throw new Error(`jobs still queued: ${lines.join("; ")}`);
    await onPoll(lines);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
