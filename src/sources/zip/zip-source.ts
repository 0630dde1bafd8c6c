import { MaskpipeError, where } from "../../core/errors.js";
import type { ByteReader } from "../byte-reader.js";
import { entriesFromListing, isMemberLevel, readResult } from "../random-access-entries.js";
import type {
  EntriesOptions,
  RandomAccessSource,
  ReadResult,
  SourceEntry,
  SourceMember,
} from "../source.js";
import {
  type EndOfCentralDirectory,
  EOCD_SEARCH_SIZE,
  findEndOfCentralDirectory,
  LOCAL_HEADER_SIZE,
  localHeaderLength,
  parseCentralRecords,
  readZip64End,
  readZip64Locator,
  ZIP64_EOCD_SIZE,
  ZIP64_LOCATOR_SIZE,
  ZipFormatError,
  type ZipMember,
} from "./central-directory.js";
import { checkReadable, decodeMemberData } from "./member-data.js";
import { ZipIndex } from "./zip-index.js";

export interface ZipSourceOptions {
  /** Largest member (uncompressed) that is read into memory. Default 256 MiB. */
  maxMemberBytes?: number;
  /** How `readMany` groups members into reads. Default: gaps up to 64 KiB, spans up to 8 MiB. */
  spans?: SpanLimits;
}

export const ZIP_DEFAULTS = { maxMemberBytes: 256 * 2 ** 20 } as const;

/** The central directory is read in windows of this size, so its own size never matters. */
const DIRECTORY_WINDOW = 4 * 2 ** 20;
/** Local extra fields usually differ a little from central ones; read this much beyond. */
const LOCAL_EXTRA_SLACK = 64;

/**
 * A zip read in place: the central directory gives every member's position, so members are
 * read on demand with positional reads (ZIP64, stored and deflate, CRC-checked).
 */
export function zipSource(
  name: string,
  reader: ByteReader,
  options: ZipSourceOptions = {},
): RandomAccessSource {
  const zip = new ZipArchive(
    name,
    reader,
    options.maxMemberBytes ?? ZIP_DEFAULTS.maxMemberBytes,
    options.spans ?? SPAN_DEFAULTS,
  );
  const list = (signal?: AbortSignal) => zip.list(signal);
  const readMany = (members: readonly SourceMember[], signal?: AbortSignal) =>
    zip.readMany(members, signal);
  return {
    name,
    kind: "zip",
    randomAccess: true,
    list,
    read: (member, signal) => zip.read(member, signal),
    readMany,
    entries: (entriesOptions?: EntriesOptions): AsyncIterable<SourceEntry> =>
      entriesFromListing(list, readMany, entriesOptions),
    close: () => reader.close(),
  };
}

/** One zip's directory, read once, and its members read from it. */
class ZipArchive {
  private listing: Promise<{ members: ZipIndex; directoryOffset: number }> | undefined;

  constructor(
    private readonly name: string,
    private readonly reader: ByteReader,
    private readonly maxMemberBytes: number,
    private readonly spans: SpanLimits,
  ) {}

  /**
   * A damaged directory spoils the archive; a member whose own header or extent is wrong spoils
   * only that member (ERR_MEMBER_CORRUPT: recorded and skipped like a CRC mismatch).
   */
  private corrupt(message: string, member?: string, cause?: unknown): MaskpipeError {
    return new MaskpipeError(
      member === undefined ? "ERR_ZIP_CORRUPT" : "ERR_MEMBER_CORRUPT",
      `${where(this.name, member)}: ${message}`,
      { archive: this.name, member, cause },
    );
  }

  private async readDirectory(signal?: AbortSignal) {
    try {
      return await readCentralDirectory(this.reader, signal);
    } catch (error) {
      if (!(error instanceof ZipFormatError)) throw error;
      if (error.unsupported) {
        throw new MaskpipeError("ERR_ZIP_UNSUPPORTED", `${this.name}: ${error.message}`, {
          archive: this.name,
        });
      }
      throw this.corrupt(`${error.message}; check the download or re-create the zip`);
    }
  }

