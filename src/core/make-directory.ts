import { mkdir, rmdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/**
 * `mkdir -p` that ends. Node 20's `mkdir(p, { recursive: true })` never returns for a path under
 * /proc or /sys (it retries ENOENT/EEXIST forever, ignoring signals), so this walks up to the
 * nearest folder that exists and makes each missing one itself. Returns the folders it made,
 * outermost first, so a caller can take them back.
 */
export async function makeDirectory(path: string): Promise<string[]> {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    const info = await stat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (info !== undefined) {
      if (!info.isDirectory()) throw notAFolder(current);
      break;
    }
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  const made: string[] = [];
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder);
      made.push(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!(await stat(folder)).isDirectory()) throw notAFolder(folder);
    }
  }
  return made;
}

/** Removes folders `makeDirectory` made (innermost first), if they are still empty. */
export async function removeMadeDirectories(made: readonly string[]): Promise<void> {
  for (const folder of [...made].reverse()) await rmdir(folder).catch(() => {});
}

function notAFolder(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: ${path} is a file, not a folder`), {
    code: "ENOTDIR",
    path,
  });
}
