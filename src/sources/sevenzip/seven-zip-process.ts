import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { MaskpipeError } from "../../core/errors.js";
import type { SevenZipBinary } from "./seven-zip-binary.js";

/** Lines of 7-Zip's stderr kept for messages: the first say where it went wrong. */
const KEPT_LINES = 20;

/** 7-Zip processes still running: a process that exits takes them with it. */
const running = new Set<{ kill(signal: NodeJS.Signals): boolean }>();
let exitHook = false;

/**
 * An interrupted run ends its process without waiting for stream clean-up (a stalled download
 * must not hold it); a 7-Zip it started must not outlive it, even for a moment.
 */
function killOnExit(child: { kill(signal: NodeJS.Signals): boolean }): void {
  running.add(child);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const left of running) left.kill("SIGKILL");
  });
}

/** One 7-Zip process: its stdout to read, its complaints, and how it ended. */
export interface SevenZipRun {
  readonly stdout: Readable;
  /** 7-Zip's first stderr lines (`ERROR: CRC Failed : img/b.bin`, ...). */
  errors(): string[];
  /** How many stderr lines it wrote in all. */
  errorCount(): number;
  /** Settles when the process has exited and its pipes are closed (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends the process if it still runs, and waits for it: no orphan, no zombie. */
  stop(): Promise<void>;
}

/**
 * Starts 7-Zip with `args`. Archive names and paths reach it as UTF-8 (C.UTF-8 locale); stdin
 * is closed, so a question (a password) can never hang the run; an abort ends the process.
 */
export function startSevenZip(
  binary: SevenZipBinary,
  args: readonly string[],
  signal?: AbortSignal,
): SevenZipRun {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(binary.path, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LC_ALL: "C.UTF-8", LANG: "C.UTF-8" },
  });
  const lines: string[] = [];
  let count = 0;
  let partial = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    const parts = (partial + text).split(/\r?\n/);
    partial = parts.pop() ?? "";
    for (const line of parts) {
      if (line.trim() === "") continue;
      count++;
      if (lines.length < KEPT_LINES) lines.push(line.trim());
    }
  });
  killOnExit(child);
  let failedToStart: Error | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("error", (error) => {
      failedToStart = error;
      resolve({ code: null, signal: null });
    });
    child.on("close", (code, exitSignal) => resolve({ code, signal: exitSignal }));
    child.on("exit", () => running.delete(child));
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  signal?.addEventListener("abort", kill, { once: true });
  void exited.then(() => signal?.removeEventListener("abort", kill));
  return {
    stdout: child.stdout,
    errors: () => {
      if (failedToStart !== undefined)
        return [`cannot start ${binary.path}: ${failedToStart.message}`];
      return partial.trim() === "" ? [...lines] : [...lines, partial.trim()];
    },
    errorCount: () => count,
    exited,
    stop: async () => {
      kill();
      child.stdout.destroy();
      await exited;
    },
  };
}

/** What 7-Zip said went wrong, as one message naming the archive. */
export function sevenZipFailure(
  archive: string,
  what: string,
  errors: readonly string[],
  total = errors.length,
): MaskpipeError {
  const said = errors.filter((line) => /error|wrong|unexpected|cannot|missing/i.test(line));
  const shown = (said.length > 0 ? said : errors).slice(0, 3);
  const more = total > shown.length ? `, and ${total - shown.length} more lines` : "";
  const text = shown.join("; ") + (shown.length > 0 ? more : "");
  return new MaskpipeError(
    "ERR_7Z_CORRUPT",
    `${archive}: ${what}${text === "" ? "" : ` (7-Zip: ${text})`}`,
    { archive },
  );
}
