import { readFile } from "node:fs/promises";

/** The pids of a process's children (Linux), none once it is gone. */
export async function childrenOf(pid: number): Promise<number[]> {
  return (await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => ""))
    .trim()
    .split(" ")
    .filter((p) => p !== "")
    .map(Number);
}

/** A process's state letter (Linux): T when stopped, S asleep, R running. */
export async function processState(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]![0]!;
}
