import { Worker } from "node:worker_threads";

/** A shard's digests, hex. */
export interface ShardDigests {
  sha256: string;
  md5: string;
}

/*
 * SHA-256 and MD5 over every shard's bytes ran on the run's main thread: the thread that packs
 * the shards, whose speed caps the run however many cores decode and encode. CelebA-like, 3,882
 * images, that thread took 3.79 CPU s with them and 2.96 s without (0.21 ms an image; CASIA-like,
 * with smaller images, about 0.06). So the hashing runs on a thread of its own, shared by every
 * shard of the process. Each batch of chunks is copied into one buffer (a memcpy, ~0.1 ms a MiB)
 * whose memory is moved to the thread, not copied, and moved back once hashed, to be filled
 * again: a new buffer a batch would be garbage the thread's own heap collects late (70 MB more
 * peak memory in a measured run). The thread's code is inline (CommonJS, node's own modules
 * only), so it runs the same from source, from dist and bundled.
 */
const THREAD_CODE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const open = new Map();
parentPort.on("message", ({ id, bytes, done, drop }) => {
  let hashes = open.get(id);
  if (hashes === undefined) {
    hashes = { sha256: createHash("sha256"), md5: createHash("md5") };
    open.set(id, hashes);
  }
  if (bytes !== undefined) {
    hashes.sha256.update(bytes);
    hashes.md5.update(bytes);
    parentPort.postMessage({ spare: bytes.buffer }, [bytes.buffer]);
  }
  if (done) {
    open.delete(id);
    if (!drop) parentPort.postMessage({ id, sha256: hashes.sha256.digest("hex"), md5: hashes.md5.digest("hex") });
  }
});
`;

/** Buffers are at least this big, so one fits the next batch (a batch is about 1 MiB). */
const BUFFER_BYTES = 2 * 2 ** 20;
/** Hashed buffers kept for the next batches. */
const SPARE_BUFFERS = 4;

interface Waiting {
  resolve: (digests: ShardDigests) => void;
  reject: (error: Error) => void;
}

type Reply = { spare: ArrayBuffer } | ({ id: number } & ShardDigests);

/**
 * One hashing thread. It holds the process open only while a digest is awaited, so a shard left
 * unfinished (a run that failed) never keeps a process alive. If it dies, every shard begun on it
 * fails with the reason, and the next shard starts a new thread.
 */
class HashThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();
  private readonly spares: ArrayBuffer[] = [];
  failure: Error | undefined;

  constructor() {
    // No flags of this process (--input-type=module would make the inline script a module).
    this.worker = new Worker(THREAD_CODE, { eval: true, execArgv: [] });
    this.worker.unref();
    this.worker.on("message", (reply: Reply) => this.receive(reply));
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) =>
      this.fail(new Error(`the hashing thread exited (code ${code})`)),
    );
  }

  begin(): number {
    return this.nextId++;
  }

  /** Hands the thread `chunks`, in order, for shard `id`. */
  update(id: number, chunks: readonly Buffer[]): void {
    if (this.failure !== undefined) return;
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    if (length === 0) return;
    const memory = this.memory(length);
    const bytes = new Uint8Array(memory, 0, length);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    this.worker.postMessage({ id, bytes }, [memory]);
  }

  digest(id: number): Promise<ShardDigests> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, done: true });
    });
  }

  /** A shard given up: the thread drops its hashes. */
  drop(id: number): void {
    if (this.failure === undefined) this.worker.postMessage({ id, done: true, drop: true });
  }

  /** A spare buffer big enough, or a new one. */
  private memory(length: number): ArrayBuffer {
    const index = this.spares.findIndex((spare) => spare.byteLength >= length);
    if (index >= 0) return this.spares.splice(index, 1)[0]!;
    return new ArrayBuffer(Math.max(length, BUFFER_BYTES));
  }

  private receive(reply: Reply): void {
    if ("spare" in reply) {
      if (this.spares.length < SPARE_BUFFERS) this.spares.push(reply.spare);
      return;
    }
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    waiting.resolve({ sha256: reply.sha256, md5: reply.md5 });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.waiting.values()) waiting.reject(this.failure);
    this.waiting.clear();
  }
}

let shared: HashThread | undefined;

/**
 * SHA-256 and MD5 of one shard's bytes, fed in order and computed off this thread: `update` with
 * each batch as it is written, then `digest` once, or `drop` when the shard is given up.
 */
export class ShardHasher {
  private readonly thread: HashThread;
  private readonly id: number;
  private finished = false;

  constructor() {
    if (shared === undefined || shared.failure !== undefined) shared = new HashThread();
    this.thread = shared;
    this.id = this.thread.begin();
  }

  update(chunks: readonly Buffer[]): void {
    this.thread.update(this.id, chunks);
  }

  digest(): Promise<ShardDigests> {
    this.finished = true;
    return this.thread.digest(this.id);
  }

  drop(): void {
    if (this.finished) return;
    this.finished = true;
    this.thread.drop(this.id);
  }
}
