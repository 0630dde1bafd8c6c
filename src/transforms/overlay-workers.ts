import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MaskpipeError } from "../core/errors.js";
import { HEAP_FLAGS } from "../core/heap-flags.js";
import type { JoinedPhoto } from "../core/pair.js";
import { threadPoolSize } from "../core/thread-pool.js";
import type { OverlayFailure } from "./overlay.js";
import { FrameReader, frameBuffers } from "./overlay-frames.js";
import type {
  OverlayReplyBatch,
  OverlayRequest,
  OverlayRequestBatch,
  WorkerSettings,
  WorkerUsage,
} from "./overlay-messages.js";
import type { MadeImages } from "./sample-parts.js";

/** How much of a worker's stderr a message about its death quotes. */
const STDERR_TAIL = 2000;

/** Pairs a worker process is given before a fresh one takes its place (see `OverlayWorkers`). */
export const DEFAULT_RECYCLE_AFTER = 5_000;

type Result = MadeImages | OverlayFailure;

interface Waiting {
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
}

/** A pair bound for a worker, not yet written to its pipe. */
interface Outgoing {
  request: OverlayRequest;
  photo: Buffer;
  mask: Buffer;
}

interface Worker {
  index: number;
  child: ChildProcessWithoutNullStreams;
  waiting: Map<number, Waiting>;
  outbox: Outgoing[];
  stderr: string;
  usage: WorkerUsage | undefined;
  exited: Promise<void>;
  /** Pairs given to it. */
  given: number;
}

/**
 * `count` overlay worker processes (overlay-child.ts), each making up to `perWorker` pairs' images
 * at once. `overlay(pair, blend)` gives a pair to the least busy one (waiting for a free slot) and
 * resolves with the images made for it or its failure. Pairs go out in batches of up to
 * `4 x perWorker`, written when a batch is full or at the end of the event loop's turn, and each
 * worker holds two batches, so it has the next one while the last one's replies travel. A worker
 * that dies fails every pair it held and every later call, with an error naming it. Started at
 * the first pair, so a run that stops before any starts none.
 *
 * A worker that has been given `recycleAfter` pairs gets no more: a fresh process takes its place
 * and it exits once its last reply is in. A process's memory grows with the images it has made
 * (glibc's heap fragments: CASIA-like, 112 -> 134 -> 152 MiB a worker after 1,000, 4,000 and
 * 16,000 pairs, while the JavaScript heap stayed at 10-24 MB), so a run of 500,000 images would
 * end with workers far larger than at its start; a fresh one starts at its floor. A start costs
 * ~0.3 CPU s, about 0.06 ms an image at the default 5,000.
 */
export class OverlayWorkers {
  private workers: Worker[] = [];
  /** Recycled workers still making their last pairs: each one's input ends once its last reply is in. */
  private readonly retiring = new Set<Worker>();
  /** What each worker slot's processes used, those that have exited. */
  private readonly used: WorkerUsage[] = [];
  private nextId = 0;
  private freed: (() => void)[] = [];
  private failure: MaskpipeError | undefined;
  private closing = false;
  private flushing: NodeJS.Immediate | undefined;
  private readonly batchSize: number;

  constructor(
    readonly count: number,
    private readonly perWorker: number,
    private readonly settings: Omit<WorkerSettings, "running">,
    private readonly recycleAfter = DEFAULT_RECYCLE_AFTER,
  ) {
    this.batchSize = 4 * perWorker;
  }

  /** Pairs in flight at most, across the workers: what the stage's window must exceed. */
  get capacity(): number {
    return this.count * 2 * this.batchSize;
  }

  /** The workers' process ids (started ones). */
  get pids(): number[] {
    return this.workers.map((worker) => worker.child.pid ?? 0);
  }

