import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { PARTITIONS_FOLDER } from "../../core/partition.js";
import type { PreviewShard } from "../../dataset/contact-sheet.js";
import type { OutputPlace } from "../../dataset/index-files.js";
import { openOutput } from "../../dataset/output-files.js";
import { HUB_DATA_ROOT } from "../../sinks/hub/hub-defaults.js";
import { writeOutputFile } from "../../sinks/output-file.js";
import { isHfUrl } from "../../sources/hf/hf-url.js";

/** A file the merge writes, by its path in the output. */
export interface MergedFile {
  path: string;
  content: string | Buffer;
}

/** What the merge reads and writes of an output: a folder on a shared volume, or a Hub repo. */
export interface MergeStore {
  readonly where: string;
  readonly place: OutputPlace;
  /** Each folder in `partitions/` with the names of the files in it. */
  partitionFolders(): Promise<Map<string, Set<string>>>;
  /** A file's text; `undefined` when it is not there. */
  text(path: string): Promise<string | undefined>;
  /** A shard's size; `undefined` when it is not there. */
  size(path: string): Promise<number | undefined>;
  /** Writes the files, the last one last (a reader that sees it sees the others). */
  write(files: readonly MergedFile[], title: string): Promise<void>;
  /** A contact sheet for the card, where the output gets one (the Hub). */
  preview?(shards: PreviewShard[]): Promise<Buffer>;
  close(): Promise<void>;
}

export interface MergeStoreOptions {
  /** Hub write token (`hf_...`); default HF_TOKEN. */
  token?: string;
  /** The Hub or a mirror; default HF_ENDPOINT or https://huggingface.co. */
  hubUrl?: string;
}

export async function openMergeStore(
  out: string,
  options: MergeStoreOptions = {},
): Promise<MergeStore> {
  return isHfUrl(out) ? hubStore(out, options) : folderStore(out);
}

async function folderStore(dir: string): Promise<MergeStore> {
  // Reading is what `verify` and `preview` do to a folder output.
  const files = await openOutput(dir);
  return {
    where: dir,
    place: "folder",
    partitionFolders: async () => {
      const folders = new Map<string, Set<string>>();
      const root = join(dir, PARTITIONS_FOLDER);
      const entries = await readdir(root, { withFileTypes: true }).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code === "ENOENT" || error.code === "ENOTDIR") return [];
          throw error;
        },
      );
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        folders.set(entry.name, new Set(await readdir(join(root, entry.name))));
      }
      return folders;
    },
    text: files.text,
    size: files.size,
    write: async (files) => {
      for (const file of files) await writeOutputFile(dir, join(dir, file.path), file.content);
    },
    close: async () => {},
  };
}

async function hubStore(repo: string, options: MergeStoreOptions): Promise<MergeStore> {
  const [{ connectHubRepo }, { hubPreview }] = await Promise.all([
    import("../../sinks/hub/hub-connect.js"),
    import("../../dataset/hub-publish.js"),
  ]);
  const { hub } = await connectHubRepo({ repo, ...options });
  const shards = await hub.list(HUB_DATA_ROOT);
  return {
    where: repo,
    place: "hub",
    partitionFolders: async () => {
      const folders = new Map<string, Set<string>>();
      for (const path of (await hub.list(PARTITIONS_FOLDER)).keys()) {
        const [, label, file, ...deeper] = path.split("/");
        if (label === undefined || file === undefined || deeper.length > 0) continue;
        const files = folders.get(label) ?? new Set<string>();
        files.add(file);
        folders.set(label, files);
      }
      return folders;
    },
    text: (path) => hub.readText(path),
    size: async (path) => shards.get(path)?.size,
    write: (files, title) =>
      hub.commit(
        title,
        files.map((file) => ({ path: file.path, content: new Blob([file.content]) })),
        [],
      ),
    preview: (previewShards) => hubPreview({ repo, ...options }, previewShards),
    close: async () => {},
  };
}
