import type { HttpOptions, HttpStats } from "./http/http-client.js";
import type { Source } from "./source.js";

/** How `openSource` opens an input, and what an opened one tells of itself. */
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

export { isUrl } from "../core/redact.js";

export interface HubOptions {
  /** Access token (`hf_...`); default the HF_TOKEN environment variable. */
  token?: string;
  /** The Hub or a mirror, without a trailing slash; default HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
}
