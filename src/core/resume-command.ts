import { HIDDEN } from "./redact.js";

/**
 * The `maskpipe run ...` that goes on from an interrupted run: the same, with --resume, started
 * as the user started this one (`prefix`: src/cli/invocation.ts). Secrets are not shown
 * (redact.ts), so it says where the user gives theirs again.
 */
export function resumeCommand(command: string, prefix = "maskpipe"): string {
  const words = command.split(" ").filter((word) => word !== "--overwrite" && word !== "");
  if (!words.includes("--resume")) words.push("--resume");
  const hidden = command.includes(HIDDEN)
    ? ` (give your own ${HIDDEN}: header values, tokens and URL queries are not shown)`
    : "";
  return `${prefix} run ${words.join(" ")}${hidden}`;
}
