import { MaskpipeError } from "../core/errors.js";
import { type DaliComponent, daliIndexText, daliSamples } from "./dali-index.js";
import { ShardHasher } from "./shard-hasher.js";
import type { ShardInfo } from "./sink.js";
import {
  END_OF_ARCHIVE,
  END_OF_ARCHIVE_BYTES,
  paddedDataBytes,
  tarHeaderBytes,
  tarMemberChunks,
} from "./tar-member-chunks.js";
import type { TarMember } from "./webdataset-names.js";

/**
 * Where one shard's bytes go: a `.partial` file renamed when complete, or memory handed to an
 * uploader. `write` takes chunks in order (one call, one `writev` for a file); `complete` runs
 * once every byte is written, with the shard's DALI index when the writer was asked for one (it
 * goes beside the shard); `abort` drops what was written.
 */
export interface ShardOutput {
  /** The shard as messages name it (a path or a repo path). */
  readonly label: string;
  write(chunks: readonly Buffer[]): Promise<void>;
  complete(shard: ShardInfo, daliIndex?: string): Promise<void>;
  abort(): Promise<void>;
}

/**
 * A shard's chunks are handed to its output in batches of about this many bytes (one `writev`
 * for a file), and at most this many chunks (a `writev` takes 1,024 at most on Linux).
 */
const WRITE_BATCH_BYTES = 2 ** 20;
const WRITE_BATCH_CHUNKS = 512;

/**
 * One tar shard being written, hashed (SHA-256 and MD5, on a thread of their own: shard-hasher.ts) on the way to its output. Members are
 * packed as they are added and go down in batches, one batch written while the next fills: an
 * `add` waits only when a full batch finds the previous one still being written.
 */
export class ShardWriter {
  private readonly hasher = new ShardHasher();
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private bytes = 0;
  private failure: Error | undefined;
  private aborted = false;
  /** Where each member's data starts, counted as it is packed: the DALI index's offsets. */
  private readonly members: Omit<DaliComponent, "extension">[] | undefined;
  private packed = 0;
  samples = 0;

  /** `daliIndex`: count where each member lands, and hand `complete` the shard's DALI index. */
  constructor(
    readonly name: string,
    private readonly output: ShardOutput,
    daliIndex = false,
  ) {
    this.members = daliIndex ? [] : undefined;
  }

  /** Adds one sample's members; resolves once they are packed (waits while a write lags). */
  async add(members: readonly TarMember[]): Promise<void> {
    if (this.failure !== undefined) throw this.outputError(this.failure);
    for (const member of members) {
      this.place(member);
      for (const chunk of tarMemberChunks(member)) this.append(chunk);
    }
    this.samples++;
    if (this.batchBytes >= WRITE_BATCH_BYTES || this.batch.length >= WRITE_BATCH_CHUNKS) {
      await this.flush();
    }
  }

  async close(): Promise<ShardInfo> {
    this.append(END_OF_ARCHIVE);
    let shard: ShardInfo;
    try {
      await this.flush();
      await this.writing;
      shard = {
        name: this.name,
        samples: this.samples,
        bytes: this.bytes,
        ...(await this.hasher.digest()),
      };
      await this.output.complete(shard, this.daliIndex());
    } catch (cause) {
      throw this.outputError(this.failure ?? cause);
    }
    return shard;
  }

  /** Records where `member`'s data goes: after the bytes packed so far and its own header. */
  private place(member: TarMember): void {
    if (this.members === undefined) return;
    const offset = this.packed + tarHeaderBytes(member.name);
    this.members.push({ name: member.name, offset, size: member.data.length });
    this.packed = offset + paddedDataBytes(member.data.length);
  }

  /** The shard's DALI index, once every byte is out: none unless asked for. */
  private daliIndex(): string | undefined {
    if (this.members === undefined) return undefined;
    // The offsets are counted, not read back: if the packer ever packs otherwise, fail loudly
    // rather than publish an index that points DALI at the wrong bytes.
    if (this.packed + END_OF_ARCHIVE_BYTES !== this.bytes) {
      throw new Error(
        `its DALI index counts ${this.packed + END_OF_ARCHIVE_BYTES} bytes, the tar has ${this.bytes}`,
      );
    }
    return daliIndexText(daliSamples(this.members));
  }

  /** Drops what was written after a failure or an interruption. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.batch = [];
    this.hasher.drop();
    await this.writing.catch(() => {});
    await this.output.abort();
  }

  private append(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
  }

  /** Starts writing the batch once the previous write is done; waits for that one only. */
  private async flush(): Promise<void> {
    const chunks = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    try {
      await this.writing;
    } catch (cause) {
      throw this.outputError(cause);
    }
    if (chunks.length === 0 || this.aborted) return;
    this.hasher.update(chunks);
    this.writing = this.output.write(chunks).catch((error: Error) => {
      this.failure ??= error;
      throw error;
    });
    // Surfaced by the next add, flush or close.
    this.writing.catch(() => {});
  }

  private outputError(cause: unknown): MaskpipeError {
    if (cause instanceof MaskpipeError) return cause;
    return new MaskpipeError(
      "ERR_OUTPUT",
      `${this.output.label}: cannot write the shard: ${(cause as Error).message}`,
      { cause },
    );
  }
}
