import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import yauzl from "yauzl";
import { writeZip } from "../scripts/archives.js";
import type { MaskpipeError } from "../src/core/errors.js";
import { openFileReader } from "../src/sources/byte-reader.js";
import type { RandomAccessSource, SourceEntry } from "../src/sources/source.js";
import { coalesce, zipSource } from "../src/sources/zip/zip-source.js";
import { flipByte, writeStoredZip64 } from "./support/stored-zip.js";
import { closeAfterTest, tempDir } from "./support/temp.js";

interface Listed {
  path: string;
  size: number;
  data?: string;
}

/** The reference answer: what yauzl, a well-kept zip library, lists and reads. */
function listWithYauzl(path: string, readData: boolean): Promise<Listed[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      { lazyEntries: true, decodeStrings: true, strictFileNames: false },
      (error, zip) => {
        if (error) return reject(error);
        const out: Listed[] = [];
        zip.on("error", reject);
        zip.on("end", () => resolve(out));
        zip.on("entry", (entry: yauzl.Entry) => {
          const item: Listed = {
            path: entry.fileName.normalize("NFC"),
            size: entry.uncompressedSize,
          };
          out.push(item);
          if (!readData || entry.fileName.endsWith("/")) return zip.readEntry();
          zip.openReadStream(entry, (streamError, stream) => {
            if (streamError) return reject(streamError);
            const chunks: Buffer[] = [];
            stream.on("data", (chunk: Buffer) => chunks.push(chunk));
            stream.on("end", () => {
              item.data = Buffer.concat(chunks).toString("base64");
              zip.readEntry();
            });
          });
        });
        zip.readEntry();
      },
    );
  });
}

async function open(path: string): Promise<RandomAccessSource> {
  return closeAfterTest(zipSource(path, await openFileReader(path)));
}

async function listWithMaskpipe(path: string, readData: boolean): Promise<Listed[]> {
  const source = await open(path);
  const out: Listed[] = [];
  try {
    for (const member of await source.list()) {
      const item: Listed = { path: member.path, size: member.size };
      if (readData && member.kind === "file")
        item.data = (await source.read(member)).toString("base64");
      out.push(item);
    }
  } finally {
    await source.close();
  }
  return out;
}

function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    // Half random, half repetitive, so deflate has something to do.
    out[i] = i % 64 < 32 ? state >>> 24 : i % 7;
  }
  return out;
}

const mixedFiles = [
  { name: "top/", directory: true },
  { name: "top/a.jpg", data: bytes(1, 5000) },
  { name: "top/empty.png", data: Buffer.alloc(0) },
  { name: "top/sub/b.png", data: bytes(2, 70_000) },
  { name: "top/ünïcode/名前.jpg", data: bytes(3, 123) },
];

describe("zip source, differential against yauzl", () => {
  for (const [label, options] of [
    ["deflate", { compress: true }],
    ["stored", { compress: false }],
    ["forced ZIP64 records", { compress: true, forceZip64: true }],
  ] as const) {
    it(`lists and reads the same members and bytes (${label})`, async () => {
      const dir = await tempDir();
      const path = join(dir, "t.zip");
      await writeZip(path, mixedFiles, options);
      const ours = await listWithMaskpipe(path, true);
      expect(ours).toEqual(await listWithYauzl(path, true));
      expect(ours.map((m) => m.path)).toContain("top/ünïcode/名前.jpg");
    });
  }

  it("reads a ZIP64 archive of more than 65,535 members, its directory larger than one read window", async () => {
    const dir = await tempDir();
    const path = join(dir, "many.zip");
    const files = Array.from({ length: 70_000 }, (_, i) => ({
      name: `a-folder-name-long-enough/${String(i).padStart(6, "0")}.jpg`,
      data: Buffer.from(String(i)),
    }));
    await writeStoredZip64(path, files);
    const ours = await listWithMaskpipe(path, false);
    expect(ours).toHaveLength(70_000);
    expect(ours).toEqual(await listWithYauzl(path, false));
    const source = await open(path);
    const members = await source.list();
    expect((await source.read(members.at(69_999)!)).toString()).toBe("69999");
    await source.close();
  });
});

