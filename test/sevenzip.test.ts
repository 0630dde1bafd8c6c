import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import type { ArchiveFile } from "../scripts/archives.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { listingLines, SltParser } from "../src/sources/sevenzip/listing.js";
import { bundledSevenZip } from "../src/sources/sevenzip/seven-zip-binary.js";
import { sevenZipSource } from "../src/sources/sevenzip/seven-zip-source.js";
import { finished, runCli, startCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { tempDir } from "./support/temp.js";

const SEVEN_ZIP = bundledSevenZip();
const casia = { depth: 2, suffixes: ["_mask"] };

/**
 * A 7z made the way a user's archives are made: the files written to a folder, then 7-Zip
 * (the bundled build) run over it with `switches` (`-v64k` splits into volumes, `-ms=off` makes
 * it non-solid, `-m0=LZMA` picks the codec, ...). Returns the archive (first volume) path.
 */
async function write7z(dir: string, base: string, files: ArchiveFile[], switches: string[]) {
  const tree = join(dir, `${base}-files`);
  for (const file of files) {
    const path = join(tree, file.name);
    if (file.directory) await mkdir(path, { recursive: true });
    else {
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(path, file.data ?? Buffer.alloc(0));
    }
  }
  execFileSync(SEVEN_ZIP, ["a", "-bd", ...switches, join(dir, `${base}.7z`), "."], {
    cwd: tree,
    stdio: "ignore",
  });
  await rm(tree, { recursive: true });
  return switches.some((s) => s.startsWith("-v"))
    ? join(dir, `${base}.7z.001`)
    : join(dir, `${base}.7z`);
}

const shardBytes = async (dir: string) => {
  const names = (await readdir(dir)).filter((f) => f.endsWith(".tar")).sort();
  return Promise.all(names.map(async (name) => [name, await readFile(join(dir, name))] as const));
};

let dir: string;
let photos: ArchiveFile[];
let masks: ArchiveFile[];
let zipRun: readonly (readonly [string, Buffer])[];

beforeAll(async () => {
  const { mkdtemp } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  dir = await mkdtemp(join(tmpdir(), "maskpipe-7z-"));
  ({ photos, masks } = await corpusFiles({ keys: casiaKeys(40, 100, 5), size: 96 }));
  // 7-Zip stores a folder's files sorted by path; the zip holds them in that order too, so
  // both runs see the same photos in the same order and must give the same bytes.
  const byPath = (a: ArchiveFile, b: ArchiveFile) => (a.name < b.name ? -1 : 1);
  photos.sort(byPath);
  masks.sort(byPath);
  const photoZip = await writeArchive(dir, "photos", "zip", photos);
  const maskZip = await writeArchive(dir, "masks", "zip", masks);
  await runPipeline({
    name: "casia",
    originals: photoZip,
    masks: maskZip,
    out: join(dir, "zip-run"),
    photoKeys: casia,
    maskKeys: casia,
    shardMaxCount: 15,
    labels: "folder", // as the casia pipeline the CLI runs
  });
  zipRun = await shardBytes(join(dir, "zip-run"));
  return () => rm(dir, { recursive: true, force: true });
}, 60_000);

function casiaRun(originals: string, maskArchive: string, out: string, ...more: string[]) {
  const args = ["run", "casia", "--originals", originals, "--masks", maskArchive, "--out", out];
  return runCli([...args, "--shard-max-count", "15", "-q", ...more]);
}

describe("7z photos, as CelebA ships them", () => {
  it("read a solid LZMA2 set split into volumes: the same shards as from a zip", async () => {
    const work = await tempDir();
    const first = await write7z(work, "CASIA-WebFace", photos, ["-v16k"]);
    const volumes = (await readdir(work)).filter((f) => f.startsWith("CASIA-WebFace.7z."));
    expect(volumes.length).toBeGreaterThan(3);
    const maskZip = await writeArchive(work, "masks", "zip", masks);
    // From the first volume, from another volume, and from the folder that holds them.
    const folder = join(work, "CASIA-WebFace.7z");
    await mkdir(folder);
    for (const volume of volumes) await rename(join(work, volume), join(folder, volume));
    for (const [label, spec] of [
      ["first", join(folder, "CASIA-WebFace.7z.001")],
      ["middle", join(folder, "CASIA-WebFace.7z.002")],
      ["folder", folder],
    ] as const) {
      const out = join(work, label);
      const result = await casiaRun(spec, maskZip, out);
      expect(result.code, result.stderr).toBe(0);
      expect(await shardBytes(out)).toEqual(zipRun);
      const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
      expect(report.sevenZip).toMatchObject({
        origin: "bundled",
        version: expect.stringMatching(/^2\d\.\d\d$/),
      });
    }
    expect(first).toContain(".7z.001");

    // The 7z's end header gives the count up front: progress has a total (a percentage, an ETA).
    let expected: number | undefined;
    await runPipeline({
      name: "casia",
      originals: folder,
      masks: maskZip,
      out: join(work, "library"),
      photoKeys: casia,
      maskKeys: casia,
      onProgress: (progress) => {
        expected = progress.expected;
      },
    });
    expect(expected).toBe(40);
  });

  it("read non-solid, LZMA, BCJ, BCJ2 and Delta archives with empty files, folders and Unicode names", async () => {
    const work = await tempDir();
    const files: ArchiveFile[] = [
      { name: "top/empty-folder", directory: true },
      { name: "top/empty.jpg", data: Buffer.alloc(0) },
      { name: "top/ünïcødé/fïlé.jpg", data: Buffer.from("bytes of a photo named in Unicode") },
      ...photos.slice(0, 5),
    ];
    for (const switches of [
      ["-ms=off"],
      ["-m0=LZMA"],
      ["-mf=BCJ"],
      ["-m0=BCJ2", "-m1=LZMA", "-m2=LZMA", "-m3=LZMA", "-mb0:1", "-mb0s1:2", "-mb0s2:3"],
      ["-m0=Delta:4", "-m1=LZMA2"],
    ]) {
      const archive = await write7z(
        work,
        `a${switches.join("").replace(/[^a-z0-9]/gi, "")}`,
        files,
        switches,
      );
      const source = await sevenZipSource(archive);
      const seen = new Map<string, Buffer | undefined>();
      const kinds = new Map<string, string>();
      for await (const entry of source.entries()) {
        expect(entry.error, switches.join(" ")).toBeUndefined();
        seen.set(entry.member.path, entry.data);
        kinds.set(entry.member.path, entry.member.kind);
      }
      expect(kinds.get("top/empty-folder"), switches.join(" ")).toBe("directory");
      for (const file of files.filter((f) => !f.directory)) {
        expect(seen.get(file.name)?.equals(file.data!), `${switches.join(" ")} ${file.name}`).toBe(
          true,
        );
      }
    }
  });

  it("reads the archive named, even when its name looks like a wildcard to 7-Zip", async () => {
    const work = await tempDir();
    const named = await write7z(work, "a*", photos.slice(0, 3), []);
    await write7z(work, "ab", photos.slice(3, 6), []); // what `a*.7z` would match
    const source = await sevenZipSource(named);
    const paths: string[] = [];
    for await (const entry of source.entries()) {
      expect(entry.error).toBeUndefined();
      if (entry.member.kind === "file") paths.push(entry.member.path);
    }
    expect(paths).toEqual(photos.slice(0, 3).map((file) => file.name));
  });

  it("keeps a name holding \\r, \\r at its end or ' = ' one name: every member after it still fits", async () => {
    const work = await tempDir();
    const odd = ["A/odd\rname.jpg", "A/ends-in-cr\r", "A/Size = 9.jpg", "A/x\rCRC = 00000000"];
    const files: ArchiveFile[] = [
      ...odd.map((name, i) => ({ name, data: Buffer.from(`the bytes of odd member ${i}`) })),
      ...photos.slice(0, 5),
    ];
    // Non-solid and solid: either way the bytes come out as one stream cut by the listed sizes.
    for (const switches of [[], ["-ms=off"]]) {
      const archive = await write7z(work, `odd${switches.length}`, files, switches);
      const seen = new Map<string, Buffer | undefined>();
      for await (const entry of (await sevenZipSource(archive)).entries()) {
        expect(entry.error, entry.member.path).toBeUndefined();
        if (entry.member.kind === "file") seen.set(entry.member.path, entry.data);
      }
      expect([...seen.keys()].sort()).toEqual(files.map((file) => file.name).sort());
      for (const file of files)
        expect(seen.get(file.name)?.equals(file.data!), file.name).toBe(true);
    }
  });

  it("pairs two 7z archives (merge join) and lists a 7z in a dry run without decompressing", async () => {
    const work = await tempDir();
    const photo7z = await write7z(work, "photos", photos, []);
    const mask7z = await write7z(work, "masks", masks, ["-v64k"]);
    const out = join(work, "both");
    const result = await casiaRun(photo7z, mask7z, out);
    expect(result.code, result.stderr).toBe(0);
    expect(await shardBytes(out)).toEqual(zipRun);
    const dry = await casiaRun(photo7z, mask7z, join(work, "dry"), "--dry-run");
    expect(dry.stderr).toMatch(/pairs\s+40\n/);
  });
});

describe("7z listing", () => {
  /** `7z l -slt` output for two files, with lines ended by `eol`, fed one byte at a time. */
  async function parse(eol: string, firstName: string) {
    const listing = [
      "Path = set.7z",
      "Type = 7z",
      "",
      "----------",
      `Path = ${firstName}`,
      "Size = 5",
      "Attributes = A -rw-r--r--",
      "CRC = 3610A686",
      "Encrypted = -",
      "",
      "Path = ü/second.jpg",
      "Size = 7",
      "",
    ].join(eol);
    const bytes = Buffer.from(listing);
    const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    const parser = new SltParser("set.7z");
    for await (const line of listingLines(chunks)) parser.line(line);
    return parser.end().map(({ path, size, kind }) => ({ path, size, kind }));
  }

  it("splits on \\n only, drops \\r only from \\r\\n listings, reads known keys only", async () => {
    const second = { path: "ü/second.jpg", size: 7, kind: "file" };
    expect(await parse("\n", "a\rSize = 1\r")).toEqual([
      { path: "a\rSize = 1\r", size: 5, kind: "file" },
      second,
    ]);
    expect(await parse("\r\n", "a\rb = c.jpg")).toEqual([
      { path: "a\rb = c.jpg", size: 5, kind: "file" },
      second,
    ]);
  });
});

describe("7z bad input", () => {
  let split: string;
  let maskZip: string;
  /** The masks of the 40 `photos`, for tests with archives of those. */
  let fortyMasks: string;
  beforeAll(async () => {
    const work = join(dir, "bad");
    await mkdir(work);
    // 150 pairs: a damaged block near the end lies past the members the join reads ahead.
    const many = await corpusFiles({ keys: casiaKeys(150, 100, 10), size: 64 });
    split = await write7z(work, "set", many.photos, ["-v96k"]);
    maskZip = await writeArchive(work, "masks", "zip", many.masks);
    fortyMasks = await writeArchive(work, "forty-masks", "zip", masks);
  });

  async function copyOfSet() {
    const work = await tempDir();
    const names = (await readdir(join(split, ".."))).filter((f) => f.startsWith("set.7z."));
    for (const name of names)
      await writeFile(join(work, name), await readFile(join(split, "..", name)));
    return { work, first: join(work, "set.7z.001"), count: names.length };
  }

  it("names a missing volume and the count of the set", async () => {
    const { work, first, count } = await copyOfSet();
    await rm(join(work, "set.7z.002"));
    const result = await casiaRun(first, maskZip, join(work, "out"));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `maskpipe: ${work}/set.7z.002 is missing: the set has ${count} volumes [ERR_7Z_VOLUME]\n`,
    );
  });

  it("names a last volume cut short", async () => {
    const { work, first, count } = await copyOfSet();
    const last = join(work, `set.7z.${String(count).padStart(3, "0")}`);
    await truncate(last, 100);
    const result = await casiaRun(first, maskZip, join(work, "out"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `${last} is truncated: the ${count} volumes hold [\\d,]+ of the archive's [\\d,]+ bytes \\[ERR_7Z_VOLUME\\]`,
      ),
    );
  });

  it("stops on a damaged block, keeps the shards before it, and --resume goes on once it is whole", async () => {
    const { work, first, count } = await copyOfSet();
    // Damage the packed data near its end (past the first pairs the join reads ahead): a few
    // KiB before the end header, which is at the end of the last volume.
    const volume = (n: number) => join(work, `set.7z.${String(n).padStart(3, "0")}`);
    const head = await readFile(first);
    const dataEnd = 32 + Number(head.readBigUInt64LE(12));
    const volumeBytes = head.length;
    const at = dataEnd - 6000;
    const damaged = volume(Math.floor(at / volumeBytes) + 1);
    const good = await readFile(damaged);
    const bad = Buffer.from(good);
    for (let i = at % volumeBytes; i < Math.min(bad.length, (at % volumeBytes) + 800); i += 37)
      bad[i]! ^= 0x5a;
    await writeFile(damaged, bad);
    expect(count).toBeGreaterThan(2);
    const out = join(work, "out");
    const result = await casiaRun(first, maskZip, out, "--shard-max-count", "5");
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(
      /the data ends inside CASIA-WebFace\/.* is damaged; the shards written so far are kept, and --resume goes on once it is whole \(7-Zip: .*Data Error/,
    );
    const kept = (await readdir(out)).filter((f) => f.endsWith(".tar"));
    expect(kept.length).toBeGreaterThan(0);
    await writeFile(damaged, good);
    const resumed = await casiaRun(first, maskZip, out, "--shard-max-count", "5", "--resume");
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.resumed).toBe(kept.length * 5);
    expect(report.resumed + report.written).toBe(150);
  });

  it("fails a member whose bytes do not match the archive's CRC-32, and writes the rest", async () => {
    const work = await tempDir();
    // Stored (no compression): a flipped byte changes one member's bytes and nothing else.
    const archive = await write7z(work, "stored", photos, ["-m0=Copy"]);
    const bytes = await readFile(archive);
    const at = bytes.indexOf(photos[7]!.data!.subarray(200, 232));
    bytes[at]! ^= 0xff;
    await writeFile(archive, bytes);
    const out = join(work, "out");
    const result = await casiaRun(archive, fortyMasks, out, "--max-failed", "1");
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report).toMatchObject({ written: 39, failed: 1, failedByReason: { ERR_MEMBER_CRC: 1 } });
    expect(report.failureExamples.ERR_MEMBER_CRC).toContain(
      `${archive}: ${photos[7]!.name}: CRC-32`,
    );
  });

  it("refuses an encrypted archive, with or without encrypted names", async () => {
    const work = await tempDir();
    for (const switches of [["-psecret"], ["-psecret", "-mhe=on"]]) {
      const archive = await write7z(work, `enc${switches.length}`, photos.slice(0, 3), switches);
      const result = await casiaRun(archive, fortyMasks, join(work, "out"));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        "is encrypted (it needs a password); maskpipe reads only unencrypted 7z archives",
      );
    }
  });

  it("says so when 7-Zip cannot be started, and refuses a 7z over HTTP", async () => {
    const work = await tempDir();
    const archive = await write7z(work, "p", photos.slice(0, 3), []);
    const missing = await casiaRun(
      archive,
      fortyMasks,
      join(work, "out"),
      "--7z",
      "/nonexistent/7zz",
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot start 7-Zip at /nonexistent/7zz");
    const remote = await casiaRun(
      "http://127.0.0.1:9/img_celeba.7z.001",
      maskZip,
      join(work, "out"),
    );
    expect(remote.code).toBe(1);
    expect(remote.stderr).toContain("a 7z archive is read from local files only");
  });

  it.runIf(process.platform === "linux")("leaves no 7-Zip running after SIGINT", async () => {
    const work = await tempDir();
    const many = await corpusFiles({ keys: casiaKeys(300, 100, 10), size: 200 });
    const archive = await write7z(work, "many", many.photos, ["-mx=1"]);
    const manyMasks = await writeArchive(work, "m", "zip", many.masks);
    const out = join(work, "out");
    const args = ["run", "casia", "--originals", archive, "--masks", manyMasks, "--out", out];
    const child = startCli([...args, "--shard-max-count", "10", "--concurrency", "1"]);
    const result = finished(child);
    while (!existsSync(join(out, "casia-000000.tar"))) await sleep(20);
    const running = () => {
      try {
        return execFileSync("pgrep", ["-f", archive]).toString().trim();
      } catch {
        return "";
      }
    };
    expect(running()).not.toBe(""); // 7-Zip is at work
    child.kill("SIGINT");
    expect((await result).code).toBe(130);
    // Killed with the run: gone at once, or within moments (the kernel reaps it).
    for (let i = 0; i < 20 && running() !== ""; i++) await sleep(25);
    expect(running()).toBe("");
  });
});
