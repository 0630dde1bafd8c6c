import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { pack as tarPack } from "tar-stream";
import yazl from "yazl";

/** A file to put in an archive; `directory` makes a directory entry. */
export interface ArchiveFile {
  name: string;
  data?: Buffer;
  directory?: boolean;
}

const FIXED_TIME = new Date(Date.UTC(2021, 0, 1));

export interface ZipWriteOptions {
  /** Deflate members (default) or store them. */
  compress?: boolean;
  /** Write ZIP64 records even where the classic ones would do. */
  forceZip64?: boolean;
}

/** Writes a zip with yazl, fixed timestamps, members in the given order. */
export async function writeZip(
  path: string,
  files: ArchiveFile[],
  options: ZipWriteOptions = {},
): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const file of files) {
    if (file.directory) {
      zip.addEmptyDirectory(file.name, { mtime: FIXED_TIME });
    } else {
      zip.addBuffer(file.data ?? Buffer.alloc(0), file.name, {
        mtime: FIXED_TIME,
        compress: options.compress ?? true,
        forceZip64Format: options.forceZip64 ?? false,
      });
    }
  }
  zip.end({ forceZip64Format: options.forceZip64 ?? false, comment: "" });
  await pipeline(zip.outputStream, createWriteStream(path));
}

/** Writes a tar (gzipped when `gzip`) with tar-stream, fixed headers, members in order. */
export async function writeTar(path: string, files: ArchiveFile[], gzip = false): Promise<void> {
  const pack = tarPack();
  const done = gzip
    ? pipeline(pack, createGzip(), createWriteStream(path))
    : pipeline(pack, createWriteStream(path));
  for (const file of files) {
    await new Promise<void>((resolve, reject) => {
      const header = file.directory
        ? { name: file.name, type: "directory" as const, mtime: FIXED_TIME, mode: 0o755 }
        : { name: file.name, size: file.data?.length ?? 0, mtime: FIXED_TIME, mode: 0o644 };
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      if (file.directory) pack.entry(header, callback);
      else pack.entry(header, file.data ?? Buffer.alloc(0), callback);
    });
  }
  pack.finalize();
  await done;
}
