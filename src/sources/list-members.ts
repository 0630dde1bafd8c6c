import type { MemberList, Source, SourceMember } from "./source.js";

/** Members a source names without being read through. */
export type MemberListing = Iterable<SourceMember> & { readonly length: number };

/**
 * A side's members when it can say them without being read through: a zip's central directory,
 * a folder's listing, a 7z's end header; `undefined` for a tar, which lists only by being read.
 */
export async function listedUpFront(
  source: Source,
  signal?: AbortSignal,
): Promise<MemberListing | undefined> {
  if (source.randomAccess) return source.list(signal);
  return source.catalog?.(signal);
}

/**
 * A side's members without their bytes: listed up front, or one pass over a tar in which no
 * member is read into memory.
 */
export async function listMembers(source: Source, signal?: AbortSignal): Promise<MemberList> {
  if (source.randomAccess) return source.list(signal);
  if (source.catalog !== undefined) return [...(await source.catalog(signal))];
  const members: SourceMember[] = [];
  for await (const entry of source.entries({ want: () => false, signal })) {
    members.push(entry.member);
  }
  return members;
}
