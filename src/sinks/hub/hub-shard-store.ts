import { daliIndexName } from "../dali-index.js";
import type { ShardStore } from "../shard-sink.js";
import type { ShardOutput } from "../shard-writer.js";
import type { ShardInfo } from "../sink.js";
import type { CommitPacer } from "./commit-pacer.js";
import type { HubRepo, RemoteFile } from "./hub-repo.js";
import type { ShardSpool } from "./shard-spool.js";

interface HeldShard {
  shard: ShardInfo;
  blob: Blob;
  /** Its DALI index (`--dali-index`), committed beside it in the same commit. */
  daliIndex: string | undefined;
  /** Drops the spooled file once the shard is committed or not needed. */
  remove(): Promise<void>;
}

/** What the upload did, for the report. */
export interface HubUploadStats {
  /** Shards committed by this run. */
  shardsUploaded: number;
  /** Shards already in the repo with the same size and sha256: not uploaded again. */
  shardsUnchanged: number;
}

/**
 * Shards written to temporary files (the spool) and committed to a Hub repo several at a time,
 * read from their files as they are sent, so memory does not follow the shard size. At most
 * `buffer` complete shards wait: when that many do, they go up in one commit while the next
 * shard is built, and the sink waits (backpressure) rather than hold more. A shard the repo
 * already has with the same size and sha256 (shards are deterministic) is dropped unsent.
 */
export class HubShardStore implements ShardStore {
  readonly stats: HubUploadStats = { shardsUploaded: 0, shardsUnchanged: 0 };
  private waiting: HeldShard[] = [];
  private committing: HeldShard[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: unknown;
  private readonly abortController = new AbortController();

  constructor(
    private readonly repo: HubRepo,
    private readonly remote: ReadonlyMap<string, RemoteFile>,
    private readonly buffer: number,
    private readonly pacer: CommitPacer,
    /** The split's folder in the repo: `data/train`. */
    private readonly folder: string,
    /** Where complete shards wait for their commit. */
    private readonly spool: ShardSpool,
  ) {}

  async open(name: string): Promise<ShardOutput> {
    this.throwIfFailed();
    const file = await this.spool.open(`${this.folder.replaceAll("/", "_")}_${name}`);
    return {
      label: `${this.repo.spec}/${this.folder}/${name}`,
      write: (written) => file.write(written),
      complete: async (shard, daliIndex) =>
        this.add({ shard, blob: await file.complete(), daliIndex, remove: file.remove }),
      abort: () => file.remove(),
    };
  }

  async finish(): Promise<void> {
    await this.inFlight;
    this.throwIfFailed();
    if (this.waiting.length > 0) {
      this.startCommit();
      await this.inFlight;
      this.throwIfFailed();
    }
  }

  /** Stops an upload in progress (interruption): nothing more is committed. */
  abort(): void {
    this.abortController.abort();
    for (const held of this.waiting) void held.remove();
    this.waiting = [];
  }

  private async add(held: HeldShard): Promise<void> {
    this.throwIfFailed();
    const there = this.remote.get(`${this.folder}/${held.shard.name}`);
    // The index follows from the shard's bytes: an unchanged shard needs only its index there.
    const indexThere =
      held.daliIndex === undefined ||
      this.remote.has(`${this.folder}/${daliIndexName(held.shard.name)}`);
    if (there?.size === held.shard.bytes && there.sha256 === held.shard.sha256 && indexThere) {
      this.stats.shardsUnchanged++;
      await held.remove();
      return;
    }
    this.waiting.push(held);
    // Hold at most `buffer` complete shards beyond the one that just completed.
    while (
      this.inFlight !== undefined &&
      this.waiting.length + this.committing.length > this.buffer
    ) {
      await this.inFlight;
      this.throwIfFailed();
    }
    if (this.waiting.length >= this.buffer && this.inFlight === undefined) this.startCommit();
  }

  private startCommit(): void {
    this.committing = this.waiting;
    this.waiting = [];
    const batch = this.committing;
    this.inFlight = this.commit(batch)
      .then(
        async () => {
          this.stats.shardsUploaded += batch.length;
          await Promise.all(batch.map((held) => held.remove()));
        },
        (error: unknown) => {
          this.failure = error;
        },
      )
      .then(() => {
        this.committing = [];
        this.inFlight = undefined;
      });
  }

  private async commit(batch: readonly HeldShard[]): Promise<void> {
    const signal = this.abortController.signal;
    await this.pacer.take(signal);
    const names = batch.map(({ shard }) => shard.name);
    const title =
      names.length === 1 ? `Add ${names[0]}` : `Add ${names[0]} to ${names[names.length - 1]}`;
    await this.repo.commit(
      title,
      batch.flatMap(({ shard, blob, daliIndex }) => [
        { path: `${this.folder}/${shard.name}`, content: blob, sha256: shard.sha256 },
        ...(daliIndex === undefined
          ? []
          : [
              {
                path: `${this.folder}/${daliIndexName(shard.name)}`,
                content: new Blob([daliIndex]),
              },
            ]),
      ]),
      [],
      signal,
    );
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
