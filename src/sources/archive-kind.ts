import { isSevenZipName, SEVEN_ZIP_SIGNATURE } from "./sevenzip/volumes.js";
import type { SourceKind } from "./source.js";

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
