import { MaskpipeError } from "../core/errors.js";
import {
  type EntriesOptions,
  type MemberList,
  type ReadResult,
  type SourceEntry,
  type SourceMember,
  wantFiles,
} from "./source.js";

/** Members read per batch by `entries()`; the next batch is read while this one is used. */
export const ENTRY_BATCH = { members: 64, bytes: 32 * 2 ** 20 } as const;

/**
 * Splits a listing into batches of at most `members` members and about `bytes` bytes, made as
 * they are asked for, so a listing of millions is never all objects at once.
 */
export function* batchesOf<T extends { size: number }>(
  items: Iterable<T>,
  limits = ENTRY_BATCH,
): Generator<T[]> {
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (
      current.length > 0 &&
      (current.length >= limits.members || bytes + item.size > limits.bytes)
    ) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.size;
  }
  if (current.length > 0) yield current;
}

/** `entries()` for a source that can list and read many: listing order, one batch read ahead. */
export async function* entriesFromListing(
  list: (signal?: AbortSignal) => Promise<MemberList>,
  readMany: (members: readonly SourceMember[], signal?: AbortSignal) => Promise<ReadResult[]>,
  options: EntriesOptions = {},
): AsyncGenerator<SourceEntry> {
  const want = options.want ?? wantFiles;
  const batches = batchesOf(await list(options.signal));
  const start = (batch: readonly SourceMember[]) => {
    const reading = readMany(batch.filter(want), options.signal);
    reading.catch(() => {}); // awaited below, in order
    return reading;
  };
  let batch = batches.next();
  let reading = batch.done === true ? undefined : start(batch.value);
  while (batch.done !== true) {
    const current = batch.value;
    // Results come in the order of the wanted members of this batch.
    const results = await reading!;
    let next = 0;
    batch = batches.next();
    reading = batch.done === true ? undefined : start(batch.value);
    for (const member of current) {
      options.signal?.throwIfAborted();
      if (!want(member)) {
        yield { member };
        continue;
      }
      const result = results[next++]!;
      if ("data" in result) yield { member, data: result.data };
      else yield { member, error: result.error };
    }
  }
}

/** `readMany` from a one-member `read`, for sources where reads do not combine (folders). */
export async function readEach(
  read: (member: SourceMember, signal?: AbortSignal) => Promise<Buffer>,
  members: readonly SourceMember[],
  signal?: AbortSignal,
): Promise<ReadResult[]> {
  return Promise.all(members.map((member) => readResult(() => read(member, signal))));
}

/** A read's outcome as a value when the failure is the member's own. */
export async function readResult(read: () => Promise<Buffer>): Promise<ReadResult> {
  try {
    return { data: await read() };
  } catch (error) {
    if (!(error instanceof MaskpipeError) || !isMemberLevel(error)) throw error;
    return { error };
  }
}

/** Errors that spoil one member but leave the archive readable. */
export function isMemberLevel(error: MaskpipeError): boolean {
  return (
    error.code === "ERR_MEMBER_CRC" ||
    error.code === "ERR_MEMBER_CORRUPT" ||
    error.code === "ERR_MEMBER_SIZE" ||
    error.code === "ERR_MEMBER_TOO_LARGE" ||
    error.code === "ERR_ZIP_UNSUPPORTED"
  );
}
