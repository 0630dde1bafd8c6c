import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack as tarPack } from "tar-stream";
import { MaskpipeError } from "../core/errors.js";
import { type DaliComponent, daliIndexText, daliSamples } from "./dali-index.js";
import type { ShardInfo } from "./sink.js";
import {
  END_OF_ARCHIVE_BYTES,
  paddedDataBytes,
  TAR_HEADER_FIELDS,
  type TarMember,
  tarHeaderBytes,
} from "./webdataset-names.js";

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
 * Chunks tar-stream emits while a write is in flight are handed over together, so a shard file
 * gets one `writev` per batch rather than a write per tar header, member and padding.
 */
const WRITE_BATCH_BYTES = 2 ** 20;

/** One tar shard being written, hashed (SHA-256 and MD5) on the way to its output. */
export class ShardWriter {
  private readonly pack = tarPack();
  private readonly sha256 = createHash("sha256");
  private readonly md5 = createHash("md5");
  private readonly written: Promise<void>;
  private readonly writeFailure: Promise<never>;
  private bytes = 0;
  private failure: Error | undefined;
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
    const take = (chunks: Buffer[], callback: (error?: Error | null) => void) => {
      for (const chunk of chunks) {
        this.sha256.update(chunk);
        this.md5.update(chunk);
        this.bytes += chunk.length;
      }
      output.write(chunks).then(
        () => callback(),
        (error: Error) => {
          // tar-stream then fails entries with its own "destroyed" error: keep the real cause.
          this.failure ??= error;
          callback(error);
        },
      );
    };
    const writer = new Writable({
      highWaterMark: WRITE_BATCH_BYTES,
      write: (chunk: Buffer, _encoding, callback) => take([chunk], callback),
      writev: (entries, callback) =>
        take(
          entries.map((entry) => entry.chunk as Buffer),
          callback,
        ),
    });
    this.written = pipeline(this.pack, writer);
    this.written.catch(() => {}); // surfaced by add() or close()
    // Settles only if writing fails: what add() races each entry against.
    this.writeFailure = this.written.then(() => new Promise<never>(() => {}));
    this.writeFailure.catch(() => {});
  }

  /** Adds one sample's members; resolves once tar-stream has taken them (backpressure). */
  async add(members: readonly TarMember[]): Promise<void> {
    for (const member of members) {
      this.place(member);
      const taken = new Promise<void>((resolve, reject) => {
        const entry = this.pack.entry(
          { ...TAR_HEADER_FIELDS, name: member.name, size: member.data.length },
          member.data,
          (error) => (error ? reject(error) : resolve()),
        );
        // When the output fails, tar-stream also emits the error on the entry; it reaches the
        // caller through writeFailure below, not as an uncaught event.
        entry.on("error", () => {});
      });
      // If writing fails (disk full), tar-stream stops taking entries: fail instead of waiting.
      try {
        await Promise.race([taken, this.writeFailure]);
      } catch (cause) {
        throw this.outputError(this.failure ?? cause);
      }
    }
    this.samples++;
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
    // The offsets are counted, not read back: if tar-stream ever packs otherwise, fail loudly
    // rather than publish an index that points DALI at the wrong bytes.
    if (this.packed + END_OF_ARCHIVE_BYTES !== this.bytes) {
      throw new Error(
        `its DALI index counts ${this.packed + END_OF_ARCHIVE_BYTES} bytes, the tar has ${this.bytes}`,
      );
    }
    return daliIndexText(daliSamples(this.members));
  }

  async close(): Promise<ShardInfo> {
    this.pack.finalize();
    let shard: ShardInfo;
    try {
      await this.written;
      shard = {
        name: this.name,
        samples: this.samples,
        bytes: this.bytes,
        sha256: this.sha256.digest("hex"),
        md5: this.md5.digest("hex"),
      };
      await this.output.complete(shard, this.daliIndex());
    } catch (cause) {
      throw this.outputError(this.failure ?? cause);
    }
    return shard;
  }

  /** Drops what was written after a failure or an interruption. */
  async abort(): Promise<void> {
    this.pack.destroy();
    await this.written.catch(() => {});
    await this.output.abort();
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
