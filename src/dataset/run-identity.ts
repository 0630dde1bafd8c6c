import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { KeyRule } from "../core/keys.js";
import { skipReason } from "../core/member-filter.js";
import type { PairedPart } from "../core/mix.js";
import type { Partition } from "../core/partition.js";
import { publicName, queryDigest, redactUrl } from "../core/redact.js";
import type { LabelIdentity } from "../labels/label-plan.js";
import { listedUpFront } from "../sources/list-members.js";
import type { OpenedSource } from "../sources/opened-source.js";
import type { Source } from "../sources/source.js";

/**
 * Which file a run read: a local path with its size and time, or a URL with its validator. A
 * URL is kept without its credentials and query (redact.ts); a digest of the query tells two
 * queries apart, and a refreshed signature of the same object (same size and ETag) is the same
 * input.
 */
export interface InputVersion {
  /** An absolute path, a URL (redacted) or an hf:// spec. */
  source: string;
  /** A digest of the URL's query, when it had one: never the query itself. */
  query?: string;
  /** Bytes; absent for a folder. */
  size?: number;
  /**
   * A folder's images (a 7z's, for a folder of volumes): how many, and a SHA-256 of their names
   * and sizes in listing order. A folder has no size or time of its own that changes when an
   * identity folder goes, and the classes and the keys kept by `--resume` depend on its members.
   */
  images?: number;
  listing?: string;
  /** Last modification of a local file (ISO 8601). */
  modified?: string;
  /** A remote file's ETag or Last-Modified. */
  etag?: string;
  lastModified?: string;
}

/**
 * What makes a run's output what it is: the same identity gives the same bytes. Recorded before
 * the first sample (`run.json`) and in the report; `--resume` goes on only from a run with the
 * same identity, and a finished run is "nothing to do" only then.
 */
export interface RunIdentity {
  maskpipe: string;
  name: string;
  layout: string;
  format: string;
  quality: number;
  optimizeCoding: boolean;
  maxPixels: number;
  /** Shard limits: for shard layouts only (the folder layout has none). */
  shardMaxCount?: number;
  shardMaxBytes?: number;
  /** `--dali-index`: recorded only when set, so a run without it keeps the identity it had. */
  daliIndex?: true;
  keys: { photos: KeyRule; masks: KeyRule };
  /** A trial run's `--limit`. */
  limit?: number;
  originals: InputVersion;
  masks: InputVersion;
  /** Labels: their source, the hashes of the files they came from, a holdout. */
  labels?: LabelIdentity;
  /** A partition of the run (`--partition`): every partition's identity is the same but this. */
  partition?: Partition;
  /** Paired parts each sample carries (`--with`), when any. */
  with?: PairedPart[];
  /** The share of samples masked (`--masked`), as a percent: `30%`. */
  masked?: string;
  /** Photos without a mask written unmasked (`--keep-unmasked`). */
  keepUnmasked?: boolean;
}

/** How each field is named to a user: the flag that sets it. */
const FIELD_NAMES: Record<keyof RunIdentity, string> = {
  maskpipe: "maskpipe version",
  name: "name",
  layout: "--layout",
  format: "--format",
  quality: "--quality",
  optimizeCoding: "--optimize-coding",
  maxPixels: "--max-pixels",
  shardMaxCount: "--shard-max-count",
  shardMaxBytes: "--shard-max-bytes",
  daliIndex: "--dali-index",
  keys: "key rules (keys in the pipeline file)",
  limit: "--limit",
  originals: "--originals",
  masks: "--masks",
  labels: "labels (--annotations, --classes, --holdout and the files)",
  partition: "--partition",
  with: "--with",
  masked: "--masked",
  keepUnmasked: "--keep-unmasked",
};

/** The version of the file or folder `spec` that `source` reads. */
export async function inputVersion(spec: string, source: OpenedSource): Promise<InputVersion> {
  if (source.remote !== undefined) {
    const { size, etag, lastModified } = source.remote;
    const query = queryDigest(spec);
    return {
      source: redactUrl(spec),
      ...(query !== undefined && { query }),
      ...(size >= 0 && { size }),
      ...(etag !== undefined && { etag }),
      ...(etag === undefined && lastModified !== undefined && { lastModified }),
    };
  }
  const path = resolve(spec);
  const info = await stat(path);
  if (info.isDirectory()) return { source: path, ...(await listingVersion(source)) };
  return { source: path, size: info.size, modified: info.mtime.toISOString() };
}

/** The images a source lists up front (names and sizes only: no member's bytes are read). */
async function listingVersion(source: Source): Promise<Pick<InputVersion, "images" | "listing">> {
  const members = await listedUpFront(source);
  if (members === undefined) return {};
  const hash = createHash("sha256");
  let images = 0;
  for (const member of members) {
    if (skipReason(member.path, member.kind) !== undefined) continue;
    images++;
    hash.update(`${member.path}\0${member.size}\n`);
  }
  return { images, listing: hash.digest("hex") };
}

/**
 * Each field where `now` differs from `was`, as a user reads it:
 * `--shard-max-count was 500, now 16`.
 */
export function identityDifferences(was: RunIdentity, now: RunIdentity): string[] {
  const fields = Object.keys(FIELD_NAMES) as (keyof RunIdentity)[];
  return fields
    .filter((field) => stableJson(comparable(was, field)) !== stableJson(comparable(now, field)))
    .map((field) => `${FIELD_NAMES[field]} was ${shown(was[field])}, now ${shown(now[field])}`);
}

/**
 * A field as two identities compare it. A remote input with a validator (ETag or Last-Modified)
 * is that object whatever its URL's query says: a presigned URL signed anew reads the same bytes.
 */
function comparable(identity: RunIdentity, field: keyof RunIdentity): unknown {
  const value = identity[field];
  if (field !== "originals" && field !== "masks") return value;
  const input = value as InputVersion;
  if (input.etag === undefined && input.lastModified === undefined) return input;
  const { query: _query, ...withoutQuery } = input;
  return withoutQuery;
}

/**
 * The identity as a published file (a Hub repo's run.json and report.json) holds it: local
 * inputs by file name only. A Hub run records and compares this form.
 */
export function publishedIdentity(identity: RunIdentity): RunIdentity {
  const published = (input: InputVersion): InputVersion => ({
    ...input,
    source: publicName(input.source),
  });
  return {
    ...identity,
    originals: published(identity.originals),
    masks: published(identity.masks),
  };
}

function shown(value: unknown): string {
  if (value === undefined) return "not set";
  if (typeof value !== "object" || value === null) return String(value);
  if ("source" in value) {
    const input = value as InputVersion;
    const details = [
      input.size === undefined ? undefined : `${input.size.toLocaleString("en-US")} bytes`,
      input.images === undefined ? undefined : `${input.images.toLocaleString("en-US")} images`,
      input.listing === undefined ? undefined : `listing ${input.listing.slice(0, 12)}`,
      input.modified === undefined ? undefined : `modified ${input.modified}`,
      input.etag === undefined ? undefined : `ETag ${input.etag}`,
      input.lastModified === undefined ? undefined : `Last-Modified ${input.lastModified}`,
    ].filter((detail) => detail !== undefined);
    return details.length === 0 ? input.source : `${input.source} (${details.join(", ")})`;
  }
  return stableJson(value);
}

/** JSON with object keys sorted, so two identities compare by content, not by key order. */
function stableJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, inner: unknown) =>
      inner !== null && typeof inner === "object" && !Array.isArray(inner)
        ? Object.fromEntries(
            Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
          )
        : inner,
    ) ?? "undefined"
  );
}
