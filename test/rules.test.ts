import { describe, expect, it } from "vitest";
import { memberKey } from "../src/core/keys.js";
import { skipReason } from "../src/core/member-filter.js";
import { byteSize, integerBetween, oneOf } from "../src/core/validate.js";
import { safeRelativePath } from "../src/sinks/folder-names.js";
import { tarMemberBytes } from "../src/sinks/tar-member-chunks.js";
import { sampleMembers, shardFileName, webDatasetKey } from "../src/sinks/webdataset-names.js";
import { kindFromBytes, kindFromName } from "../src/sources/archive-kind.js";
import { sampleOf } from "./support/samples.js";

const celebaPhoto = { depth: 1, suffixes: [] };
const celebaMask = { depth: 1, suffixes: ["_mask"] };
const casia = { depth: 2, suffixes: ["_mask"] };

describe("memberKey", () => {
  it("gives CelebA keys from photos and both mask namings", () => {
    expect(memberKey("img_celeba/000001.jpg", celebaPhoto)).toBe("000001");
    expect(memberKey("celeba_masks/000001_mask.png", celebaMask)).toBe("000001");
    expect(memberKey("celeba_masks/000001.png", celebaMask)).toBe("000001");
    expect(memberKey("000001.jpg", celebaPhoto)).toBe("000001");
  });

  it("gives CASIA keys with the identity folder, with or without a top folder", () => {
    expect(memberKey("CASIA-WebFace/0000045/001.jpg", casia)).toBe("0000045/001");
    expect(memberKey("CASIA-WebFace_masks/0000045/001.png", casia)).toBe("0000045/001");
    expect(memberKey("0000045/001.jpg", casia)).toBe("0000045/001");
    expect(memberKey("./data/CASIA-WebFace/0000045/001.jpg", casia)).toBe("0000045/001");
  });

  it("removes only the last extension and never the whole name", () => {
    expect(memberKey("a/b.c.jpg", celebaPhoto)).toBe("b.c");
    expect(memberKey("a/_mask.png", celebaMask)).toBe("_mask");
    expect(memberKey("a\\b\\001_mask.png", casia)).toBe("b/001");
  });
});

describe("WebDataset naming", () => {
  it("escapes dots and percent signs in the file-name part only", () => {
    expect(webDatasetKey("0000045/001")).toBe("0000045/001");
    expect(webDatasetKey("v1.2/a.b")).toBe("v1.2/a%2Eb");
    expect(webDatasetKey("100%.x")).toBe("100%25%2Ex");
    expect(decodeURIComponent(webDatasetKey("a.b%c"))).toBe("a.b%c");
  });

  it("names shards with six digits", () => {
    expect(shardFileName("celeba", 0)).toBe("celeba-000000.tar");
    expect(shardFileName("casia", 12345)).toBe("casia-012345.tar");
  });

  it("orders a sample's files by extension and sizes tar members by blocks", () => {
    const sample = sampleOf("k", Buffer.alloc(600), {
      height: 2,
      maskHeight: 2,
      extension: "webp",
    });
    expect(sampleMembers(sample).map((m) => m.name)).toEqual(["k.json", "k.webp"]);
    expect(tarMemberBytes({ name: "k.webp", data: Buffer.alloc(600) })).toBe(512 + 1024);
    expect(tarMemberBytes({ name: "k.json", data: Buffer.alloc(0) })).toBe(512);
  });
});

describe("skipReason", () => {
  it("passes images and counts everything else by reason", () => {
    expect(skipReason("a/b.JPG", "file")).toBeUndefined();
    expect(skipReason("a/b.webp", "file")).toBeUndefined();
    expect(skipReason("a/", "directory")).toBe("directory");
    expect(skipReason("a/notes.txt", "file")).toBe("not-image");
    expect(skipReason("__MACOSX/a/._b.jpg", "file")).toBe("macos-metadata");
    expect(skipReason("a/._b.jpg", "file")).toBe("macos-metadata");
    expect(skipReason("a/link.jpg", "other")).toBe("not-a-file");
  });
});

describe("safeRelativePath", () => {
  it("keeps keys inside the output folder", () => {
    expect(safeRelativePath("0000045/001", "jpg")).toBe("0000045/001.jpg");
    expect(() => safeRelativePath("../etc/passwd", "jpg")).toThrow(/outside the output folder/);
    expect(() => safeRelativePath("/etc/passwd", "jpg")).toThrow(/outside the output folder/);
    expect(() => safeRelativePath("C:/x", "jpg")).toThrow(/outside the output folder/);
  });
});

describe("source kind", () => {
  it("comes from the name and from the first bytes", () => {
    expect(kindFromName("x.ZIP")).toBe("zip");
    expect(kindFromName("x.tgz")).toBe("tar.gz");
    expect(kindFromName("x.tar.gz")).toBe("tar.gz");
    expect(kindFromName("x.tar")).toBe("tar");
    expect(kindFromName("x.bin")).toBeUndefined();
    expect(kindFromBytes(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe("tar.gz");
    expect(kindFromBytes(Buffer.from("PK\x03\x04", "latin1"))).toBe("zip");
    expect(kindFromBytes(Buffer.from("hello"))).toBeUndefined();
  });
});

describe("option checks", () => {
  it("use one message shape", () => {
    expect(() => integerBetween("quality", 0, 1, 100)).toThrow(
      "Expected integer between 1 and 100 for quality but received 0 of type number",
    );
    expect(() => integerBetween("concurrency", "many", 1, 256)).toThrow(
      'Expected integer between 1 and 256 for concurrency but received "many" of type string',
    );
    expect(() => oneOf("format", "gif", ["jpeg", "png", "webp"])).toThrow(
      'Expected one of jpeg, png, webp for format but received "gif" of type string',
    );
    expect(() => byteSize("shardMaxBytes", "lots")).toThrow(
      'Expected positive byte size such as 1GB, 512MiB or 1000000 for shardMaxBytes but received "lots" of type string',
    );
  });

  it("parse byte sizes with units", () => {
    expect(byteSize("x", "1GB")).toBe(1e9);
    expect(byteSize("x", "512MiB")).toBe(512 * 2 ** 20);
    expect(byteSize("x", "1.5kb")).toBe(1500);
    expect(byteSize("x", 42)).toBe(42);
  });
});

describe("progress and summary text", () => {
  it("shows rate, percent and ETA when the total is known", async () => {
    const { progressLine, formatDuration } = await import("../src/cli/progress.js");
    expect(
      progressLine({ written: 1500, failed: 0, expected: 3000, seconds: 15, networkBytes: 0 }),
    ).toBe("1,500 written · 100.0 img/s · 50% · ETA 15s");
    expect(
      progressLine({ written: 10, failed: 2, expected: undefined, seconds: 2, networkBytes: 8e6 }),
    ).toBe("10 written · 5.0 img/s · 2 failed · 8.0 MB read (4.0 MB/s)");
    expect(formatDuration(3725)).toBe("1h02m");
    expect(formatDuration(125)).toBe("2m05s");
  });
});
