import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract as tarExtract } from "tar-stream";
import { MaskpipeError, where } from "../../core/errors.js";
import { pathComponents } from "../../core/keys.js";
import type {
  EntriesOptions,
  MemberKind,
  SequentialSource,
  SourceEntry,
  SourceMember,
} from "../source.js";
import { wantFiles } from "../source.js";

export interface TarSourceOptions {
  /** Gunzip the bytes first (`.tar.gz`, `.tgz`). */
  gzip: boolean;
  /** Largest member that is read into memory; larger ones are reported, not read. */
  maxMemberBytes?: number;
}

export const TAR_DEFAULTS = { maxMemberBytes: 256 * 2 ** 20 } as const;

/** What tar-stream reports of each entry; `byteOffset` is where its data starts in the tar. */
interface TarHeader {
  name: string;
  size?: number;
  type?: string | null;
  byteOffset?: number;
}

const BLOCK = 512;

/**
 * A tar or tar.gz read front to back with tar-stream. Every entry is drained before the next
 * is asked for (an undrained entry stalls tar-stream), and a tar that stops at an entry
 * boundary without its end-of-archive blocks is reported as truncated: tar-stream alone
 * accepts it silently.
 */
export function tarSource(
  name: string,
  open: (signal?: AbortSignal) => Readable | Promise<Readable>,
  options: TarSourceOptions,
): SequentialSource {
  const maxMemberBytes = options.maxMemberBytes ?? TAR_DEFAULTS.maxMemberBytes;
  return {
    name,
    kind: options.gzip ? "tar.gz" : "tar",
    randomAccess: false,
    entries: (entriesOptions?: EntriesOptions) =>
      readTar(name, open, options.gzip, maxMemberBytes, entriesOptions ?? {}),
    close: async () => {},
  };
}

async function* readTar(
  name: string,
  open: (signal?: AbortSignal) => Readable | Promise<Readable>,
  gzip: boolean,
  maxMemberBytes: number,
  options: EntriesOptions,
): AsyncGenerator<SourceEntry> {
  const want = options.want ?? wantFiles;
  let totalBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      totalBytes += chunk.length;
      callback(null, chunk);
    },
  });
  const extract = tarExtract();
  const stages: NodeJS.ReadWriteStream[] = gzip ? [createGunzip(), counter] : [counter];
  const input = await open(options.signal);
  const flowing = pipeline([input, ...stages, extract], {
    signal: options.signal,
  }).catch((error: unknown) => error);

  let dataEnd = 0;
  try {
    for await (const raw of extract) {
      // tar-stream's entries are streamx streams: resume, once and async iteration behave as
      // on a node Readable, which is all drain() and collect() use.
      const entry = raw as unknown as Readable;
      const header = (raw as unknown as { header: TarHeader }).header;
      const size = header.size ?? 0;
      const member: SourceMember = {
        path: normalisePath(header.name),
        size,
        kind: entryKind(header.type),
      };
      dataEnd = (header.byteOffset ?? 0) + Math.ceil(size / BLOCK) * BLOCK;
      if (!want(member)) {
        await drain(entry);
        yield { member };
      } else if (size > maxMemberBytes) {
        await drain(entry);
        yield {
          member,
          error: new MaskpipeError(
            "ERR_MEMBER_TOO_LARGE",
            `${where(name, member.path)}: declares ${size} bytes, more than the ${maxMemberBytes}-byte limit for one member (maxMemberBytes)`,
            { archive: name, member: member.path },
          ),
        };
      } else {
        yield { member, data: await collect(entry, size) };
      }
    }
  } catch (error) {
    throw tarError(name, (await flowing) ?? error);
  }
  const failure = await flowing;
  if (failure !== undefined) throw tarError(name, failure);
  // Two zero blocks end a tar; without them the file was cut exactly between entries.
  if (totalBytes < dataEnd + BLOCK) {
    throw new MaskpipeError(
      "ERR_TAR_TRUNCATED",
      `${name}: ends after ${totalBytes} bytes without the end-of-archive blocks; the tar is truncated (re-download or re-create it)`,
      { archive: name },
    );
  }
}

function entryKind(type: string | null | undefined): MemberKind {
  if (type === "file" || type === "contiguous-file" || type == null) return "file";
  if (type === "directory") return "directory";
  return "other";
}

/** Tar names are stored as given to tar: `./a/b.jpg` and `a/b.jpg` are the same member. */
export function normalisePath(path: string): string {
  const trailing = path.endsWith("/") ? "/" : "";
  return (pathComponents(path).join("/") + trailing).normalize("NFC");
}

async function drain(entry: Readable): Promise<void> {
  entry.resume();
  await new Promise<void>((resolve, reject) => {
    entry.once("end", resolve);
    entry.once("error", reject);
  });
}

async function collect(entry: Readable, size: number): Promise<Buffer> {
  const data = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of entry as AsyncIterable<Buffer>) {
    chunk.copy(data, filled);
    filled += chunk.length;
  }
  return data;
}

function tarError(name: string, error: unknown): unknown {
  if (error instanceof MaskpipeError || (error as Error)?.name === "AbortError") return error;
  const message = (error as Error)?.message ?? String(error);
  const code = (error as { code?: string })?.code;
  if (code?.startsWith("Z_") || code === "ERR_ZLIB") {
    return new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${name}: gzip data is damaged or not gzip (${message})`,
      { archive: name, cause: error },
    );
  }
  if (/Unexpected end of data/.test(message)) {
    return new MaskpipeError(
      "ERR_TAR_TRUNCATED",
      `${name}: ends in the middle of an entry; the tar is truncated (re-download or re-create it)`,
      { archive: name, cause: error },
    );
  }
  if (/Invalid tar header|Header exceeds|Invalid header/.test(message)) {
    return new MaskpipeError("ERR_TAR_CORRUPT", `${name}: ${message}`, {
      archive: name,
      cause: error,
    });
  }
  return error;
}
