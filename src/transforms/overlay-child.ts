/**
 * An overlay worker process (overlay-workers.ts starts it): batches of pairs on stdin, a batch of
 * replies on stdout for each, framed (overlay-frames.ts). It runs the same `madeImages` as the
 * in-process stage, so its images (and masks' alpha PNGs) are the same bytes. It ends when its
 * input ends, which is also what happens when the process that started it dies, even by kill -9.
 */
import { cpuSecondsUsed, peakRssBytes } from "../core/process-usage.js";
import { failureOf, madeImages, resolveOverlayOptions } from "./overlay.js";
import { FrameReader, frameBuffers } from "./overlay-frames.js";
import type {
  OverlayReply,
  OverlayReplyBatch,
  OverlayRequest,
  OverlayRequestBatch,
  WorkerSettings,
} from "./overlay-messages.js";

const settings = JSON.parse(process.argv[2] ?? "{}") as WorkerSettings;
const options = resolveOverlayOptions({ ...settings, onError: "skip" });
const running = Math.max(1, settings.running ?? 1);
const output = process.stdout;
// Anything a library prints goes to stderr: stdout carries the frames.
console.log = console.error;
// The stage is gone (the pipe is closed): nothing is waiting for the rest.
output.on("error", () => process.exit(1));

/** A batch as it arrived, filled in as its pairs finish; sent whole. */
interface Batch {
  replies: OverlayReply[];
  payloads: Buffer[][];
  left: number;
}

interface Job {
  request: OverlayRequest;
  photo: Buffer;
  mask: Buffer;
  batch: Batch;
}

const queue: Job[] = [];
let active = 0;
let ended = false;

function send(batch: OverlayReplyBatch, payloads: Buffer[]): void {
  output.cork();
  for (const buffer of frameBuffers(batch, payloads)) output.write(buffer);
  output.uncork();
}

async function made(request: OverlayRequest, photo: Buffer, mask: Buffer) {
  const item = {
    key: request.key,
    photo: { ...request.photo, data: photo },
    ...(request.mask !== null && { mask: { ...request.mask, data: mask } }),
  };
  try {
    const { image, maskAlpha, ...sample } = await madeImages(item, request.blend, options);
    const payloads = maskAlpha === undefined ? [image] : [image, maskAlpha];
    return { reply: { id: request.id, parts: payloads.length, sample }, payloads };
  } catch (error) {
    return { reply: { id: request.id, parts: 0, failure: failureOf(item, error) }, payloads: [] };
  }
}

async function run({ request, photo, mask, batch }: Job): Promise<void> {
  let result: { reply: OverlayReply; payloads: Buffer[] };
  try {
    result = await made(request, photo, mask);
  } catch (error) {
    result = {
      reply: { id: request.id, parts: 0, fatal: (error as Error)?.stack ?? String(error) },
      payloads: [],
    };
  }
  batch.replies.push(result.reply);
  batch.payloads.push(result.payloads);
  if (--batch.left === 0) {
    const payloads = batch.payloads.flat();
    send({ replies: batch.replies, sizes: payloads.map((payload) => payload.length) }, payloads);
  }
}

function startWork(): void {
  while (active < running) {
    // A few pairs a worker are queued, so shifting the array costs nothing worth a ring buffer.
    const job = queue.shift();
    if (job === undefined) return;
    active++;
    void run(job).finally(() => {
      active--;
      startWork();
      finishWhenDone();
    });
  }
}

function finishWhenDone(): void {
  if (!ended || active > 0 || queue.length > 0) return;
  send(
    {
      replies: [],
      usage: { cpuSeconds: cpuSecondsUsed(), peakRssBytes: peakRssBytes() },
      sizes: [],
    },
    [],
  );
  process.exit(0);
}

const reader = new FrameReader<OverlayRequestBatch>();
process.stdin.on("data", (chunk: Buffer) => {
  for (const { header, payloads } of reader.push(chunk)) {
    const batch: Batch = { replies: [], payloads: [], left: header.requests.length };
    header.requests.forEach((request, i) => {
      queue.push({ request, photo: payloads[2 * i]!, mask: payloads[2 * i + 1]!, batch });
    });
  }
  startWork();
});
process.stdin.on("end", () => {
  ended = true;
  finishWhenDone();
});
