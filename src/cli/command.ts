#!/usr/bin/env node
/**
 * The process bin.ts starts (with the heap flags and thread pool it sets): runs main() on its
 * arguments and ends with its exit code.
 */
import { EXIT, main } from "./main.js";

// Started by bin.ts: when it is gone, even by kill -9, this run goes as if killed with it.
if (process.channel !== undefined) {
  process.channel.unref();
  process.once("disconnect", () => process.kill(process.pid, "SIGKILL"));
}
process.exitCode = await main(process.argv.slice(2));
// An interrupted run is over: a request still pending (a stalled server) must not keep it alive.
if (process.exitCode === EXIT.interrupted) process.exit();
