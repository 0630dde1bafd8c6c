#!/usr/bin/env node
/**
 * The `maskpipe` command: runs command.js (main() on the arguments) in a node started with HEAP_FLAGS (why: heap-flags.ts),
 * on the same stdio, and ends as it ends.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { HEAP_FLAGS } from "../core/heap-flags.js";
import { concurrencyFlag, defaultConcurrency, threadPoolSize } from "../core/thread-pool.js";
import { commandPrefix, INVOKED_AS_VARIABLE } from "./invocation.js";

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

// Run from source (tests, tsx), the sibling is command.ts.
const mainFile = fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "./command.ts" : "./command.js", import.meta.url),
);
const child = spawn(
  process.execPath,
  // The user's own node flags come after ours, so theirs win.
  [...HEAP_FLAGS, ...process.execArgv, mainFile, ...process.argv.slice(2)],
  {
    // The IPC channel closes when this process dies, even by SIGKILL: command.ts then ends too.
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    // Its own process group, so a terminal's Ctrl-C reaches it once, forwarded from here, not
    // twice (a second SIGINT ends a run at once). Windows would open a console window for it.
    detached: process.platform !== "win32",
    // One pool thread per image in flight (thread-pool.ts); a size the user set is kept.
    env: {
      ...process.env,
      UV_THREADPOOL_SIZE:
        process.env.UV_THREADPOOL_SIZE ??
        String(threadPoolSize(concurrencyFlag(process.argv) ?? defaultConcurrency())),
      // How the user started maskpipe, so every command it prints starts it the same way.
      [INVOKED_AS_VARIABLE]: commandPrefix({
        script: process.argv[1],
        execPath: process.execPath,
        path: process.env.PATH,
      }),
    },
  },
);
const forward = (signal: NodeJS.Signals) => child.kill(signal);
for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
// Ctrl-Z stops the foreground process group, which the worker is not in: stop it along with
// this process, and let `fg` or `bg` (SIGCONT) start both again. The worker leads a group of its
// own (detached), which its overlay worker processes, --workers' processes and a 7-Zip are in:
// the signal goes to that whole group, so none of them runs on while the run is stopped.
const toWorkerGroup = (signal: NodeJS.Signals) => {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
};
const suspend = () => {
  toWorkerGroup("SIGSTOP");
  process.kill(process.pid, "SIGSTOP");
};
const resume = () => toWorkerGroup("SIGCONT");
if (process.platform !== "win32") {
  process.on("SIGTSTP", suspend);
  process.on("SIGCONT", resume);
}
// Started by a program through fork(): its IPC channel must not keep this process alive.
process.channel?.unref();
child.on("error", (error) => {
  process.stderr.write(`maskpipe: cannot start ${process.execPath}: ${error.message}\n`);
  process.exitCode = 1;
});
child.on("exit", (code, signal) => {
  for (const forwarded of FORWARDED_SIGNALS) process.off(forwarded, forward);
  process.off("SIGTSTP", suspend);
  process.off("SIGCONT", resume);
  if (signal !== null) process.kill(process.pid, signal);
  else process.exitCode = code ?? 1;
});
