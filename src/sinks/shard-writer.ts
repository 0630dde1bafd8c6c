import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack as tarPack } from "tar-stream";
import { MaskpipeError } from "../errors.js";
import type { ShardInfo } from "./sink.js";
import { TAR_HEADER_FIELDS, type TarMember } from "./webdataset-names.js";

/**
 * One tar shard being written. It lives under a `.partial` name until `close()` renames it, so a
 * shard that is visible under its final name is always complete.
 */
export class ShardWriter {
  private readonly pack = tarPack();
  private readonly sha256 = createHash("sha256");
  private readonly md5 = createHash("md5");
  private readonly finalPath: string;
  private readonly partialPath: string;
  private readonly written: Promise<void>;
  private readonly writeFailure: Promise<never>;
  private bytes = 0;
  samples = 0;

  constructor(
    dir: string,
    readonly name: string,
  ) {
    this.finalPath = join(dir, name);
    this.partialPath = `${this.finalPath}.partial`;
    const hashing = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.sha256.update(chunk);
        this.md5.update(chunk);
        this.bytes += chunk.length;
        callback(null, chunk);
      },
    });
    this.written = pipeline(this.pack, hashing, createWriteStream(this.partialPath));
    this.written.catch(() => {}); // surfaced by add() or close()
    // Settles only if writing fails: what add() races each entry against.
    this.writeFailure = this.written.then(() => new Promise<never>(() => {}));
    this.writeFailure.catch(() => {});
  }

  /** Adds one sample's members; resolves once tar-stream has taken them (backpressure). */
  async add(members: readonly TarMember[]): Promise<void> {
    for (const member of members) {
      const taken = new Promise<void>((resolve, reject) => {
        const entry = this.pack.entry(
          { ...TAR_HEADER_FIELDS, name: member.name, size: member.data.length },
          member.data,
          (error) => (error ? reject(error) : resolve()),
        );
        // When the file fails, tar-stream also emits the error on the entry; it reaches the
        // caller through writeFailure below, not as an uncaught event.
        entry.on("error", () => {});
      });
      // If writing fails (disk full), tar-stream stops taking entries: fail instead of waiting.
      try {
        await Promise.race([taken, this.writeFailure]);
      } catch (cause) {
        throw this.outputError(cause);
      }
    }
    this.samples++;
  }

  private outputError(cause: unknown): MaskpipeError {
    return new MaskpipeError(
      "ERR_OUTPUT",
      `${this.finalPath}: cannot write the shard: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }

  async close(): Promise<ShardInfo> {
    this.pack.finalize();
    try {
      await this.written;
      await rename(this.partialPath, this.finalPath);
    } catch (cause) {
      throw new MaskpipeError(
        "ERR_OUTPUT",
        `${this.finalPath}: cannot write the shard: ${(cause as Error).message}`,
        { cause },
      );
    }
    return {
      name: this.name,
      samples: this.samples,
      bytes: this.bytes,
      sha256: this.sha256.digest("hex"),
      md5: this.md5.digest("hex"),
    };
  }

  /** Drops the partial file after a failure or an interruption. */
  async abort(): Promise<void> {
    this.pack.destroy();
    await this.written.catch(() => {});
    await rm(this.partialPath, { force: true });
  }
}
