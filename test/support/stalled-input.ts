import { join } from "node:path";
import { type CliResult, finished, ROOT, startCli } from "./cli.js";
import { startFileServer } from "./http-server.js";

/**
 * Runs `maskpipe run sample` with its photos from a server that never answers, and sends SIGINT
 * once `waiting` requests for them are pending; resolves with how the command ended and how
 * long after the signal.
 */
export async function interruptWhileOpening(
  args: readonly string[],
  waiting = 1,
): Promise<CliResult & { secondsAfterSignal: number }> {
  const server = await startFileServer([join(ROOT, "sample/sample-photos.zip")], () => "stall");
  try {
    const child = startCli([
      "run",
      "sample",
      "--originals",
      server.url("sample-photos.zip"),
      ...args,
    ]);
    const result = finished(child);
    while (server.requests < waiting) await new Promise((r) => setTimeout(r, 20));
    const sent = performance.now();
    child.kill("SIGINT");
    const ended = await result;
    return { ...ended, secondsAfterSignal: (performance.now() - sent) / 1000 };
  } finally {
    await server.close();
  }
}
