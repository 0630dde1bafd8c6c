import type { MemberKind } from "../core/member-filter.js";

export type { MemberKind };

import type { MaskpipeError } from "../core/errors.js";

export type SourceKind = "folder" | "zip" | "tar" | "tar.gz" | "7z";

/** One member of an archive or folder, as listed; paths use `/` and are NFC-normalised. */
export interface SourceMember {
  readonly path: string;
  /** Uncompressed size in bytes as the archive declares it. */
  readonly size: number;
  readonly kind: MemberKind;
}

/**
 * A member in archive order. `data` holds its bytes when the caller wanted them; `error` says
 * why they could not be read (CRC mismatch, too large, ...) so one bad member does not end the
 * listing of the rest.
 */
export interface SourceEntry {
  readonly member: SourceMember;
  readonly data?: Buffer;
  readonly error?: MaskpipeError;
}

export interface EntriesOptions {
  signal?: AbortSignal;
  /** Which members to read; the others are listed without their bytes. Default: files. */
  want?: (member: SourceMember) => boolean;
}

interface SourceBase {
  /** The path or URL the user gave, used in every message about this source. */
  readonly name: string;
  readonly kind: SourceKind;
  /** Every member in archive order (folders: sorted by path). */
  entries(options?: EntriesOptions): AsyncIterable<SourceEntry>;
  close(): Promise<void>;
}

/** A source that can only be read front to back: tar, tar.gz, 7z. */
export interface SequentialSource extends SourceBase {
  readonly randomAccess: false;
  /**
   * Every member in archive order without reading any member's bytes, where the archive can
   * say so up front (a 7z's end header); absent for tar, which must be read through to list.
   */
  catalog?(signal?: AbortSignal): Promise<Iterable<SourceMember> & { readonly length: number }>;
}

/** One member's bytes, or why that member (and only it) could not be read. */
export type ReadResult = { readonly data: Buffer } | { readonly error: MaskpipeError };

/**
 * A listing in archive order. An array is one; a zip's is a compact index (typed arrays and one
 * buffer of names) whose members are made when asked for, so millions of members cost tens of
 * bytes each, not an object each.
 */
export interface MemberList extends Iterable<SourceMember> {
  readonly length: number;
  at(index: number): SourceMember | undefined;
}

/** A source that can read any member on demand: zip (central directory), folder. */
export interface RandomAccessSource extends SourceBase {
  readonly randomAccess: true;
  list(signal?: AbortSignal): Promise<MemberList>;
  /** Reads one member returned by `list()` of this source, checked against its size and CRC. */
  read(member: SourceMember, signal?: AbortSignal): Promise<Buffer>;
  /**
   * Reads several members at once, results in the order asked. A zip reads members that lie
   * close together with one request (over HTTP that is the difference between one request per
   * member and a few per thousand). A member-level failure is that member's result; an
   * archive-level one rejects.
   */
  readMany(members: readonly SourceMember[], signal?: AbortSignal): Promise<ReadResult[]>;
}

export type Source = SequentialSource | RandomAccessSource;

export const wantFiles = (member: SourceMember): boolean => member.kind === "file";
