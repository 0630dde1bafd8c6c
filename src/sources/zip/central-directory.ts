import type { MemberKind, SourceMember } from "../source.js";
import { decodeMemberName } from "./names.js";

/*
 * The zip format's directory structures as pure functions over buffers (APPNOTE 6.3.10,
 * sections 4.3.12-4.3.16 and 4.5.3). No I/O here: zip-source.ts feeds the bytes.
 */

export const EOCD_SIGNATURE = 0x06054b50;
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
export const ZIP64_EOCD_SIGNATURE = 0x06064b50;
export const CENTRAL_SIGNATURE = 0x02014b50;
export const LOCAL_SIGNATURE = 0x04034b50;

export const EOCD_SIZE = 22;
export const ZIP64_LOCATOR_SIZE = 20;
export const ZIP64_EOCD_SIZE = 56;
export const CENTRAL_HEADER_SIZE = 46;
export const LOCAL_HEADER_SIZE = 30;
/** The end record plus the longest comment it may carry. */
export const EOCD_SEARCH_SIZE = EOCD_SIZE + 0xffff;

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const HOST_UNIX = 3;

/** A member as the central directory records it. */
export interface ZipMember extends SourceMember {
  readonly compressedSize: number;
  readonly crc32: number;
  readonly method: number;
  readonly flags: number;
  readonly localHeaderOffset: number;
}

export interface EndOfCentralDirectory {
  /** Where the classic end record starts in the file. */
  readonly offset: number;
  readonly entryCount: number;
  readonly directorySize: number;
  readonly directoryOffset: number;
  /** True when the counts or offsets above must come from a ZIP64 record. */
  readonly needsZip64: boolean;
}

/** A structural problem; the caller wraps it with the archive's name. */
export class ZipFormatError extends Error {
  constructor(
    message: string,
    readonly unsupported = false,
  ) {
    super(message);
  }
}

/** Finds the end record in the last bytes of the file; `tailOffset` is where `tail` starts. */
export function findEndOfCentralDirectory(tail: Buffer, tailOffset: number): EndOfCentralDirectory {
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== EOCD_SIGNATURE) continue;
    const commentLength = tail.readUInt16LE(i + 20);
    // A signature inside the comment would not leave the comment ending at the file's end.
    if (i + EOCD_SIZE + commentLength !== tail.length) continue;
    const disk = tail.readUInt16LE(i + 4);
    const entryCount = tail.readUInt16LE(i + 10);
    const directorySize = tail.readUInt32LE(i + 12);
    const directoryOffset = tail.readUInt32LE(i + 16);
    const needsZip64 =
      entryCount === U16_MAX || directorySize === U32_MAX || directoryOffset === U32_MAX;
    if (disk !== 0 && disk !== U16_MAX) {
      throw new ZipFormatError("it is one part of a multi-disk (split) zip", true);
    }
    return { offset: tailOffset + i, entryCount, directorySize, directoryOffset, needsZip64 };
  }
  throw new ZipFormatError(
    "no end of central directory record: the file is not a zip, or it is truncated",
  );
}

/** The ZIP64 locator sits right before the end record; returns the ZIP64 record's offset. */
export function readZip64Locator(locator: Buffer): number | undefined {
  if (locator.length < ZIP64_LOCATOR_SIZE) return undefined;
  if (locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIGNATURE) return undefined;
  return safeNumber(locator.readBigUInt64LE(8), "ZIP64 end record offset");
}

export function readZip64End(record: Buffer, offset: number): EndOfCentralDirectory {
  if (record.length < ZIP64_EOCD_SIZE || record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) {
    throw new ZipFormatError(`no ZIP64 end of central directory record at offset ${offset}`);
  }
  return {
    offset,
    entryCount: safeNumber(record.readBigUInt64LE(32), "entry count"),
    directorySize: safeNumber(record.readBigUInt64LE(40), "central directory size"),
    directoryOffset: safeNumber(record.readBigUInt64LE(48), "central directory offset"),
    needsZip64: false,
  };
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ZipFormatError(`${what} ${value} is beyond any real file`);
  }
  return Number(value);
}