/** Offsets of the name in the local and the central header (the first two occurrences). */
function headerOffsets(zip: Buffer, name: string): { local: number; central: number } {
  const needle = Buffer.from(name);
  const first = zip.indexOf(needle);
  const second = zip.indexOf(needle, first + 1);
  return { local: first - 30, central: second - 46 };
}

async function patched(
  files: { name: string; data: Buffer }[],
  patch: (zip: Buffer) => void,
  compress = false,
) {
  const dir = await tempDir();
  const path = join(dir, "p.zip");
  await writeZip(path, files, { compress });
  const zip = await readFile(path);
  patch(zip);
  await writeFile(path, zip);
  return path;
}

async function entriesOf(path: string): Promise<SourceEntry[]> {
  const out: SourceEntry[] = [];
  const source = await open(path);
  for await (const entry of source.entries()) out.push(entry);
  return out;
}

describe("zip member names", () => {
  it("decodes UTF-8 names written without the UTF-8 flag (Info-ZIP on Linux)", async () => {
    const name = "café.jpg";
    const path = await patched([{ name, data: Buffer.from("x") }], (zip) => {
      const { local, central } = headerOffsets(zip, name);
      zip.writeUInt16LE(zip.readUInt16LE(local + 6) & ~0x0800, local + 6);
      zip.writeUInt16LE(zip.readUInt16LE(central + 8) & ~0x0800, central + 8);
    });
    expect((await listWithMaskpipe(path, false))[0]!.path).toBe("café.jpg");
  });

  it("decodes names that are not UTF-8 as CP437", async () => {
    const path = await patched([{ name: "cafX.jpg", data: Buffer.from("x") }], (zip) => {
      const { local, central } = headerOffsets(zip, "cafX.jpg");
      zip[local + 30 + 3] = 0x82; // CP437 é
      zip[central + 46 + 3] = 0x82;
    });
    expect((await listWithMaskpipe(path, false))[0]!.path).toBe("café.jpg");
  });

  it("normalises NFD names (macOS) to NFC so photo and mask keys agree", async () => {
    const dir = await tempDir();
    const path = join(dir, "nfd.zip");
    await writeZip(path, [{ name: "cafe\u0301.jpg", data: Buffer.from("x") }]);
    expect((await listWithMaskpipe(path, true))[0]).toEqual({
      path: "café.jpg",
      size: 1,
      data: "eA==",
    });
  });
});

describe("damaged zips", () => {
  const file = { name: "m.jpg", data: Buffer.from("0123456789".repeat(10)) };

  it("reports a CRC mismatch for the member and goes on with the others", async () => {
    const path = await patched([file, { name: "n.jpg", data: Buffer.from("ok") }], (zip) => {
      flipByte(zip, headerOffsets(zip, "m.jpg").local + 30 + 5 + 10);
    });
    const entries = await entriesOf(path);
    expect(entries[0]!.error?.code).toBe("ERR_MEMBER_CRC");
    expect(entries[0]!.error?.message).toMatch(
      /p\.zip: m\.jpg: CRC-32 is 0x[0-9a-f]{8} but the directory says/,
    );
    expect(entries[1]!.data?.toString()).toBe("ok");
  });

  it("refuses a member that inflates past its declared size", async () => {
    const path = await patched(
      [file],
      (zip) => {
        const { central } = headerOffsets(zip, "m.jpg");
        zip.writeUInt32LE(10, central + 24);
      },
      true,
    );
    const [entry] = await entriesOf(path);
    expect(entry!.error?.code).toBe("ERR_MEMBER_SIZE");
    expect(entry!.error?.message).toContain("inflates to more than the 10 bytes");
  });

  it("reports unsupported compression methods and encryption per member", async () => {
    const method = await patched([file], (zip) => {
      zip.writeUInt16LE(12, headerOffsets(zip, "m.jpg").central + 10);
    });
    expect((await entriesOf(method))[0]!.error?.message).toContain(
      "compression method 12 is not supported",
    );
    const encrypted = await patched([file], (zip) => {
      zip.writeUInt16LE(1, headerOffsets(zip, "m.jpg").central + 8);
    });
    expect((await entriesOf(encrypted))[0]!.error?.code).toBe("ERR_ZIP_UNSUPPORTED");
  });

  it("fails only the member whose local header is damaged", async () => {
    const path = await patched([file, { name: "n.jpg", data: Buffer.from("ok") }], (zip) => {
      zip.writeUInt32LE(0x12345678, headerOffsets(zip, "m.jpg").local);
    });
    const entries = await entriesOf(path);
    expect(entries[0]!.error).toMatchObject({
      code: "ERR_MEMBER_CORRUPT",
      message: expect.stringContaining("m.jpg: local file header has a bad signature at offset 0"),
    });
    expect(entries[1]!.data?.toString()).toBe("ok");
  });

  it("says a truncated zip is truncated", async () => {
    const dir = await tempDir();
    const path = join(dir, "cut.zip");
    await writeZip(path, [file]);
    const zip = await readFile(path);
    await writeFile(path, zip.subarray(0, zip.length - 30));
    const source = await open(path);
    await expect(source.list()).rejects.toMatchObject({
      code: "ERR_ZIP_CORRUPT",
      message: expect.stringContaining("no end of central directory record"),
    } satisfies Partial<MaskpipeError>);
  });

  it("refuses a directory that points outside the file", async () => {
    const path = await patched([file], (zip) => {
      const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
      zip.writeUInt32LE(zip.length * 2, eocd + 16);
    });
    await expect((await open(path)).list()).rejects.toMatchObject({ code: "ERR_ZIP_CORRUPT" });
  });
});