  async overlay(pair: JoinedPhoto, blend: boolean): Promise<Result> {
    if (this.workers.length === 0) this.start();
    let worker = this.leastBusy();
    while (worker.waiting.size >= 2 * this.batchSize && this.failure === undefined) {
      await new Promise<void>((resolve) => this.freed.push(resolve));
      worker = this.leastBusy();
    }
    if (this.failure !== undefined) throw this.failure;
    const id = this.nextId++;
    const result = new Promise<Result>((resolve, reject) =>
      worker.waiting.set(id, { resolve, reject }),
    );
    const { photo, mask } = pair;
    worker.given++;
    worker.outbox.push({
      request: {
        id,
        key: pair.key,
        photo: { archive: photo.archive, path: photo.path },
        mask: mask === undefined ? null : { archive: mask.archive, path: mask.path },
        blend,
      },
      photo: photo.data,
      mask: mask?.data ?? Buffer.alloc(0),
    });
    if (worker.given >= this.recycleAfter) this.recycle(worker);
    else if (worker.outbox.length >= this.batchSize) this.send(worker);
    else this.flushing ??= setImmediate(() => this.flush());
    return result;
  }

  /** `worker` gets no more pairs: a fresh process takes its slot, and it ends once it is done. */
  private recycle(worker: Worker): void {
    this.send(worker);
    this.retiring.add(worker);
    // Once its output is closed, its last message (what it used) is in.
    void worker.exited.then(() => {
      this.record(worker);
      this.retiring.delete(worker);
    });
    this.workers[this.workers.indexOf(worker)] = this.spawnWorker(worker.index);
    this.endIfDone(worker);
  }

  /** Ends a retiring worker's input once every pair it was given is answered. */
  private endIfDone(worker: Worker): void {
    if (this.retiring.has(worker) && worker.waiting.size === 0) worker.child.stdin.end();
  }

  /** Writes every worker's waiting pairs: the turn that gave them is over. */
  private flush(): void {
    this.flushing = undefined;
    for (const worker of this.workers) this.send(worker);
  }

  private send(worker: Worker): void {
    if (worker.outbox.length === 0) return;
    const batch = worker.outbox.splice(0);
    const payloads = batch.flatMap(({ photo, mask }) => [photo, mask]);
    const header: OverlayRequestBatch = {
      requests: batch.map(({ request }) => request),
      sizes: payloads.map((payload) => payload.length),
    };
    const input = worker.child.stdin;
    input.cork();
    for (const buffer of frameBuffers(header, payloads)) input.write(buffer);
    input.uncork();
  }

  /** Ends the workers' input and waits for them to exit; what each used. */
  async close(): Promise<WorkerUsage[]> {
    this.closing = true;
    this.flush();
    for (const worker of this.workers) worker.child.stdin.end();
    const all = [...this.workers, ...this.retiring];
    await Promise.all(all.map((worker) => worker.exited));
    if (this.failure !== undefined) throw this.failure;
    for (const worker of this.workers) this.record(worker);
    return this.used;
  }

  /** Adds what an exited worker used to its slot's: CPU summed, the largest peak. */
  private record(worker: Worker): void {
    const usage = worker.usage ?? { cpuSeconds: 0, peakRssBytes: 0 };
    const slot = this.used[worker.index] ?? { cpuSeconds: 0, peakRssBytes: 0 };
    this.used[worker.index] = {
      cpuSeconds: slot.cpuSeconds + usage.cpuSeconds,
      peakRssBytes: Math.max(slot.peakRssBytes, usage.peakRssBytes),
    };
  }

  /** Stops the workers at once (the run failed or was interrupted). */
  destroy(): void {
    this.closing = true;
    for (const worker of [...this.workers, ...this.retiring]) {
      worker.child.stdin.destroy();
      worker.child.kill("SIGKILL");
    }
  }

  private leastBusy(): Worker {
    return this.workers.reduce((best, worker) =>
      worker.waiting.size < best.waiting.size ? worker : best,
    );
  }

  private start(): void {
    for (let index = 0; index < this.count; index++) this.workers.push(this.spawnWorker(index));
  }

