import { openAsBlob, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openForWriting } from "../write-all.js";

/** Spool folders of this process, removed when it exits, however it ends but SIGKILL. */
const folders = new Set<string>();
let exitHook = false;

function removeOnExit(folder: string): void {
  folders.add(folder);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const left of folders) rmSync(left, { recursive: true, force: true });
  });
}

/** One shard on its way to the Hub, held in a file rather than in memory. */
export interface SpooledShard {
  write(chunks: readonly Buffer[]): Promise<void>;
  /** Closes the file and gives its bytes as a Blob that reads from the file as it is sent. */
  complete(): Promise<Blob>;
  /** Removes the file (after its commit, or when the shard is dropped). */
  remove(): Promise<void>;
}

/**
 * Complete shards wait for their commit in temporary files, so memory stays flat whatever the
 * shard size (500 MB is the usual on the Hub): the upload reads the file as it sends. The folder
 * (under `root`, default the OS's temporary folder) is made at the first shard and removed by
 * `close()` and, whatever else happens, when the process exits.
 */
export class ShardSpool {
  private folder: Promise<string> | undefined;

  constructor(private readonly root: string = tmpdir()) {}

  async open(name: string): Promise<SpooledShard> {
    this.folder ??= mkdtemp(join(this.root, "maskpipe-spool-")).then((folder) => {
      removeOnExit(folder);
      return folder;
    });
    const path = join(await this.folder, name);
    const file = await openForWriting(path);
    const close = file.close;
    return {
      write: file.write,
      complete: async () => {
        await close();
        return openAsBlob(path);
      },
      remove: async () => {
        await close().catch(() => {});
        await rm(path, { force: true });
      },
    };
  }

  /** Removes the spool folder and what is left in it. */
  async close(): Promise<void> {
    if (this.folder === undefined) return;
    const folder = await this.folder.catch(() => undefined);
    this.folder = undefined;
    if (folder === undefined) return;
    await rm(folder, { recursive: true, force: true });
    folders.delete(folder);
  }
}
