import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { tarMembers } from "../src/commands/verify/tar-members.js";
import { celeba, writeCelebaAnnotations } from "./support/celeba.js";
import { casiaRun, runCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { startFakeHub } from "./support/fake-hub.js";
import { startFileServer } from "./support/http-server.js";
import { tempDir, tempDirForFile } from "./support/temp.js";

/** A CASIA-like run of five pairs in shards of two: photos in a zip, masks in a tar. */
async function madeOutput(
  made = tempDir,
): Promise<{ dir: string; photos: string; masks: string; out: string }> {
  const dir = await made();
  const files = await corpusFiles({ keys: casiaKeys(5, 45, 2), size: 48 });
  const photos = await writeArchive(dir, "CASIA-WebFace", "zip", files.photos);
  const masks = await writeArchive(dir, "CASIA-WebFace_masks", "tar", files.masks);
  const out = join(dir, "out");
  const run = await runCli(casiaRun(photos, masks, out, "2"));
  expect(run.code, run.stderr).toBe(0);
  return { dir, photos, masks, out };
}

/**
 * The same JPEG with one quantization value changed: as many bytes, decodes, other pixels.
 * What a silent corruption that keeps the file valid looks like.
 */
async function anotherJpegOfTheSameSize(jpeg: Buffer): Promise<Buffer> {
  const changed = Buffer.from(jpeg);
  const table = changed.indexOf(Buffer.from([0xff, 0xdb]));
  // Marker, 2 length bytes, the table's precision/id byte, then its first value.
  const at = table + 5;
  changed[at] = changed[at] === 1 ? 2 : changed[at]! - 1;
  await sharp(changed).raw().toBuffer(); // still a valid JPEG
  return changed;
}

/** Replaces one member's bytes inside a shard, then re-writes the index's MD5 and report's SHA-256. */
async function replaceMember(out: string, shard: string, name: string): Promise<void> {
  const path = join(out, shard);
  const bytes = await readFile(path);
  let found = false;
  for await (const member of tarMembers(createReadStream(path))) {
    if (member.name !== name) continue;
    (await anotherJpegOfTheSameSize(member.data)).copy(bytes, member.offset + 512);
    found = true;
  }
  expect(found).toBe(true);
  await writeFile(path, bytes);
  const md5 = createHash("md5").update(bytes).digest("hex");
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const index = JSON.parse(await readFile(join(out, "index.json"), "utf8"));
  for (const entry of index.shardlist) if (entry.url === shard) entry.md5sum = md5;
  await writeFile(join(out, "index.json"), JSON.stringify(index));
  const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
  for (const entry of report.shards)
    if (entry.name === shard) Object.assign(entry, { md5, sha256 });
  await writeFile(join(out, "report.json"), JSON.stringify(report));
}

describe("maskpipe verify --inputs", () => {
  let good: Awaited<ReturnType<typeof madeOutput>>;
  beforeAll(async () => {
    good = await madeOutput(tempDirForFile);
  });

  it("proves a good output against the inputs the run recorded", async () => {
    const result = await runCli(["verify", good.out, "--inputs"]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(
      "checked  5 of 5 samples chosen (every sample) re-derived from the inputs: 15 members equal byte for byte\n",
    );
    expect(result.stdout).toContain(
      `checked  originals ${good.photos} (zip, the version the run recorded: only the members needed were read)\n`,
    );
  });

  it("is the library's verifyOutput option inputs, with the proof's counts in the result", async () => {
    const { verifyOutput } = await import("../src/index.js");
    const result = await verifyOutput(good.out, { inputs: { sample: 2 } });
    expect(result.problems).toEqual([]);
    expect(result.proof).toMatchObject({ chosen: 2, samples: 2, members: 6 });
    expect(result.proof?.unproved).toEqual({ members: 0 });
  });

  it("re-derives a spread choice of --sample N samples", async () => {
    const result = await runCli(["verify", good.out, "--inputs", "--sample", "3"]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(
      "checked  3 of 3 samples chosen of 5, spread over the output re-derived from the inputs: 9 members equal byte for byte\n",
    );
  });

  it("names the sample whose image was replaced by another valid JPEG with its hashes re-written", async () => {
    const { out } = await madeOutput();
    await replaceMember(out, "casia-000001.tar", "0000046/003.jpg");
    const plain = await runCli(["verify", out]);
    expect(plain.code, plain.stdout).toBe(0);
    const proof = await runCli(["verify", out, "--inputs", "--sample", "all"]);
    expect(proof.code).toBe(3);
    expect(proof.stdout).toMatch(
      /problem {2}casia-000001\.tar: 0000046\/003\.jpg: sample 0000046\/003: 0000046\/003\.jpg differs from what the inputs give \([\d,]+ bytes here, [\d,]+ re-derived\)\n/,
    );
    expect(proof.stdout).toContain("4 of 5 samples chosen (every sample)");
    expect(proof.stdout.match(/^ {2}problem/gm)).toHaveLength(1);
  });

  it("says which input cannot be found and that it can be given, then works with it given again", async () => {
    const { dir, photos, out } = await madeOutput();
    const moved = join(dir, "moved-photos.zip");
    await rename(photos, moved);
    const missing = await runCli(["verify", out, "--inputs"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `the originals the run read, ${photos} (recorded in report.json), cannot be opened: ${photos}: no such file or folder; give them again with --originals PATH`,
    );
    const given = await runCli(["verify", out, "--inputs", "--originals", moved]);
    expect(given.code, given.stdout).toBe(0);
    expect(given.stdout).toContain("15 members equal byte for byte");
  });

  it("says an input given again is not the one the run read", async () => {
    const { dir, out } = await madeOutput();
    const other = await corpusFiles({ keys: casiaKeys(6, 45, 2), size: 48 });
    const photos = await writeArchive(dir, "other", "zip", other.photos);
    const result = await runCli(["verify", out, "--inputs", "--originals", photos]);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(
      new RegExp(
        `problem {2}the originals at ${photos} are not the ones the run read: bytes \\d+ recorded, \\d+ now\\n`,
      ),
    );
  });

  it("with --sample all, names a sample the inputs give that the output lacks", async () => {
    const { dir, out } = await madeOutput();
    const more = await corpusFiles({ keys: casiaKeys(6, 45, 2), size: 48 });
    const photos = await writeArchive(dir, "more", "zip", more.photos);
    const masks = await writeArchive(dir, "more_masks", "tar", more.masks);
    const given = ["--originals", photos, "--masks", masks];
    const result = await runCli(["verify", out, "--inputs", "--sample", "all", ...given]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(
      "problem  1 sample the inputs give is not in the output, and making it does not fail: 0000046/005; make the output again (the same run with --overwrite)\n",
    );
    expect(result.stdout).toContain("5 of 5 samples chosen (every sample)");
    const good = await runCli(["verify", out, "--inputs", "--sample", "all"]);
    expect(good.stdout).toContain(
      "checked  every pair the inputs give is in the output or failed in the run too (none lost)\n",
    );
  });

  it("refuses proof flags without --inputs, and a bad --sample", async () => {
    const without = await runCli(["verify", good.out, "--sample", "5"]);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain("Expected --inputs with --sample");
    const bad = await runCli(["verify", good.out, "--inputs", "--sample", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'Expected --sample N (a whole number from 1) or all, but received "0"',
    );
    const shard = await runCli(["verify", join(good.out, "casia-000000.tar"), "--inputs"]);
    expect(shard.code).toBe(2);
    expect(shard.stderr).toContain("Expected the output folder with --inputs, not one shard");
  });
});

describe("maskpipe verify --inputs with labels and other outputs", () => {
  it("proves the json and cls of a CelebA run from the annotation files its report records", async () => {
    const c = await celeba(5);
    const annotations = join(c.dir, "CelebA");
    await writeCelebaAnnotations(annotations, c.images);
    const out = join(c.dir, "out");
    const args = ["run", "celeba", "--originals", c.photos, "--masks", c.masks, "--out", out];
    expect((await runCli([...args, "--annotations", annotations])).code).toBe(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.labels.from).toEqual({ annotations });
    const result = await runCli(["verify", out, "--inputs", "--sample", "all"]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(
      "5 of 5 samples chosen (every sample) re-derived from the inputs: 15 members equal byte for byte\n",
    );
    // Moved annotations: the images are still proved, the json and cls said not to be.
    await rename(annotations, join(c.dir, "moved"));
    const moved = await runCli(["verify", out, "--inputs"]);
    expect(moved.code, moved.stdout).toBe(0);
    expect(moved.stdout).toContain("5 members equal byte for byte\n");
    expect(moved.stdout).toMatch(
      /checked {2}10 json and cls members not proved: the run's label files cannot be read again \(.*\); give them with --annotations\n/,
    );
    const given = await runCli(["verify", out, "--inputs", "--annotations", join(c.dir, "moved")]);
    expect(given.stdout).toContain("15 members equal byte for byte\n");
  });

  it("proves a --layout folder output, naming a changed file", async () => {
    const { dir, photos, masks } = await madeOutput();
    const out = join(dir, "tree");
    const run = await runCli([...casiaRun(photos, masks, out, "2"), "--layout", "folder"]);
    expect(run.code, run.stderr).toBe(0);
    expect((await runCli(["verify", out, "--inputs"])).code).toBe(0);
    const image = join(out, "0000045/002.jpg");
    await writeFile(image, await anotherJpegOfTheSameSize(await readFile(image)));
    const result = await runCli(["verify", out, "--inputs"]);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(
      /problem {2}0000045\/002\.jpg: sample 0000045\/002: 0000045\/002\.jpg differs from what the inputs give/,
    );
  });

  it("proves a Hub repo, whose published report names the inputs by file name only", async () => {
    const c = await celeba(4);
    const hub = await startFakeHub();
    try {
      const repo = "hf://datasets/me/proof";
      const args = ["run", "celeba", "--originals", c.photos, "--masks", c.masks, "--out", repo];
      const env = { HF_ENDPOINT: hub.url, HF_TOKEN: hub.token };
      expect((await runCli([...args, "--labels", "none"], undefined, env)).code).toBe(0);
      const unnamed = await runCli(["verify", repo, "--inputs"], undefined, env);
      expect(unnamed.code).toBe(1);
      expect(unnamed.stderr).toContain(
        "the originals the run read are recorded by file name only (img_celeba.zip: a published report holds no local path); give them with --originals PATH",
      );
      const given = ["--originals", c.photos, "--masks", c.masks];
      const result = await runCli(["verify", repo, "--inputs", ...given], undefined, env);
      expect(result.code, result.stdout).toBe(0);
      expect(result.stdout).toContain("4 of 4 samples chosen (every sample) re-derived");
    } finally {
      await hub.close();
    }
  });
});

describe("maskpipe verify --inputs over HTTP", () => {
  it("asks for a signed URL again, never shows its query or a header, and proves through it", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(3, 45, 1), size: 48 });
    const photos = await writeArchive(dir, "CASIA-WebFace", "zip", files.photos);
    const masks = await writeArchive(dir, "CASIA-WebFace_masks", "tar", files.masks);
    const server = await startFileServer([photos, masks]);
    try {
      const signed = (name: string) => `${server.url(name)}?X-Amz-Signature=s3cr3t`;
      const inputs = [
        "--originals",
        signed("CASIA-WebFace.zip"),
        "--masks",
        signed("CASIA-WebFace_masks.tar"),
      ];
      const header = ["--header", "Authorization: Bearer hunter2"];
      const out = join(dir, "out");
      const run = await runCli([...casiaRun(inputs[1]!, inputs[3]!, out, "2"), ...header]);
      expect(run.code, run.stderr).toBe(0);
      const unsigned = await runCli(["verify", out, "--inputs"]);
      expect(unsigned.code).toBe(1);
      expect(unsigned.stderr).toContain(
        `the originals the run read, ${server.url("CASIA-WebFace.zip")}?…, cannot be opened from the report: its URL's query (a signature or token) is never recorded; give the URL again with --originals URL`,
      );
      const result = await runCli(["verify", out, "--inputs", ...inputs, ...header]);
      expect(result.code, result.stdout).toBe(0);
      expect(result.stdout).toContain("3 of 3 samples chosen (every sample)");
      expect(result.stdout).toContain(`originals ${server.url("CASIA-WebFace.zip")}?… (zip`);
      for (const text of [unsigned.stdout, unsigned.stderr, result.stdout, result.stderr]) {
        expect(text).not.toContain("s3cr3t");
        expect(text).not.toContain("hunter2");
      }
      expect(server.lastHeaders.authorization).toBe("Bearer hunter2");
    } finally {
      await server.close();
    }
  });
});
