import type { Sample } from "../transforms/sample.js";
import { sampleMetadata } from "../transforms/sample.js";

/*
 * WebDataset's naming rules as pure functions. A reader takes a member's key to be its path up
 * to the first dot of the file name, and groups consecutive members with the same key.
 */

/**
 * The key as a tar member name. A dot in the file name part would cut the key short for every
 * WebDataset reader, so `%` becomes `%25` and `.` becomes `%2E` there (percent-encoding: no two
 * keys can collide, and `decodeURIComponent` gives the original back). Folders keep their dots.
 */
export function webDatasetKey(key: string): string {
  const slash = key.lastIndexOf("/");
  const base = key
    .slice(slash + 1)
    .replaceAll("%", "%25")
    .replaceAll(".", "%2E");
  return key.slice(0, slash + 1) + base;
}

export function shardFileName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(6, "0")}.tar`;
}

/** Matches the names `shardFileName(prefix, n)` makes, plus `suffix` (e.g. `(\\.partial)?`). */
export function shardFilePattern(prefix: string, suffix = ""): RegExp {
  return new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d{6}\\.tar${suffix}$`);
}

/** Fixed header fields: the same samples give the same bytes, whenever and wherever written. */
export const TAR_HEADER_FIELDS = {
  type: "file",
  mode: 0o644,
  uid: 0,
  gid: 0,
  uname: "",
  gname: "",
  mtime: new Date(0),
} as const;

export interface TarMember {
  name: string;
  data: Buffer;
}

/** A sample's files in the order WebDataset wants: consecutive, extensions sorted. */
export function sampleMembers(sample: Sample): TarMember[] {
  const key = webDatasetKey(sample.key);
  const members: TarMember[] = [
    { name: `${key}.${sample.extension}`, data: sample.image },
    { name: `${key}.json`, data: Buffer.from(JSON.stringify(sampleMetadata(sample))) },
  ];
  return members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const BLOCK = 512;
export const END_OF_ARCHIVE_BYTES = 2 * BLOCK;

/**
 * Bytes a member takes in the tar, an upper bound: a name too long for the ustar fields is
 * counted with a PAX header record, which tar-stream may avoid by splitting the name.
 */
export function tarMemberBytes(member: TarMember): number {
  const data = Math.ceil(member.data.length / BLOCK) * BLOCK;
  const nameBytes = Buffer.byteLength(member.name);
  if (nameBytes <= 100) return BLOCK + data;
  const record = ` path=${member.name}\n`.length + 8;
  return BLOCK + BLOCK + Math.ceil(record / BLOCK) * BLOCK + data;
}
