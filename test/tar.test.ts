import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type ArchiveFile, writeTar } from "../scripts/archives.js";
import { openLocalSource } from "../src/sources/open-source.js";
import type { SourceEntry } from "../src/sources/source.js";
import { tarSource } from "../src/sources/tar/tar-source.js";
import { oddChunks } from "./support/chunks.js";
import { closeAfterTest, tempDir } from "./support/temp.js";

const files: ArchiveFile[] = [
  { name: "masks/", directory: true },
  { name: "masks/0001/001.png", data: Buffer.alloc(40_000, 1) },
  { name: "masks/0001/002.png", data: Buffer.alloc(0) },
  { name: "masks/notes.txt", data: Buffer.from("hello") },
  { name: `masks/${"long-folder-name/".repeat(12)}003.png`, data: Buffer.alloc(513, 3) },
];

async function collect(entries: AsyncIterable<SourceEntry>, delayMs = 0) {
  const out: { path: string; kind: string; size: number; data?: string }[] = [];
  for await (const entry of entries) {
    out.push({
      path: entry.member.path,
      kind: entry.member.kind,
      size: entry.member.size,
      data: entry.data?.toString("base64"),
    });
    if (delayMs > 0) await sleep(delayMs);
  }
  return out;
}

const expected = files.map((file) => ({
  path: file.name,
  kind: file.directory ? "directory" : "file",
  size: file.data?.length ?? 0,
  data: file.directory ? undefined : file.data!.toString("base64"),
}));

describe("tar source", () => {
  for (const gzip of [false, true]) {
    const kind = gzip ? "tar.gz" : "tar";
    it(`reads every member of a ${kind} in order`, async () => {
      const dir = await tempDir();
      const path = join(dir, `t.${kind}`);
      await writeTar(path, files, gzip);
      const source = closeAfterTest(await openLocalSource(path));
      expect(source.kind).toBe(kind);
      expect(source.randomAccess).toBe(false);
      expect(await collect(source.entries())).toEqual(expected);
    });

    it(`reads the same from odd-sized chunks (${kind})`, async () => {
      const dir = await tempDir();
      const path = join(dir, `t.${kind}`);
      await writeTar(path, files, gzip);
      const bytes = await readFile(path);
      const source = tarSource("chunked", () => oddChunks(bytes), { gzip });
      expect(await collect(source.entries())).toEqual(expected);
    });
  }

  it("keeps up with a slow consumer without losing or stalling", async () => {
    const dir = await tempDir();
    const path = join(dir, "slow.tar");
    const many = Array.from({ length: 30 }, (_, i) => ({
      name: `m/${i}.png`,
      data: Buffer.alloc(20_000, i),
    }));
    await writeTar(path, many);
    const source = closeAfterTest(await openLocalSource(path));
    const read = await collect(source.entries(), 5);
    expect(read.map((entry) => entry.path)).toEqual(many.map((file) => file.name));
    expect(read.every((entry, i) => entry.data === many[i]!.data.toString("base64"))).toBe(true);
  });

  it("lists unwanted members without reading them", async () => {
    const dir = await tempDir();
    const path = join(dir, "t.tar");
    await writeTar(path, files);
    const source = closeAfterTest(await openLocalSource(path));
    const read = await collect(
      source.entries({ want: (member) => member.path.endsWith("001.png") }),
    );
    expect(read.filter((entry) => entry.data !== undefined).map((entry) => entry.path)).toEqual([
      "masks/0001/001.png",
    ]);
    expect(read).toHaveLength(files.length);
  });

  it("reports a member over the size limit as that member's error", async () => {
    const dir = await tempDir();
    const path = join(dir, "t.tar");
    await writeTar(path, files);
    const source = tarSource(path, () => createReadStream(path), {
      gzip: false,
      maxMemberBytes: 1000,
    });
    const entries: SourceEntry[] = [];
    for await (const entry of source.entries()) entries.push(entry);
    expect(entries[1]!.error?.code).toBe("ERR_MEMBER_TOO_LARGE");
    expect(entries[4]!.data?.length).toBe(513);
  });

  it("says a tar cut inside a member is truncated", async () => {
    const dir = await tempDir();
    const path = join(dir, "cut.tar");
    await writeTar(path, files);
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, 512 * 3 + 100));
    const source = closeAfterTest(await openLocalSource(path));
    await expect(collect(source.entries())).rejects.toMatchObject({
      code: "ERR_TAR_TRUNCATED",
      message: expect.stringContaining("cut.tar: ends in the middle of an entry"),
    });
  });

  it("says a tar cut exactly between members is truncated (tar-stream alone accepts it)", async () => {
    const dir = await tempDir();
    const path = join(dir, "boundary.tar");
    await writeTar(path, files.slice(0, 2));
    const bytes = await readFile(path);
    // directory header (512) + file header (512) + 40,000 bytes padded to 40,448: no end blocks.
    await writeFile(path, bytes.subarray(0, 512 + 512 + 40_448));
    const source = closeAfterTest(await openLocalSource(path));
    await expect(collect(source.entries())).rejects.toMatchObject({ code: "ERR_TAR_TRUNCATED" });
  });

  it("says what to do when a gzipped tar is named .tar", async () => {
    const dir = await tempDir();
    const plain = join(dir, "plain.tar");
    await writeTar(plain, files);
    const path = join(dir, "misnamed.tar");
    await writeFile(path, gzipSync(await readFile(plain)));
    await expect(openLocalSource(path)).rejects.toMatchObject({
      code: "ERR_SOURCE_FORMAT",
      message: `${path}: is named like a .tar file but its bytes are .tar.gz (or .tgz) data; rename it to end in .tar.gz (or .tgz)`,
    });
  });

  it("says a damaged gzip stream is damaged", async () => {
    const dir = await tempDir();
    const plain = join(dir, "plain.tar");
    await writeTar(plain, files);
    const gz = gzipSync(await readFile(plain));
    gz.fill(0x55, 40, 200);
    const path = join(dir, "bad.tar.gz");
    await writeFile(path, gz);
    const source = closeAfterTest(await openLocalSource(path));
    await expect(collect(source.entries())).rejects.toMatchObject({ code: "ERR_SOURCE_FORMAT" });
  });

  it("names a missing source", async () => {
    await expect(openLocalSource("/no/such/archive.tar")).rejects.toMatchObject({
      code: "ERR_SOURCE_NOT_FOUND",
      message: "/no/such/archive.tar: no such file or folder",
    });
  });
});
