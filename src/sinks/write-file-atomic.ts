import { rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { makeDirectory } from "../core/make-directory.js";

/** Writes under a temporary name and renames, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  await makeDirectory(dirname(path));
  const partial = `${path}.partial`;
  await writeFile(partial, data);
  await rename(partial, path);
}