  private spawnWorker(index: number): Worker {
    const child = spawn(
      process.execPath,
      [
        ...HEAP_FLAGS,
        ...childLoader(),
        childFile(),
        JSON.stringify({ ...this.settings, running: this.perWorker }),
      ],
      {
        stdio: ["pipe", "pipe", "pipe"],
        ...(fromSource && { cwd: fileURLToPath(new URL("../..", import.meta.url)) }),
        env: {
          // glibc gives each libvips thread an arena of its own; two keep a worker ~30-40 MB
          // smaller at the same speed (measured, CASIA-like). A value the user set is kept.
          MALLOC_ARENA_MAX: "2",
          ...process.env,
          UV_THREADPOOL_SIZE: String(threadPoolSize(this.perWorker)),
        },
      },
    );
    const worker: Worker = {
      index,
      child,
      waiting: new Map(),
      outbox: [],
      stderr: "",
      usage: undefined,
      exited: new Promise((resolve) => child.on("close", () => resolve())),
      given: 0,
    };
    const reader = new FrameReader<OverlayReplyBatch>();
    child.stdout.on("data", (chunk: Buffer) => {
      for (const { header, payloads } of reader.push(chunk)) this.receive(worker, header, payloads);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      worker.stderr = (worker.stderr + chunk.toString()).slice(-STDERR_TAIL);
    });
    // Writes to a worker that died fail: its exit says why.
    child.stdin.on("error", () => {});
    child.on("error", (error) => this.fail(worker, error.message));
    child.on("exit", (code, signal) => {
      if (this.retiring.has(worker) && code === 0 && worker.waiting.size === 0) return;
      if (this.closing && code === 0) return;
      if (this.closing && worker.waiting.size === 0 && this.failure === undefined) return;
      this.fail(worker, signal === null ? `exit code ${code}` : `killed by ${signal}`);
    });
    return worker;
  }

  private receive(worker: Worker, batch: OverlayReplyBatch, payloads: Buffer[]): void {
    if (batch.usage !== undefined) {
      worker.usage = batch.usage;
      return;
    }
    let next = 0;
    for (const reply of batch.replies) {
      const parts = payloads.slice(next, next + reply.parts);
      next += reply.parts;
      const waiting = worker.waiting.get(reply.id);
      if (waiting === undefined) continue;
      worker.waiting.delete(reply.id);
      this.freed.shift()?.();
      if (reply.fatal !== undefined) {
        this.fail(worker, `unexpected error: ${reply.fatal}`);
        waiting.reject(this.failure!);
      } else if (reply.failure !== undefined) {
        waiting.resolve(reply.failure);
      } else {
        const maskAlpha = parts[1];
        waiting.resolve({
          ...reply.sample!,
          image: parts[0]!,
          ...(maskAlpha !== undefined && { maskAlpha }),
        });
      }
    }
    this.endIfDone(worker);
  }

  private fail(worker: Worker, why: string): void {
    const pid = worker.child.pid ?? "not started";
    const said = worker.stderr.trim() === "" ? "" : `; it printed:\n  ${worker.stderr.trim()}`;
    this.failure ??= new MaskpipeError(
      "ERR_OVERLAY_WORKER",
      `overlay worker ${worker.index + 1} of ${this.count} (pid ${pid}) stopped: ${why}${said}; complete shards are kept, and --resume goes on from them`,
    );
    for (const waiting of worker.waiting.values()) waiting.reject(this.failure);
    worker.waiting.clear();
    for (const wake of this.freed.splice(0)) wake();
  }
}

const fromSource = import.meta.url.endsWith(".ts");

/** The worker's script beside this file: overlay-child.js, or overlay-child.ts run from source. */
function childFile(): string {
  return fileURLToPath(
    new URL(fromSource ? "./overlay-child.ts" : "./overlay-child.js", import.meta.url),
  );
}

/** Run from source (tests, tsx), the worker needs a TypeScript loader too (found from the root). */
function childLoader(): string[] {
  return fromSource ? ["--import", "tsx"] : [];
}
