/**
 * An overlay worker process (overlay-workers.ts starts it): requests on stdin, replies on stdout,
 * framed (overlay-frames.ts). It runs the same `attemptOverlay` as the in-process stage, so its
 * images are the same bytes. It ends when its input ends, which is also what happens when the
 * process that started it dies, even by kill -9.
 */
import { cpuSecondsUsed, peakRssBytes } from "../core/process-usage.js";
import { attemptOverlay, resolveOverlayOptions } from "./overlay.js";
import { FrameReader, frameBuffers } from "./overlay-frames.js";
import type { OverlayReply, OverlayRequest, WorkerSettings } from "./overlay-messages.js";

const settings = JSON.parse(process.argv[2] ?? "{}") as WorkerSettings;
const options = resolveOverlayOptions({ ...settings, onError: "skip" });
const output = process.stdout;
// Anything a library prints goes to stderr: stdout carries the frames.
console.log = console.error;
// The stage is gone (the pipe is closed): nothing is waiting for the rest.
output.on("error", () => process.exit(1));

let pending = 0;
let ended = false;

function send(reply: OverlayReply, payloads: Buffer[] = []): void {
  output.cork();
  for (const buffer of frameBuffers(reply, payloads)) output.write(buffer);
  output.uncork();
}

async function handle(request: OverlayRequest, photo: Buffer, mask: Buffer): Promise<void> {
  pending++;
  try {
    const pair = {
      key: request.key,
      photo: { ...request.photo, data: photo },
      mask: { ...request.mask, data: mask },
    };
    const result = await attemptOverlay(pair, options);
    if ("image" in result) {
      const { width, height, maskWidth, maskHeight, extension, image } = result;
      send(
        {
          id: request.id,
          sample: { width, height, maskWidth, maskHeight, extension },
          sizes: [image.length],
        },
        [image],
      );
    } else {
      send({ id: request.id, failure: result, sizes: [] });
    }
  } catch (error) {
    send({ id: request.id, fatal: (error as Error)?.stack ?? String(error), sizes: [] });
  } finally {
    pending--;
    finishWhenDone();
  }
}

function finishWhenDone(): void {
  if (!ended || pending > 0) return;
  send({
    id: -1,
    usage: { cpuSeconds: cpuSecondsUsed(), peakRssBytes: peakRssBytes() },
    sizes: [],
  });
  process.exit(0);
}

const reader = new FrameReader<OverlayRequest>();
process.stdin.on("data", (chunk: Buffer) => {
  for (const { header, payloads } of reader.push(chunk)) {
    void handle(header, payloads[0]!, payloads[1]!);
  }
});
process.stdin.on("end", () => {
  ended = true;
  finishWhenDone();
});