  private directory(signal?: AbortSignal) {
    this.listing ??= this.readDirectory(signal);
    return this.listing;
  }

  list(signal?: AbortSignal): Promise<ZipIndex> {
    return this.directory(signal).then((result) => result.members);
  }

  /** Where a member's local header starts and how far its data reaches at most. */
  private extent(member: ZipMember): { start: number; end: number } {
    const start = member.localHeaderOffset;
    const guess = LOCAL_HEADER_SIZE + Buffer.byteLength(member.path) + LOCAL_EXTRA_SLACK;
    return { start, end: start + guess + member.compressedSize };
  }

  /**
   * Decodes a member from `window`, bytes of the file from `windowStart` on that hold its
   * guessed extent; reads again only when its local extra field is longer than guessed.
   */
  private async decodeFrom(
    member: ZipMember,
    window: Buffer,
    windowStart: number,
    directoryOffset: number,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const start = member.localHeaderOffset;
    let bytes = window.subarray(start - windowStart);
    let headerLength: number;
    try {
      headerLength = localHeaderLength(bytes);
    } catch (error) {
      throw this.corrupt(`${(error as Error).message} at offset ${start}`, member.path, error);
    }
    const end = headerLength + member.compressedSize;
    if (start + end > directoryOffset) {
      throw this.corrupt("member data runs past the central directory", member.path);
    }
    if (bytes.length < end) bytes = await this.reader.read(start, end, signal);
    if (bytes.length < end) throw this.corrupt("member data is cut short", member.path);
    return decodeMemberData(this.name, member, bytes.subarray(headerLength, end));
  }

  private checked(member: SourceMember, directoryOffset: number): ZipMember {
    const zipMember = member as ZipMember;
    checkReadable(this.name, zipMember, this.maxMemberBytes);
    if (
      zipMember.localHeaderOffset + LOCAL_HEADER_SIZE + zipMember.compressedSize >
      directoryOffset
    ) {
      throw this.corrupt("member data runs past the central directory", member.path);
    }
    return zipMember;
  }

  async read(member: SourceMember, signal?: AbortSignal): Promise<Buffer> {
    const { directoryOffset } = await this.directory(signal);
    const zipMember = this.checked(member, directoryOffset);
    const { start, end } = this.extent(zipMember);
    const window = await this.reader.read(start, end - start, signal);
    return this.decodeFrom(zipMember, window, start, directoryOffset, signal);
  }

  /** Members read in coalesced spans: neighbours in one request (SPAN_DEFAULTS). */
  async readMany(members: readonly SourceMember[], signal?: AbortSignal): Promise<ReadResult[]> {
    const { directoryOffset } = await this.directory(signal);
    const results: ReadResult[] = new Array(members.length);
    const planned: { index: number; member: ZipMember; start: number; end: number }[] = [];
    members.forEach((member, index) => {
      try {
        const zipMember = this.checked(member, directoryOffset);
        planned.push({ index, member: zipMember, ...this.extent(zipMember) });
      } catch (error) {
        if (!(error instanceof MaskpipeError) || !isMemberLevel(error)) throw error;
        results[index] = { error };
      }
    });
    await Promise.all(
      coalesce(planned, this.spans).map(async (span) => {
        const window = await this.reader.read(span.start, span.end - span.start, signal);
        for (const item of span.items) {
          results[item.index] = await readResult(() =>
            this.decodeFrom(item.member, window, span.start, directoryOffset, signal),
          );
        }
      }),
    );
    return results;
  }
}

export interface SpanLimits {
  /** Unwanted bytes read between two members rather than starting a new request. */
  maxGap: number;
  /** Bytes one request may span. */
  maxSpan: number;
}

export const SPAN_DEFAULTS: SpanLimits = { maxGap: 64 * 2 ** 10, maxSpan: 8 * 2 ** 20 };

