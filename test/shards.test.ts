import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import type { Sample } from "../src/core/sample.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { webDatasetSink } from "../src/sinks/webdataset-sink.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { readShard } from "./support/read-shard.js";
import { sampleOf } from "./support/samples.js";
import { tempDir } from "./support/temp.js";

const casia = { depth: 2, suffixes: ["_mask"] };
const keys = casiaKeys(23, 40, 4);

async function corpus() {
  const dir = await tempDir();
  const { photos, masks } = await corpusFiles({
    keys,
    withoutMask: [keys[5]!],
    orphanMasks: ["0000049/001"],
  });
  return {
    dir,
    photos: await writeArchive(dir, "photos", "zip", photos),
    masks: await writeArchive(dir, "masks", "tar", masks),
  };
}

async function run(
  c: Awaited<ReturnType<typeof corpus>>,
  out: string,
  extra: Record<string, unknown> = {},
) {
  return runPipeline({
    name: "casia",
    originals: c.photos,
    masks: c.masks,
    out,
    photoKeys: casia,
    maskKeys: casia,
    shardMaxCount: 5,
    ...extra,
  });
}

describe("WebDataset shards", () => {
  it("are byte-identical across runs and concurrency settings", async () => {
    const c = await corpus();
    const first = await run(c, join(c.dir, "a"), { concurrency: 1 });
    const second = await run(c, join(c.dir, "b"), { concurrency: 4 });
    expect(first.shards.length).toBe(5);
    expect(second.shards).toEqual(first.shards);
    for (const shard of first.shards) {
      const a = await readFile(join(c.dir, "a", shard.name));
      const b = await readFile(join(c.dir, "b", shard.name));
      expect(a.equals(b)).toBe(true);
      expect(createHash("sha256").update(a).digest("hex")).toBe(shard.sha256);
    }
  });

  it("hold each sample's files consecutively, with fixed headers and the metadata", async () => {
    const c = await corpus();
    const out = join(c.dir, "out");
    const report = await run(c, out);
    expect(report.written).toBe(22);
    expect(report.photosWithoutMask).toBe(1);
    expect(report.masksWithoutPhoto).toBe(1);
    const seen = new Set<string>();
    for (const shard of report.shards) {
      const members = await readShard(join(out, shard.name));
      expect(members.length).toBe(shard.samples * 2);
      for (let i = 0; i < members.length; i += 2) {
        const [jpg, json] = [members[i]!, members[i + 1]!];
        const key = jpg.name.slice(0, -".jpg".length);
        expect(json.name).toBe(`${key}.json`);
        expect(JSON.parse(json.data.toString())).toEqual({
          key,
          photo: `CASIA-WebFace/${key}.jpg`,
          mask: `CASIA-WebFace_masks/${key}.png`,
          width: 64,
          height: 64,
        });
        expect(jpg.data.subarray(0, 4).toString("hex")).toBe("ffd8ffe0");
        for (const member of [json, jpg]) {
          expect(member.header).toMatchObject({
            mode: 0o644,
            uid: 0,
            gid: 0,
            uname: "",
            gname: "",
          });
          expect(member.header.mtime?.getTime()).toBe(0);
        }
        seen.add(key);
      }
    }
    expect(seen.size).toBe(22);
  });

  it("end with a wids index whose sizes and md5 sums match the files", async () => {
    const c = await corpus();
    const out = join(c.dir, "out");
    const report = await run(c, out);
    const index = JSON.parse(await readFile(join(out, "index.json"), "utf8"));
    expect(index.__kind__).toBe("wids-shard-index-v1");
    expect(index.wids_version).toBe(1);
    expect(index.shardlist).toHaveLength(report.shards.length);
    for (const entry of index.shardlist) {
      const bytes = await readFile(join(out, entry.url));
      expect(entry.filesize).toBe(bytes.length);
      expect(entry.md5sum).toBe(createHash("md5").update(bytes).digest("hex"));
    }
    expect(
      index.shardlist.reduce((sum: number, entry: { nsamples: number }) => sum + entry.nsamples, 0),
    ).toBe(22);
    const files = await readdir(out);
    expect(files.filter((file) => file.endsWith(".partial"))).toEqual([]);
    expect(files.sort()).toEqual([
      "README.md",
      "casia-000000.tar",
      "casia-000001.tar",
      "casia-000002.tar",
      "casia-000003.tar",
      "casia-000004.tar",
      "index.json",
      "report.json",
      "run.json",
    ]);
  });

  it("never exceed the byte limit unless one sample alone does", async () => {
    const dir = await tempDir();
    const samples: Sample[] = Array.from({ length: 10 }, (_, i) =>
      sampleOf(`k${i}`, Buffer.alloc(i === 7 ? 9000 : 1500, i)),
    );
    const sink = webDatasetSink({ dir, name: "b", maxBytes: 8000 });
    await pipeline(Readable.from(samples), sink);
    const sizes = sink.result.shards.map((shard) => shard.bytes);
    expect(sink.result.shards.map((shard) => shard.samples)).toEqual([2, 2, 2, 1, 1, 2]);
    expect(sizes.filter((size) => size > 8000)).toEqual([sizes[4]]); // the 9,000-byte sample
    const names = (
      await Promise.all(sink.result.shards.map((shard) => readShard(join(dir, shard.name))))
    )
      .flat()
      .map((m) => m.name);
    expect(names.filter((name) => name.endsWith(".jpg"))).toEqual(
      samples.map((s) => `${s.key}.jpg`),
    );
  });

  it("escape dots in keys so WebDataset readers keep them whole", async () => {
    const dir = await tempDir();
    const sample = sampleOf("id.7/a.b", Buffer.from([0xff, 0xd8]));
    const sink = webDatasetSink({ dir, name: "d" });
    await pipeline(Readable.from([sample]), sink);
    const members = await readShard(join(dir, "d-000000.tar"));
    expect(members.map((m) => m.name)).toEqual(["id.7/a%2Eb.jpg", "id.7/a%2Eb.json"]);
    expect(JSON.parse(members[1]!.data.toString()).key).toBe("id.7/a.b");
  });

  it("write names a reader of the 100-byte ustar name field alone (wids) reads whole", async () => {
    const dir = await tempDir();
    const keys = [
      "__x__/.hidden",
      "ünïcødé/fïlé 1",
      `${"long-folder-".repeat(6)}/${"f".repeat(60)}`,
    ];
    const sink = webDatasetSink({ dir, name: "d" });
    await pipeline(
      Readable.from(keys.map((key) => sampleOf(key, Buffer.from([0xff, 0xd8])))),
      sink,
    );
    const tar = await readFile(join(dir, "d-000000.tar"));
    const seen: string[] = [];
    // Walk the headers as wids does: name = bytes 0-99 up to the first NUL; no PAX, no prefix.
    for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
      const header = tar.subarray(at, at + 512);
      expect(String.fromCharCode(header[156]!)).toBe("0"); // a plain file, never a PAX record
      expect(header.subarray(345, 500).every((byte) => byte === 0)).toBe(true); // empty prefix
      seen.push(header.toString("latin1", 0, 100).replace(/\0.*$/, ""));
      const size = Number.parseInt(header.toString("latin1", 124, 136), 8);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    const members = await readShard(join(dir, "d-000000.tar"));
    expect(seen).toEqual(members.map((member) => member.name));
    expect(seen.filter((name) => name.endsWith(".json"))).toHaveLength(3);
    expect(seen[0]).toBe("%5F_x__/%2Ehidden.jpg");
    expect(seen[2]).toBe("%C3%BCn%C3%AFc%C3%B8d%C3%A9/f%C3%AFl%C3%A9%201.jpg");
    const jsonKeys = members
      .filter((member) => member.name.endsWith(".json"))
      .map((member) => JSON.parse(member.data.toString()).key);
    expect(jsonKeys.sort()).toEqual([...keys].sort());
  });
});

describe("folder layout", () => {
  it("writes the reference scripts' tree, byte for byte the same JPEGs as the shards", async () => {
    const c = await corpus();
    const folder = join(c.dir, "masked_CASIA-WebFace");
    const report = await run(c, folder, { layout: "folder" });
    expect(report.written).toBe(22);
    const shardsOut = join(c.dir, "shards");
    const shardReport = await run(c, shardsOut);
    const shardMembers = (
      await Promise.all(shardReport.shards.map((s) => readShard(join(shardsOut, s.name))))
    ).flat();
    for (const member of shardMembers.filter((m) => m.name.endsWith(".jpg"))) {
      expect((await readFile(join(folder, member.name))).equals(member.data)).toBe(true);
    }
    expect((await readdir(folder)).sort()).toEqual([
      "0000040",
      "0000041",
      "0000042",
      "0000043",
      "report.json",
      "run.json",
    ]);
  });
});
