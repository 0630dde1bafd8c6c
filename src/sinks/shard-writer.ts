import { createHash } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { pack as tarPack } from "tar-stream";
import { MaskpipeError } from "../errors.js";
import type { ShardInfo } from "./sink.js";
import { TAR_HEADER_FIELDS, type TarMember } from "./webdataset-names.js";

const WRITE_SIZE = 2 ** 20;

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
  private bytes = 0;
  samples = 0;

  constructor(
    dir: string,
    readonly name: string,
  ) {
    this.finalPath = join(dir, name);
    this.partialPath = `${this.finalPath}.partial`;
    this.written = this.drain();
    this.written.catch(() => {}); // surfaced by add() or close()
  }

  /**
   * Hashes and writes what tar-stream produces, gathered into 1 MiB writes: a tar member comes
   * out as three small chunks (header, data, padding), and one write each cost more than the
   * bytes themselves.
   */
  private async drain(): Promise<void> {
    const file = await open(this.partialPath, "w");
    try {
      const gathered: Buffer[] = [];
      let size = 0;
      const flush = async () => {
        if (size === 0) return;
        const chunk = gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered, size);
        gathered.length = 0;
        size = 0;
        await file.write(chunk);
      };
      for await (const chunk of this.pack as AsyncIterable<Buffer>) {
        this.sha256.update(chunk);
        this.md5.update(chunk);
        this.bytes += chunk.length;
        gathered.push(chunk);
        size += chunk.length;
        if (size >= WRITE_SIZE) await flush();
      }
      await flush();
    } finally {
      await file.close();
    }
  }

  /** Adds one sample's members; resolves once tar-stream has taken them (backpressure). */
  async add(members: readonly TarMember[]): Promise<void> {
    for (const member of members) {
      const taken = new Promise<void>((resolve, reject) => {
        this.pack.entry(
          { ...TAR_HEADER_FIELDS, name: member.name, size: member.data.length },
          member.data,
          (error) => (error ? reject(error) : resolve()),
        );
      });
      // If writing fails (disk full), tar-stream stops taking entries: fail instead of waiting.
      try {
        await Promise.race([
          taken,
          this.written.then(() => Promise.reject(new Error("the shard closed early"))),
        ]);
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
      throw this.outputError(cause);
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
