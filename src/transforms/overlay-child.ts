/**
 * An overlay worker process (overlay-workers.ts starts it): requests on stdin, replies on stdout,
 * framed (overlay-frames.ts). It runs the same `madeImages` as the in-process stage, so its
 * images (and masks' alpha PNGs) are the same bytes. It ends when its input ends, which is also what happens when the
 * process that started it dies, even by kill -9.
 */
import { cpuSecondsUsed, peakRssBytes } from "../core/process-usage.js";
import { failureOf, madeImages, resolveOverlayOptions } from "./overlay.js";
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
    const item = {
      key: request.key,
      photo: { ...request.photo, data: photo },
      ...(request.mask !== null && { mask: { ...request.mask, data: mask } }),
    };
    let made: Awaited<ReturnType<typeof madeImages>>;
    try {
      made = await madeImages(item, request.blend, options);
    } catch (error) {
      send({ id: request.id, failure: failureOf(item, error), sizes: [] });
      return;
    }
    const { image, maskAlpha, ...sample } = made;
    const payloads = maskAlpha === undefined ? [image] : [image, maskAlpha];
    send({ id: request.id, sample, sizes: payloads.map((payload) => payload.length) }, payloads);
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
