import { createReadStream } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { MaskpipeError } from "../core/errors.js";
import { kindFromBytes, kindFromName } from "./archive-kind.js";
import { openFileReader } from "./byte-reader.js";
import { folderSource } from "./folder/folder-source.js";
import { isHfUrl } from "./hf/hf-url.js";
import { isUrl, type OpenedSource, type OpenSourceOptions } from "./opened-source.js";
import type { Source, SourceKind } from "./source.js";
import { tarSource } from "./tar/tar-source.js";
import { zipSource } from "./zip/zip-source.js";

/** A local path or an http(s) URL: whatever the user passed as --originals or --masks. */
export async function openSource(
  spec: string,
  options: OpenSourceOptions = {},
): Promise<OpenedSource> {
  if (!isHfUrl(spec) && !isUrl(spec)) return openLocalSource(spec, options);
  // Loaded on first use: undici and the Hub client add ~0.2 s to every start otherwise.
  const remote = await import("./http/open-remote-source.js");
  return isHfUrl(spec) ? remote.openHubSource(spec, options) : remote.openHttpSource(spec, options);
}

const NAME_FOR: Record<SourceKind, string> = {
  zip: ".zip",
  tar: ".tar",
  "tar.gz": ".tar.gz (or .tgz)",
  folder: "a folder",
  "7z": ".7z (or a volume .7z.001)",
};

/**
 * Opens a local folder, zip, tar, tar.gz or 7z (one file, any volume of a split set, or the
 * folder of the volumes). The kind comes from the name and is checked
 * against the first bytes, so a gzipped file named `.tar` is an error that says so instead of
 * a parse failure deep in tar-stream.
 */
export async function openLocalSource(
  path: string,
  options: OpenSourceOptions = {},
): Promise<Source> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new MaskpipeError("ERR_SOURCE_NOT_FOUND", `${path}: no such file or folder`, {
      archive: path,
      cause,
    });
  }
  if (info.isDirectory()) {
    if (await holdsSevenZipVolumes(path)) return openSevenZip(path, options);
    return folderSource(path, options);
  }

  const named = kindFromName(path);
  // Any volume of a split 7z names the set; only the first starts with the 7z signature.
  if (named === "7z" && /\.7z\.\d+$/i.test(path)) return openSevenZip(path, options);
  const head = await readHead(path);
  const seen = kindFromBytes(head);
  if (seen === undefined) {
    throw new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${path}: is not a zip, tar, tar.gz or 7z archive (its first bytes match none of them)${/\.7z\.\d+$/i.test(path) ? "; only the first volume (.001) of a split 7z starts with its header" : ""}`,
      { archive: path },
    );
  }
  if (named !== undefined && named !== seen) {
    throw new MaskpipeError(
      "ERR_SOURCE_FORMAT",
      `${path}: is named like a ${NAME_FOR[named]} file but its bytes are ${NAME_FOR[seen]} data; rename it to end in ${NAME_FOR[seen]}`,
      { archive: path },
    );
  }
  if (seen === "zip") return zipSource(path, await openFileReader(path), options);
  if (seen === "7z") return openSevenZip(path, options);
  return tarSource(path, (signal) => createReadStream(path, { signal }), {
    gzip: seen === "tar.gz",
    ...options,
  });
}

/** A folder named like a 7z archive that holds its volumes, as CelebA's `Img/img_celeba.7z/`. */
async function holdsSevenZipVolumes(path: string): Promise<boolean> {
  if (!/\.7z\/*$/i.test(path)) return false;
  return (await readdir(path)).some((name) => /\.7z\.0*1$/i.test(name));
}

async function openSevenZip(path: string, options: OpenSourceOptions): Promise<Source> {
  // Loaded on first use, like the remote sources: most runs never meet a 7z.
  const { sevenZipSource } = await import("./sevenzip/seven-zip-source.js");
  return sevenZipSource(path, options);
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