/** Groups byte ranges that lie close together (sorted by start) into spans read at once. */
export function coalesce<T extends { start: number; end: number }>(
  items: readonly T[],
  limits: SpanLimits = SPAN_DEFAULTS,
): { start: number; end: number; items: T[] }[] {
  const sorted = [...items].sort((a, b) => a.start - b.start);
  const spans: { start: number; end: number; items: T[] }[] = [];
  for (const item of sorted) {
    const last = spans.at(-1);
    if (
      last !== undefined &&
      item.start - last.end <= limits.maxGap &&
      Math.max(last.end, item.end) - last.start <= limits.maxSpan
    ) {
      last.end = Math.max(last.end, item.end);
      last.items.push(item);
    } else {
      spans.push({ start: item.start, end: item.end, items: [item] });
    }
  }
  return spans;
}

async function readCentralDirectory(
  reader: ByteReader,
  signal?: AbortSignal,
): Promise<{ members: ZipIndex; directoryOffset: number }> {
  const tailStart = Math.max(0, reader.size - EOCD_SEARCH_SIZE);
  const tail = await reader.read(tailStart, reader.size - tailStart, signal);
  let end: EndOfCentralDirectory = findEndOfCentralDirectory(tail, tailStart);
  let endOfDirectory = end.offset;

  // Writers may add ZIP64 records even when the classic fields fit, so look for the locator.
  if (end.offset >= ZIP64_LOCATOR_SIZE) {
    const locator = await reader.read(end.offset - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE, signal);
    const zip64Offset = readZip64Locator(locator);
    if (zip64Offset !== undefined) {
      const record = await reader.read(zip64Offset, ZIP64_EOCD_SIZE, signal);
      end = readZip64End(record, zip64Offset);
      endOfDirectory = zip64Offset;
    }
  }
  if (end.needsZip64) throw new ZipFormatError("ZIP64 values announced but no ZIP64 locator");
  if (end.directoryOffset + end.directorySize > endOfDirectory) {
    throw new ZipFormatError(
      `central directory (offset ${end.directoryOffset}, ${end.directorySize} bytes) runs past its end record`,
    );
  }

  const members = new ZipIndex();
  let carry = Buffer.alloc(0);
  let position = end.directoryOffset;
  const directoryEnd = end.directoryOffset + end.directorySize;
  while (members.length < end.entryCount) {
    const length = Math.min(DIRECTORY_WINDOW, directoryEnd - position);
    if (length <= 0) break;
    const chunk = await reader.read(position, length, signal);
    if (chunk.length < length) throw new ZipFormatError("central directory is cut short");
    position += length;
    const buffer = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    const parsed = parseCentralRecords(buffer, 0, end.entryCount - members.length);
    for (const member of parsed.members) members.add(member);
    carry = Buffer.from(buffer.subarray(parsed.next));
  }
  members.seal();
  checkNoOverlap(members);
  if (members.length !== end.entryCount) {
    throw new ZipFormatError(
      `central directory holds ${members.length} records but the end record declares ${end.entryCount}`,
    );
  }
  return { members, directoryOffset: end.directoryOffset };
}

/**
 * Members whose stored bytes overlap are how the worst zip bombs multiply one payload; no
 * archiver writes them. Checked once, on the sorted offsets.
 */
function checkNoOverlap(members: ZipIndex): void {
  let previous: number | undefined;
  for (const index of members.byOffset()) {
    if (members.compressedSizeOf(index) === 0) continue;
    if (
      previous !== undefined &&
      members.offsetOf(previous) + LOCAL_HEADER_SIZE + members.compressedSizeOf(previous) >
        members.offsetOf(index)
    ) {
      throw new ZipFormatError(
        `members ${members.at(previous)!.path} and ${members.at(index)!.path} overlap (a zip bomb technique)`,
      );
    }
    previous = index;
  }
}
