import { createReadStream, type Dirent } from "node:fs";
import { open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { MaskpipeError } from "../core/errors.js";
import { hubSplitFolder } from "../sinks/hub/hub-defaults.js";
import { hubEndpoint, isHfUrl, parseHfRepoUrl } from "../sources/hf/hf-url.js";

/**
 * The files of a finished output, read back: a local folder, or a Hub dataset repo through its
 * resolve route (Range requests where only part of a file is needed). Paths are the output's
 * own (`index.json`, `train/celeba-000000.tar`); a missing file is `undefined`, not an error.
 */
export interface OutputFiles {
  /** The output as the user named it, for messages. */
  readonly where: string;
  /** Where a split's shards are, relative to the output: "" (no splits), `train/`, `data/train/`. */
  shardFolder(split: string | undefined): string;
  text(path: string): Promise<string | undefined>;
  stream(path: string): Promise<Readable | undefined>;
  size(path: string): Promise<number | undefined>;
  /** Bytes [start, start + length) of a file. */
  range(path: string, start: number, length: number): Promise<Buffer>;
  /**
   * The files and folders directly in `folder` ("" for the output itself), sorted; `undefined`
   * where the output cannot be listed (a Hub repo).
   */
  list(folder: string): Promise<{ files: string[]; folders: string[] } | undefined>;
  close(): Promise<void>;
}

export interface OpenOutputOptions {
  /** Hub token (`hf_...`) for a private repo; default HF_TOKEN. */
  token?: string;
  /** The Hub or a mirror; default HF_ENDPOINT or https://huggingface.co. */
  hubUrl?: string;
}

export async function openOutput(
  spec: string,
  options: OpenOutputOptions = {},
): Promise<OutputFiles> {
  return isHfUrl(spec) ? openHubOutput(spec, options) : localOutput(spec);
}

function localOutput(dir: string): OutputFiles {
  const missing = (error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
    throw error;
  };
  return {
    where: dir,
    shardFolder: (split) => (split === undefined ? "" : `${split}/`),
    text: (path) => readFile(join(dir, path), "utf8").catch(missing),
    stream: async (path) => {
      const info = await stat(join(dir, path)).catch(missing);
      return info === undefined ? undefined : createReadStream(join(dir, path));
    },
    size: async (path) => (await stat(join(dir, path)).catch(missing))?.size,
    range: async (path, start, length) => {
      const handle = await open(join(dir, path), "r");
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, start);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
    list: async (folder) => {
      const entries = await readdir(join(dir, folder), { withFileTypes: true }).catch(missing);
      if (entries === undefined) return { files: [], folders: [] };
      const names = (keep: (entry: Dirent) => boolean) =>
        entries
          .filter(keep)
          .map((entry) => entry.name)
          .sort();
      return {
        files: names((entry) => entry.isFile()),
        folders: names((entry) => entry.isDirectory()),
      };
    },
    close: async () => {},
  };
}

async function openHubOutput(spec: string, options: OpenOutputOptions): Promise<OutputFiles> {
  const repo = parseHfRepoUrl(spec);
  const token = options.token ?? process.env.HF_TOKEN;
  const { HttpClient } = await import("../sources/http/http-client.js");
  const client = new HttpClient({
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const base = `${hubEndpoint(options.hubUrl)}/datasets/${repo.name}/resolve/${encodeURIComponent(repo.revision)}/`;
  const url = (path: string) => base + path;
  const absent = (error: unknown) => {
    if (error instanceof MaskpipeError && / 404\b/.test(error.message)) return undefined;
    throw error;
  };
  const probes = new Map<string, ReturnType<typeof client.probe>>();
  const probe = (path: string) => {
    let found = probes.get(path);
    if (found === undefined) {
      found = client.probe(url(path));
      probes.set(path, found);
    }
    return found;
  };
  const stream = (path: string) => client.stream(url(path)).catch(absent);
  return {
    where: spec,
    shardFolder: (split) => `${hubSplitFolder(split)}/`,
    text: async (path) => {
      const body = await stream(path);
      if (body === undefined) return undefined;
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    stream,
    size: async (path) => (await probe(path).catch(absent))?.size,
    range: async (path, start, length) => {
      const { size, validator } = await probe(path);
      return client.range(url(path), start, length, { size, ...validator });
    },
    list: async () => undefined,
    close: () => client.close(),
  };
}
