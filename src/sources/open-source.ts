import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { fileDownloadInfo } from "@huggingface/hub";
import { MaskpipeError } from "../errors.js";
import { openFileReader } from "./byte-reader.js";
import { folderSource } from "./folder-source.js";
import { isHfUrl, parseHfUrl } from "./http/hf-url.js";
import { httpByteReader } from "./http/http-byte-reader.js";
import { displayUrl, HttpClient, type HttpOptions, type HttpStats } from "./http/http-client.js";
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
}

/** A source opened by `openSource`, with what it cost over the network when remote. */
export type OpenedSource = Source & { readonly http?: HttpStats };

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
  if (isHfUrl(spec)) return openHubSource(spec, options);
  return isUrl(spec) ? openHttpSource(spec, options) : openLocalSource(spec, options);
}

/**
 * A file in a Hugging Face repo: resolved with @huggingface/hub (its size, ETag and download
 * URL), then read like any URL. The token goes to the Hub's own origin only.
 */
export async function openHubSource(
  spec: string,
  options: OpenSourceOptions = {},
): Promise<OpenedSource> {
  const file = parseHfUrl(spec);
  const hubUrl = (
    options.hub?.endpoint ??
    process.env.HF_ENDPOINT ??
    "https://huggingface.co"
  ).replace(/\/+$/, "");
  const accessToken = options.hub?.token ?? process.env.HF_TOKEN;
  let info: Awaited<ReturnType<typeof fileDownloadInfo>>;
  try {
    info = await fileDownloadInfo({
      repo: { type: file.type, name: file.name },
      path: file.path,
      revision: file.revision,
      hubUrl,
      ...(accessToken !== undefined && accessToken !== "" && { accessToken }),
    });
  } catch (cause) {
    throw new MaskpipeError(
      "ERR_HTTP",
      `${spec}: the Hub could not resolve it: ${redact((cause as Error).message, accessToken)}`,
      {
        archive: spec,
        cause,
      },
    );
  }
  if (info === null) {
    throw new MaskpipeError(
      "ERR_SOURCE_NOT_FOUND",
      `${spec}: no such file in ${file.name}@${file.revision}`,
      {
        archive: spec,
      },
    );
  }
  const sameOrigin = new URL(info.url).origin === new URL(hubUrl).origin;
  const headers = {
    ...options.http?.headers,
    ...(sameOrigin && accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
  };
  const source = await openHttpSource(
    info.url,
    { ...options, http: { ...options.http, headers } },
    spec,
  );
  return source;
}

function redact(message: string, token: string | undefined): string {
  return token ? message.replaceAll(token, "hf_***") : message;
}

/**
 * A remote archive read in place: a zip through Range requests (its directory, then members in
 * coalesced spans), a tar or tar.gz through one streaming GET. The kind comes from the URL path.
 */
export async function openHttpSource(
  url: string,
  options: OpenSourceOptions = {},
  /** The name the user gave (an hf:// spec), for messages and the archive kind. */
  displayName?: string,
): Promise<OpenedSource> {
  const kind = kindFromName(displayName ?? new URL(url).pathname);
  if (kind === undefined) {
    throw new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${displayUrl(url)}: the URL path does not end in .zip, .tar, .tar.gz or .tgz, so the archive kind is unknown`,
      { archive: displayUrl(url) },
    );
  }
  const client = new HttpClient(options.http);
  const name = displayName ?? displayUrl(url);
  if (kind === "zip") {
    const { size, validator, ranges } = await client.probe(url);
    if (!ranges) {
      await client.close();
      throw new MaskpipeError(
        "ERR_HTTP_RANGE",
        `${name}: the server does not answer Range requests, which reading a zip in place needs; download the zip first or serve it from a server that supports Range`,
        { archive: name },
      );
    }
    const source = zipSource(name, httpByteReader(client, url, size, validator), options);
    return { ...source, http: client.stats, close: () => client.close() };
  }
  const source = tarSource(name, (signal) => client.stream(url, signal), {
    gzip: kind === "tar.gz",
    ...options,
  });
  return { ...source, http: client.stats, close: () => client.close() };
}

/** The kind a path's name promises; `undefined` when the name says nothing. */
export function kindFromName(path: string): SourceKind | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith(".zip")) return "zip";
  if (lower.endsWith(".tar.gz") || lower.endsWith(".tgz")) return "tar.gz";
  if (lower.endsWith(".tar")) return "tar";
  return undefined;
}

/** The kind the first bytes show. */
export function kindFromBytes(head: Buffer): SourceKind | undefined {
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
};

/**
 * Opens a local folder, zip, tar or tar.gz. The kind comes from the name and is checked
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
  if (info.isDirectory()) return folderSource(path, options);

  const head = await readHead(path);
  const named = kindFromName(path);
  const seen = kindFromBytes(head);
  if (seen === undefined) {
    throw new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${path}: is not a zip, tar or tar.gz archive (its first bytes match none of them)`,
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
  return tarSource(path, (signal) => createReadStream(path, { signal }), {
    gzip: seen === "tar.gz",
    ...options,
  });
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