describe("zip reads coalesced into spans", () => {
  it("groups nearby ranges within the gap and span limits", () => {
    const items = [
      { start: 0, end: 100 },
      { start: 150, end: 300 },
      { start: 100_000, end: 100_100 },
      { start: 100_050, end: 100_200 },
    ];
    const spans = coalesce(items, { maxGap: 1000, maxSpan: 10_000 });
    expect(spans.map((span) => [span.start, span.end, span.items.length])).toEqual([
      [0, 300, 2],
      [100_000, 100_200, 2],
    ]);
    expect(coalesce(items, { maxGap: 1000, maxSpan: 200 }).length).toBe(3);
  });

  it("reads 3,000 members with a few dozen reads instead of one per member", async () => {
    const dir = await tempDir();
    const path = join(dir, "many.zip");
    const files = Array.from({ length: 3000 }, (_, i) => ({
      name: `d/${i}.jpg`,
      data: bytes(i, 500 + (i % 300)),
    }));
    await writeZip(path, files);
    const file = await openFileReader(path);
    let reads = 0;
    const counting = {
      ...file,
      read: (offset: number, length: number, signal?: AbortSignal) => {
        reads++;
        return file.read(offset, length, signal);
      },
    };
    const source = closeAfterTest(zipSource(path, counting));
    let index = 0;
    for await (const entry of source.entries()) {
      expect(entry.data?.equals(files[index]!.data)).toBe(true);
      index++;
    }
    expect(index).toBe(3000);
    expect(reads).toBeLessThan(60); // 47 batches of 64 members, the directory, the end record
    reads = 0;
    const members = await source.list();
    const picked = [10, 2999, 11, 12].map((i) => members.at(i)!);
    const results = await source.readMany(picked);
    expect(results.map((r) => ("data" in r ? r.data.length : -1))).toEqual(
      picked.map((m) => m.size),
    );
    expect(reads).toBe(2);
    await source.close();
  });
});

describe("zip bombs", () => {
  it("refuses a large member that inflates more than 100-fold, and reads the rest", async () => {
    const dir = await tempDir();
    const path = join(dir, "bomb.zip");
    await writeZip(path, [
      { name: "bomb.png", data: Buffer.alloc(50 * 2 ** 20) },
      { name: "ok.jpg", data: bytes(9, 3000) },
    ]);
    const entries = await entriesOf(path);
    expect(entries[0]!.error?.code).toBe("ERR_MEMBER_TOO_LARGE");
    expect(entries[0]!.error?.message).toMatch(
      /bomb\.png: would inflate \d+ bytes to 52428800 \(more than 100x\); refused as a zip bomb/,
    );
    expect(entries[1]!.data?.length).toBe(3000);
  });
});
