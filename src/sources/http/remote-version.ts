import { MaskpipeError } from "../../core/errors.js";
import { redactUrl } from "../../core/redact.js";

/** What identifies one version of a remote file; pinned at the first reply. */
export interface Validator {
  etag?: string;
  lastModified?: string;
}

/** The version of a remote file a run reads: the probe's validator and size. */
export interface PinnedVersion extends Validator {
  /** Bytes, as the probe saw them; -1 when the server did not say. */
  size: number;
}

type Headers = Record<string, string | string[] | undefined>;

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `If-Match` with the pinned ETag, so a server answers 412 rather than another version's
 * bytes. Only a strong ETag: If-Match compares strongly, so a weak one (`W/"..."`) never
 * matches, not even the same version.
 */
export function ifMatch(pinned: Validator | undefined): Record<string, string> {
  const etag = pinned?.etag;
  return etag === undefined || etag.startsWith("W/") ? {} : { "if-match": etag };
}

/** The whole file's size as a reply states it: Content-Range's total, or a 200's length. */
function totalSize(statusCode: number, headers: Headers): number | undefined {
  if (statusCode === 206) {
    const total = /\/(\d+)$/.exec(header(headers, "content-range") ?? "")?.[1];
    return total === undefined ? undefined : Number(total);
  }
  // A length of encoded bytes says nothing about the file's own size.
  if (statusCode !== 200 || header(headers, "content-encoding") !== undefined) return undefined;
  const length = header(headers, "content-length");
  return length === undefined ? undefined : Number(length);
}

/** What differs between the pinned version and a reply's, if anything. */
function difference(pinned: PinnedVersion, statusCode: number, headers: Headers) {
  const etag = header(headers, "etag");
  if (pinned.etag !== undefined && etag !== undefined && etag !== pinned.etag)
    return `ETag ${etag}, first ${pinned.etag}`;
  const lastModified = header(headers, "last-modified");
  if (
    pinned.etag === undefined &&
    pinned.lastModified !== undefined &&
    lastModified !== pinned.lastModified
  )
    return `Last-Modified ${lastModified ?? "absent"}, first ${pinned.lastModified}`;
  const size = totalSize(statusCode, headers);
  if (pinned.size >= 0 && size !== undefined && size !== pinned.size)
    return `${size.toLocaleString("en-US")} bytes, first ${pinned.size.toLocaleString("en-US")}`;
  return undefined;
}

/** The file at `url` is no longer the version the run started reading. */
export function fileChanged(url: string, what: string): MaskpipeError {
  return new MaskpipeError(
    "ERR_HTTP_CHANGED",
    `${redactUrl(url)}: the file changed on the server during the run (${what}); what was read of it and what is left no longer fit together, so the run stops. Run it again (with --overwrite: the output holds samples of the old file)`,
    { archive: redactUrl(url) },
  );
}

/**
 * Throws ERR_HTTP_CHANGED when a reply is of another version than the pinned one: its ETag
 * (or, without one, its Last-Modified) or its total size differs; 412 is the server saying so
 * to an `If-Match`.
 */
export function checkVersion(
  url: string,
  pinned: PinnedVersion,
  statusCode: number,
  headers: Headers,
): void {
  if (statusCode === 412) throw fileChanged(url, "412 Precondition Failed to If-Match");
  const what = difference(pinned, statusCode, headers);
  if (what !== undefined) throw fileChanged(url, what);
}
