import { createReadStream } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { MaskpipeError } from "../errors.js";
import { openFileReader } from "./byte-reader.js";
import { folderSource } from "./folder-source.js";
import { isHfUrl } from "./http/hf-url.js";
import type { HttpOptions, HttpStats } from "./http/http-client.js";
import { isSevenZipName, SEVEN_ZIP_SIGNATURE } from "./sevenzip/volumes.js";
import type { Source, SourceKind } from "./source.js";
import { tarSource } from "./tar-source.js";
import { zipSource } from "./zip/zip-source.js";

export interface OpenSourceOptions {
  /** Largest member read into memory, in bytes. Default 256 MiB. */
  maxMemberBytes?: number;
  /** Headers, retries and timeouts for http(s) sources. */
  http?: HttpOptions;
  /** Token and endpoint for hf:// sources. */
  hub?: HubOptions;
  /** Ends the opening of a remote source (its first request) when aborted. */
  signal?: AbortSignal;
  /** The 7-Zip that reads 7z archives (`--7z`); default MASKPIPE_7Z, else the bundled one. */
  sevenZip?: string;
}

/** The version of a remote file a run read: what the run identity records of it. */
export interface RemoteVersion {
  /** Bytes, or -1 when the server does not say. */
  size: number;
  etag?: string;
  lastModified?: string;
}

/**
 * A source opened by `openSource`: when remote, what it cost over the network and which
 * version of the file it reads.
 */
export type OpenedSource = Source & { readonly http?: HttpStats; readonly remote?: RemoteVersion };

export function isUrl(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

export interface HubOptions {
  /** Access token (`hf_...`); default the HF_TOKEN environment variable. */
  token?: string;
  /** The Hub or a mirror, without a trailing slash; default HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
}

/** A local path or an http(s) URL: whatever the user passed as --originals or --masks. */
export async function openSource(
  spec: string,
  options: OpenSourceOptions = {},
): Promise<OpenedSource> {
  if (!isHfUrl(spec) && !isUrl(spec)) return openLocalSource(spec, options);
  // Loaded on first use: undici and the Hub client add ~0.2 s to every start otherwise.
  const remote = await import("./open-remote-source.js");
  return isHfUrl(spec) ? remote.openHubSource(spec, options) : remote.openHttpSource(spec, options);
}

/** The kind a path's name promises; `undefined` when the name says nothing. */
export function kindFromName(path: string): SourceKind | undefined {
  const lower = path.toLowerCase();
  if (isSevenZipName(lower)) return "7z";
  if (lower.endsWith(".zip")) return "zip";
  if (lower.endsWith(".tar.gz") || lower.endsWith(".tgz")) return "tar.gz";
  if (lower.endsWith(".tar")) return "tar";
  return undefined;
}

/** The kind the first bytes show. */
export function kindFromBytes(head: Buffer): SourceKind | undefined {
  if (head.subarray(0, SEVEN_ZIP_SIGNATURE.length).equals(SEVEN_ZIP_SIGNATURE)) return "7z";
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "tar.gz";
  if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return "zip";
  if (head.length >= 4 && head.readUInt32LE(0) === 0x06054b50) return "zip"; // empty zip
  if (head.length >= 262 && head.toString("latin1", 257, 262) === "ustar") return "tar";
  if (head.length >= 512 && tarChecksumMatches(head)) return "tar"; // pre-POSIX tar
  return undefined;
}

function tarChecksumMatches(block: Buffer): boolean {
  const stored = Number.parseInt(block.toString("latin1", 148, 156).replace(/\0.*$/, ""), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 8 * 0x20;
  for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += block[i] ?? 0;
  return sum === stored;
}

const NAME_FOR: Record<SourceKind, string> = {
  zip: ".zip",
  tar: ".tar",
  "tar.gz": ".tar.gz (or .tgz)",
  folder: "a folder",
  "7z": ".7z (or a volume .7z.001)",
};

/**
 * Opens a local folder, zip, tar, tar.gz or 7z (one file, any volume of a split set, or the
 * folder of the volumes). The kind comes from the name and is checked
 * against the first bytes, so a gzipped file named `.tar` is an error that says so instead of
 * a parse failure deep in tar-stream.
 */
export async function openLocalSource(
  path: string,
  options: OpenSourceOptions = {},
): Promise<Source> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new MaskpipeError("ERR_SOURCE_NOT_FOUND", `${path}: no such file or folder`, {
      archive: path,
      cause,
    });
  }
  if (info.isDirectory()) {
    if (await holdsSevenZipVolumes(path)) return openSevenZip(path, options);
    return folderSource(path, options);
  }

  const named = kindFromName(path);
  // Any volume of a split 7z names the set; only the first starts with the 7z signature.
  if (named === "7z" && /\.7z\.\d+$/i.test(path)) return openSevenZip(path, options);
  const head = await readHead(path);
  const seen = kindFromBytes(head);
  if (seen === undefined) {
    throw new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${path}: is not a zip, tar, tar.gz or 7z archive (its first bytes match none of them)${/\.7z\.\d+$/i.test(path) ? "; only the first volume (.001) of a split 7z starts with its header" : ""}`,
      { archive: path },
    );
  }
  if (named !== undefined && named !== seen) {
    throw new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${path}: is named like a ${NAME_FOR[named]} file but its bytes are ${NAME_FOR[seen]} data; rename it to end in ${NAME_FOR[seen]}`,
      { archive: path },
    );
  }
  if (seen === "zip") return zipSource(path, await openFileReader(path), options);
  if (seen === "7z") return openSevenZip(path, options);
  return tarSource(path, (signal) => createReadStream(path, { signal }), {
    gzip: seen === "tar.gz",
    ...options,
  });
}

/** A folder named like a 7z archive that holds its volumes, as CelebA's `Img/img_celeba.7z/`. */
async function holdsSevenZipVolumes(path: string): Promise<boolean> {
  if (!/\.7z\/*$/i.test(path)) return false;
  return (await readdir(path)).some((name) => /\.7z\.0*1$/i.test(name));
}

async function openSevenZip(path: string, options: OpenSourceOptions): Promise<Source> {
  // Loaded on first use, like the remote sources: most runs never meet a 7z.
  const { sevenZipSource } = await import("./sevenzip/seven-zip-source.js");
  return sevenZipSource(path, options);
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