/** Extra fields as id -> data (APPNOTE 4.5.1). */
export function parseExtraFields(extra: Buffer): Map<number, Buffer> {
  const fields = new Map<number, Buffer>();
  let pos = 0;
  while (pos + 4 <= extra.length) {
    const id = extra.readUInt16LE(pos);
    const size = extra.readUInt16LE(pos + 2);
    if (pos + 4 + size > extra.length) break; // padding some writers leave; not a field
    fields.set(id, extra.subarray(pos + 4, pos + 4 + size));
    pos += 4 + size;
  }
  return fields;
}

/**
 * Parses the central directory records that lie whole inside `buffer`, from `start`. Returns the
 * members and where the first incomplete record begins, so the caller can read on from there.
 */
export function parseCentralRecords(
  buffer: Buffer,
  start: number,
  limit: number,
): { members: ZipMember[]; next: number } {
  const members: ZipMember[] = [];
  let pos = start;
  while (members.length < limit && pos + CENTRAL_HEADER_SIZE <= buffer.length) {
    if (buffer.readUInt32LE(pos) !== CENTRAL_SIGNATURE) {
      throw new ZipFormatError("central directory record has a bad signature");
    }
    const nameLength = buffer.readUInt16LE(pos + 28);
    const extraLength = buffer.readUInt16LE(pos + 30);
    const commentLength = buffer.readUInt16LE(pos + 32);
    const end = pos + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (end > buffer.length) break;
    members.push(parseCentralRecord(buffer.subarray(pos, end), nameLength, extraLength));
    pos = end;
  }
  return { members, next: pos };
}

function parseCentralRecord(record: Buffer, nameLength: number, extraLength: number): ZipMember {
  const madeBy = record.readUInt16LE(4);
  const flags = record.readUInt16LE(8);
  const method = record.readUInt16LE(10);
  const crc32 = record.readUInt32LE(16);
  let compressedSize = record.readUInt32LE(20);
  let size = record.readUInt32LE(24);
  const diskStart = record.readUInt16LE(34);
  const externalAttributes = record.readUInt32LE(38);
  let localHeaderOffset = record.readUInt32LE(42);
  const rawName = record.subarray(CENTRAL_HEADER_SIZE, CENTRAL_HEADER_SIZE + nameLength);
  const extra = parseExtraFields(
    record.subarray(
      CENTRAL_HEADER_SIZE + nameLength,
      CENTRAL_HEADER_SIZE + nameLength + extraLength,
    ),
  );

  const zip64 = extra.get(0x0001);
  if (size === U32_MAX || compressedSize === U32_MAX || localHeaderOffset === U32_MAX) {
    if (zip64 === undefined) throw new ZipFormatError("ZIP64 sizes announced but no ZIP64 field");
    let at = 0;
    const next = (what: string): number => {
      if (at + 8 > zip64.length) throw new ZipFormatError(`ZIP64 field too short for ${what}`);
      const value = safeNumber(zip64.readBigUInt64LE(at), what);
      at += 8;
      return value;
    };
    if (size === U32_MAX) size = next("size");
    if (compressedSize === U32_MAX) compressedSize = next("compressed size");
    if (localHeaderOffset === U32_MAX) localHeaderOffset = next("local header offset");
  }
  if (diskStart !== 0 && diskStart !== U16_MAX) {
    throw new ZipFormatError("member lies on another disk of a split zip", true);
  }

  const path = decodeMemberName(rawName, (flags & 0x0800) !== 0, extra.get(0x7075));
  return {
    path,
    size,
    kind: memberKind(path, madeBy >> 8, externalAttributes),
    compressedSize,
    crc32,
    method,
    flags,
    localHeaderOffset,
  };
}

function memberKind(path: string, host: number, externalAttributes: number): MemberKind {
  if (path.endsWith("/") || path.endsWith("\\")) return "directory";
  if (host === HOST_UNIX) {
    const type = (externalAttributes >>> 16) & S_IFMT;
    if (type === S_IFDIR) return "directory";
    if (type !== 0 && type !== S_IFREG) return "other"; // symlinks, devices, fifos
  }
  if ((externalAttributes & 0x10) !== 0) return "directory"; // MS-DOS directory attribute
  return "file";
}

/** Length of the local header (with its own name and extra field) that precedes the data. */
export function localHeaderLength(header: Buffer): number {
  if (header.length < LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== LOCAL_SIGNATURE) {
    throw new ZipFormatError("local file header has a bad signature");
  }
  return LOCAL_HEADER_SIZE + header.readUInt16LE(26) + header.readUInt16LE(28);
}
