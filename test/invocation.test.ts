import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandPrefix } from "../src/cli/invocation.js";
import { resumeCommand } from "../src/cli/summary.js";
import { tempDir } from "./support/temp.js";

/** A package's bin.js, a PATH folder with `maskpipe` linking to it, and a `node` of its own. */
async function layout() {
  const dir = await tempDir();
  const script = join(dir, "my pkg", "dist", "cli", "bin.js");
  await mkdir(join(script, ".."), { recursive: true });
  await writeFile(script, "");
  await chmod(script, 0o755);
  const bin = join(dir, "bin");
  await mkdir(bin);
  await symlink(script, join(bin, "maskpipe"));
  const nodeBin = join(dir, "node-bin");
  await mkdir(nodeBin);
  await symlink(process.execPath, join(nodeBin, "node"));
  return { dir, script, bin, nodeBin };
}

describe("the command maskpipe prints starts it as the user did", () => {
  it("is `maskpipe` when the one on PATH is this script, as `npm install -g` makes it", async () => {
    const { script, bin, nodeBin } = await layout();
    const path = `${bin}:${nodeBin}`;
    expect(commandPrefix({ script: join(bin, "maskpipe"), execPath: process.execPath, path })).toBe(
      "maskpipe",
    );
    // node <clone>/dist/cli/bin.js, when that same file is installed on PATH.
    expect(commandPrefix({ script, execPath: process.execPath, path })).toBe("maskpipe");
  });

  it("is node and the script's real path otherwise (a clone, npx in it, a project's package)", async () => {
    const { dir, script, nodeBin } = await layout();
    const dotBin = join(dir, "project", "node_modules", ".bin");
    await mkdir(dotBin, { recursive: true });
    await symlink(script, join(dotBin, "maskpipe"));
    const quoted = `'${script}'`;
    for (const started of [script, join(dotBin, "maskpipe")]) {
      expect(commandPrefix({ script: started, execPath: process.execPath, path: nodeBin })).toBe(
        `node ${quoted}`,
      );
    }
    // No `node` on PATH (or another one): node's own path.
    expect(commandPrefix({ script, execPath: process.execPath, path: dir })).toBe(
      `${process.execPath} ${quoted}`,
    );
    expect(resumeCommand("casia --out o --overwrite", `node ${quoted}`)).toBe(
      `node ${quoted} run casia --out o --resume`,
    );
  });
});
