import { randomBytes } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { MaskpipeError } from "../core/errors.js";
import { makeDirectory } from "../core/make-directory.js";
import { writeAll } from "./write-all.js";

/**
 * The one way maskpipe writes into an output. A path below the output root is written only if no
 * folder between the root and it is a link and the path itself is a regular file or absent: a
 * link planted in the output (by another user of a shared volume, or by mistake) is refused, so
 * nothing outside the run is ever written, replaced or removed through it. The root itself is
 * the user's choice and may be a link.
 *
 * Files are written under a fresh `.partial` name (pid and a random suffix, created exclusively
 * and never through a link), synced, then renamed: readers never see half a file, and a name
 * planted beforehand cannot be the one written.
 */

/** Opened only as a new file, never through a link at its own name. */
const NEW_FILE =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** What a `.partial` name adds to the final one; older maskpipe versions added only `.partial`. */
export const PARTIAL_SUFFIX = "(?:\\.\\d+-[0-9a-f]+)?\\.partial";

const PARTIAL = new RegExp(`${PARTIAL_SUFFIX}$`);

/** The final name of a file left half-written (`a.tar.123-0a1b2c3d.partial` -> `a.tar`). */
export function withoutPartial(file: string): string {
  return file.replace(PARTIAL, "");
}

/** True for a half-written file's name. */
export function isPartial(file: string): boolean {
  return PARTIAL.test(file);
}

/** A file being written: bytes go in with `write`, `complete` puts it in place, `abort` drops it. */
export interface OutputFile {
  /** The final path, for messages. */
  readonly path: string;
  write(chunks: readonly Buffer[]): Promise<void>;
  complete(): Promise<void>;
  abort(): Promise<void>;
}

/** Opens `path` (below `root`) for writing under a fresh `.partial` name. */
export async function openOutputFile(root: string, path: string): Promise<OutputFile> {
  const target = await checkedTarget(root, path);
  const partial = `${target}.${process.pid}-${randomBytes(4).toString("hex")}.partial`;
  let handle: FileHandle;
  try {
    handle = await open(partial, NEW_FILE, 0o666);
  } catch (cause) {
    throw writeError(target, cause);
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    path: target,
    write: (chunks) => writeAll(handle, chunks),
    complete: async () => {
      try {
        await handle.sync();
        await close();
        // A link may have been planted at the final name while the file was written.
        await checkTarget(target);
        await rename(partial, target);
      } catch (error) {
        await close().catch(() => {});
        await unlink(partial).catch(() => {});
        throw error instanceof MaskpipeError ? error : writeError(target, error);
      }
    },
    abort: async () => {
      await close().catch(() => {});
      await unlink(partial).catch(() => {});
    },
  };
}

/** Writes a whole file at `path` (below `root`): under a `.partial` name, synced, renamed. */
export async function writeOutputFile(
  root: string,
  path: string,
  data: string | Buffer,
): Promise<void> {
  const file = await openOutputFile(root, path);
  try {
    await file.write([typeof data === "string" ? Buffer.from(data) : data]);
  } catch (error) {
    await file.abort();
    throw writeError(file.path, error);
  }
  await file.complete();
}

/**
 * Removes a file of the run at `path` (below `root`); nothing when it is not there. A link, or
 * anything but a regular file, is not the run's: refused, never removed.
 */
export async function removeOutputFile(root: string, path: string): Promise<void> {
  const target = resolve(path);
  await checkOutputFolder(root, dirname(target));
  if ((await checkTarget(target)) === undefined) return;
  await unlink(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw writeError(target, error);
  });
}

/**
 * Makes the folders from `root` down to `folder`, refusing a link or a file on the way. Returns
 * the folders it made, outermost first.
 */
export async function makeOutputFolder(root: string, folder: string): Promise<string[]> {
  const made = await makeDirectory(root);
  made.push(...(await checkFolders(resolve(root), resolve(folder), true)));
  return made;
}

/**
 * What a file the run writes is checked below: the output folder `out` when the file is in it
 * (no link between them is followed), else the file's own folder, the user's choice.
 */
export function rootOf(path: string, out: string | undefined): string {
  const inOutput = out !== undefined && resolve(path).startsWith(resolve(out) + sep);
  return inOutput ? out : dirname(resolve(path));
}

/** Throws when a folder between `root` and `folder` is a link or a file; a missing one is fine. */
export async function checkOutputFolder(root: string, folder: string): Promise<void> {
  await checkFolders(resolve(root), resolve(folder), false);
}

/**
 * The state of a path the run would write, without following it: `undefined` when absent; a
 * link or something that is not a regular file is refused.
 */
export async function checkTarget(path: string): Promise<Stats | undefined> {
  const info = await lstatOrUndefined(path);
  if (info === undefined || info.isFile()) return info;
  if (info.isSymbolicLink()) throw outputLinkError(path);
  throw new MaskpipeError(
    "ERR_OUTPUT",
    `${path}: is ${info.isDirectory() ? "a folder" : "not a regular file (a device, a pipe or a socket)"} where maskpipe writes a file; it is left alone and nothing was written there; move it away or choose another output`,
    { archive: path },
  );
}

/** The refusal of a link where the run would write or remove a file. */
export function outputLinkError(path: string): MaskpipeError {
  return new MaskpipeError(
    "ERR_OUTPUT_LINK",
    `${path}: is a symbolic link where maskpipe writes; it writes through no link, so nothing was written there and the link and what it points to are left alone; remove the link or choose another output`,
    { archive: path },
  );
}

async function checkedTarget(root: string, path: string): Promise<string> {
  const target = resolve(path);
  await makeOutputFolder(root, dirname(target));
  await checkTarget(target);
  return target;
}

/** Each folder below `root` down to `folder`: not a link, a folder; made when missing if `make`. */
async function checkFolders(root: string, folder: string, make: boolean): Promise<string[]> {
  const below = relative(root, folder);
  if (below.startsWith("..") || below.startsWith(sep)) {
    throw new Error(`${folder} is not below the output ${root}`);
  }
  const made: string[] = [];
  let current = root;
  for (const part of below.split(sep).filter((name) => name !== "")) {
    current = join(current, part);
    let info = await lstatOrUndefined(current);
    if (info === undefined) {
      if (!make) return made;
      try {
        await mkdir(current);
        made.push(current);
        continue;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw writeError(current, error);
        info = await lstat(current);
      }
    }
    if (info.isSymbolicLink()) throw outputLinkError(current);
    if (!info.isDirectory()) {
      throw new MaskpipeError(
        "ERR_OUTPUT",
        `${current}: is a file where maskpipe needs a folder; nothing was written there; move it away or choose another output`,
        { archive: current },
      );
    }
  }
  return made;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  return lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error.code === "ENAMETOOLONG" ? writeError(path, error) : error;
  });
}

function writeError(path: string, cause: unknown): MaskpipeError {
  if (cause instanceof MaskpipeError) return cause;
  // O_NOFOLLOW: the name became a link between the check and the open.
  if ((cause as NodeJS.ErrnoException).code === "ELOOP") return outputLinkError(path);
  // A name this file system does not take: that file's failure, not the output's.
  if ((cause as NodeJS.ErrnoException).code === "ENAMETOOLONG") {
    return new MaskpipeError(
      "ERR_OUTPUT_NAME",
      `${path}: the file system takes no name this long`,
      {
        archive: path,
        cause,
      },
    );
  }
  return new MaskpipeError("ERR_OUTPUT", `${path}: cannot write it: ${(cause as Error).message}`, {
    archive: path,
    cause,
  });
}
