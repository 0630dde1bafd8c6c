import { MaskpipeError } from "../errors.js";
import { type EntriesOptions, type SourceEntry, type SourceMember, wantFiles } from "./source.js";

/** `entries()` for a source that can list and read: one member at a time, in listing order. */
export async function* entriesFromListing(
  list: (signal?: AbortSignal) => Promise<readonly SourceMember[]>,
  read: (member: SourceMember, signal?: AbortSignal) => Promise<Buffer>,
  options: EntriesOptions = {},
): AsyncGenerator<SourceEntry> {
  const want = options.want ?? wantFiles;
  for (const member of await list(options.signal)) {
    options.signal?.throwIfAborted();
    if (!want(member)) {
      yield { member };
      continue;
    }
    try {
      yield { member, data: await read(member, options.signal) };
    } catch (error) {
      if (!(error instanceof MaskpipeError) || !isMemberLevel(error)) throw error;
      yield { member, error };
    }
  }
}

/** Errors that spoil one member but leave the archive readable. */
export function isMemberLevel(error: MaskpipeError): boolean {
  return (
    error.code === "ERR_MEMBER_CRC" ||
    error.code === "ERR_MEMBER_SIZE" ||
    error.code === "ERR_MEMBER_TOO_LARGE" ||
    error.code === "ERR_ZIP_UNSUPPORTED"
  );
}
