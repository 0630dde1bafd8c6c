import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  parseAttributes,
  parseBoxes,
  parseIdentities,
  parseLandmarks,
  parseSplits,
  rowOf,
} from "../src/labels/celeba-annotations.js";
import { heldOut } from "../src/labels/labeler.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { ATTRIBUTES, celeba, LANDMARKS, writeCelebaAnnotations } from "./support/celeba.js";
import { runCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { startFakeHub } from "./support/fake-hub.js";
import { readShard } from "./support/read-shard.js";
import { tempDir } from "./support/temp.js";

/** Every sample of a shard folder (and split subfolders): key -> its member extensions and data. */
async function samplesIn(dir: string) {
  const samples = new Map<string, Map<string, Buffer>>();
  const order: string[] = [];
  for (const name of (await readdir(dir)).filter((f) => f.endsWith(".tar")).sort()) {
    let previous: string | undefined;
    for (const member of await readShard(join(dir, name))) {
      // As webdataset groups: the key is the name up to the first dot of its file name.
      const slash = member.name.lastIndexOf("/");
      const dot = member.name.indexOf(".", slash + 1);
      const key = member.name.slice(0, dot);
      if (key !== previous) order.push(key);
      previous = key;
      const sample = samples.get(key) ?? new Map<string, Buffer>();
      sample.set(member.name.slice(dot + 1), member.data);
      samples.set(key, sample);
    }
  }
  return { samples, order };
}

describe("CelebA annotation files (parsers)", () => {
  it("read the release's quirks: CRLF, the count and header lines, runs of spaces", () => {
    const ids = parseIdentities(
      "identity_CelebA.txt",
      "000001.jpg 2880\r\n000002.jpg   2937\r\n\r\n",
    );
    expect([...ids.rows]).toEqual([
      ["000001", 2880],
      ["000002", 2937],
    ]);
    const splits = parseSplits(
      "list_eval_partition.txt",
      "000001.jpg 0\n000002.jpg 1\n000003.jpg 2\n",
    );
    expect([...splits.rows.values()]).toEqual(["train", "validation", "test"]);
    const attributes = parseAttributes(
      "list_attr_celeba.txt",
      "2\r\n5_o_Clock_Shadow Arched_Eyebrows \r\n000001.jpg -1  1\r\n000002.jpg  1 -1\r\n",
    );
    expect(attributes.columns).toEqual(["5_o_Clock_Shadow", "Arched_Eyebrows"]);
    expect([...rowOf(attributes, "000002")!]).toEqual([1, -1]);
    const boxes = parseBoxes(
      "list_bbox_celeba.txt",
      "1\nimage_id x_1 y_1 width height\n000001.jpg    95  71 226 313\n",
    );
    expect(boxes.columns).toEqual(["x_1", "y_1", "width", "height"]);
    expect([...rowOf(boxes, "000001")!]).toEqual([95, 71, 226, 313]);
    const marks = parseLandmarks(
      "list_landmarks_celeba.txt",
      `1\n${LANDMARKS}\n000001.jpg 165 184 244 176 196 249 194 271 266 260\n`,
    );
    expect(rowOf(marks, "000001")![9]).toBe(260);
  });

  it("name the file and line of a malformed line", () => {
    expect(() => parseIdentities("Anno/identity_CelebA.txt", "000001.jpg 1\n000002.jpg\n")).toThrow(
      'Anno/identity_CelebA.txt: line 2: expected "{image} {identity}" but found 1 fields',
    );
    expect(() => parseSplits("list_eval_partition.txt", "000001.jpg 3\n")).toThrow(
      "list_eval_partition.txt: line 1: partition 3 is not 0 (train), 1 (validation) or 2 (test)",
    );
    expect(() => parseAttributes("list_attr_celeba.txt", "1\nA B\n000001.jpg 1 0\n")).toThrow(
      "list_attr_celeba.txt: line 3: attribute value 0 is not -1 or 1",
    );
    expect(() =>
      parseBoxes("list_bbox_celeba.txt", "2\nimage_id x_1 y_1 width height\n000001.jpg 1 2 3 4\n"),
    ).toThrow("list_bbox_celeba.txt: line 1: the count line says 2 images but 1 follow");
    expect(() => parseLandmarks("l.txt", `1\n${LANDMARKS}\n000001.jpg 1 2 3\n`)).toThrow(
      "l.txt: line 3: expected an image and 10 values (lefteye_x, lefteye_y, righteye_x, ...) but found 4 fields",
    );
  });

  it("hold 200,000 rows of attributes as one index and one array", () => {
    const rows = 200_000;
    const header = `${rows}\n${ATTRIBUTES.join(" ")}\n`;
    const body = Array.from(
      { length: rows },
      (_, i) => `${String(i + 1).padStart(6, "0")}.jpg${" -1".repeat(40)}\n`,
    );
    const table = parseAttributes("big.txt", header + body.join(""));
    expect(table.index.size).toBe(rows);
    expect(table.values.length).toBe(rows * 40);
  });
});

describe("CASIA-WebFace labels from identity folders", () => {
  it("give every sample a .cls, the same class for the same identity whatever the archive kind", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(24, 100, 6), size: 48 });
    const masks = await writeArchive(dir, "m", "zip", files.masks);
    const tree = join(dir, "photos-folder");
    for (const photo of files.photos) {
      await mkdir(join(tree, photo.name, ".."), { recursive: true });
      await writeFile(join(tree, photo.name), photo.data!);
    }
    const classesBy = new Map<string, string>();
    for (const [kind, photos] of [
      ["zip", await writeArchive(dir, "p", "zip", files.photos)],
      ["tar", await writeArchive(dir, "p", "tar", [...files.photos].reverse())],
      ["folder", tree],
    ] as const) {
      const out = join(dir, `out-${kind}`);
      const args = ["run", "casia", "--originals", photos, "--masks", masks, "--out", out, "-q"];
      const result = await runCli([...args, "--shard-max-count", "5"]);
      expect(result.code, result.stderr).toBe(0);
      expect(await readFile(join(out, "classes.txt"), "utf8")).toBe(
        "0000100\n0000101\n0000102\n0000103\n0000104\n0000105\n",
      );
      const { samples, order } = await samplesIn(out);
      expect(samples.size).toBe(24);
      expect(new Set(order).size).toBe(order.length); // each sample's members consecutive
      for (const [key, members] of samples) {
        expect([...members.keys()].sort()).toEqual(["cls", "jpg", "json"]);
        const json = JSON.parse(members.get("json")!.toString());
        const cls = members.get("cls")!.toString();
        expect(cls).toBe(String(Number(json.identity) - 100));
        expect(classesBy.get(key) ?? cls).toBe(cls);
        classesBy.set(key, cls);
      }
    }
  });

  it("keep every sample's class across an interrupted run and its --resume", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(30, 200, 5), size: 48 });
    const photos = await writeArchive(dir, "p", "tar", files.photos);
    const masks = await writeArchive(dir, "m", "zip", files.masks);
    const base = {
      name: "casia",
      originals: photos,
      masks,
      photoKeys: { depth: 2, suffixes: [] },
      maskKeys: { depth: 2, suffixes: ["_mask"] },
      labels: "folder" as const,
      shardMaxCount: 4,
    };
    const straight = await runPipeline({ ...base, out: join(dir, "straight") });
    const controller = new AbortController();
    let seen = 0;
    const out = join(dir, "resumed");
    await runPipeline({
      ...base,
      out,
      concurrency: 1,
      signal: controller.signal,
      onProgress: () => {
        if (++seen === 10) controller.abort();
      },
    });
    const resumed = await runPipeline({ ...base, out, resume: true });
    expect(resumed.resumed).toBeGreaterThan(0);
    const a = await samplesIn(join(dir, "straight"));
    const b = await samplesIn(out);
    for (const [key, members] of a.samples) {
      expect(b.samples.get(key)!.get("cls")!.toString()).toBe(members.get("cls")!.toString());
    }
    expect(straight.labels).toMatchObject({ mode: "folder", classes: 5 });
  });

  it("holds out a share of identities as a test split, no identity in both", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(40, 300, 20), size: 48 });
    const photos = await writeArchive(dir, "p", "zip", files.photos);
    const masks = await writeArchive(dir, "m", "zip", files.masks);
    const out = join(dir, "out");
    const args = ["run", "casia", "--originals", photos, "--masks", masks, "--out", out, "-q"];
    const result = await runCli([...args, "--holdout", "30%"]);
    expect(result.code, result.stderr).toBe(0);
    const train = await samplesIn(join(out, "train"));
    const test = await samplesIn(join(out, "test"));
    const identities = (samples: Map<string, Map<string, Buffer>>) =>
      new Set([...samples.values()].map((m) => JSON.parse(m.get("json")!.toString()).identity));
    const trainIds = identities(train.samples);
    const testIds = identities(test.samples);
    expect(train.samples.size + test.samples.size).toBe(40);
    expect([...testIds].filter((id) => trainIds.has(id))).toEqual([]);
    for (const id of testIds) expect(heldOut(id, 30)).toBe(true);
    expect(testIds.size).toBeGreaterThan(0);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.splits.train.samples + report.splits.test.samples).toBe(40);
  });
});

describe("CelebA labels, splits and annotations", () => {
  it("write train, validation and test shard sets with .cls and the annotations in the json", async () => {
    const c = await celeba(20);
    const annotations = join(c.dir, "CelebA");
    // Image 20 is missing from the identity file; an annotated image 999999 has no photo.
    await writeCelebaAnnotations(annotations, [...c.images.slice(0, 19), "999999"]);
    const out = join(c.dir, "out");
    const args = ["run", "celeba", "--originals", c.photos, "--masks", c.masks, "--out", out];
    const result = await runCli([...args, "--annotations", annotations]);
    expect(result.code, result.stderr).toBe(0);
    for (const split of ["train", "validation", "test"]) {
      const index = JSON.parse(await readFile(join(out, split, "index.json"), "utf8"));
      expect(index.shardlist.length).toBeGreaterThan(0);
    }
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(report.labels).toMatchObject({
      mode: "annotations",
      classes: 7,
      annotations: ["identities", "splits", "attributes", "bboxes", "landmarks"],
      missing: { identity: 1, split: 1, attributes: 1, bbox: 1, landmarks: 1 },
      annotationsWithoutPhoto: 1,
    });
    expect(report.splits).toEqual({
      train: { samples: 12, shards: 1 },
      validation: { samples: 4, shards: 1 },
      test: { samples: 3, shards: 1 },
      unassigned: { samples: 1, shards: 1 },
    });
    expect(await readFile(join(out, "classes.txt"), "utf8")).toBe(
      "100\n101\n102\n103\n104\n105\n106\n",
    );
    const train = await samplesIn(join(out, "train"));
    const first = train.samples.get("000001")!;
    expect(first.get("cls")!.toString()).toBe("0");
    const json = JSON.parse(first.get("json")!.toString());
    expect(json).toMatchObject({
      key: "000001",
      identity: "100",
      split: "train",
      bbox: { x: 0, y: 1, width: 40, height: 50 },
      landmarks: { lefteye_x: 0, rightmouth_y: 9 },
    });
    expect(json.attributes["5_o_Clock_Shadow"]).toBe(true);
    expect(Object.keys(json.attributes)).toHaveLength(40);
    const missing = (await samplesIn(join(out, "unassigned"))).samples.get("000020")!;
    expect(missing.get("cls")!.toString()).toBe("-1");
    expect(JSON.parse(missing.get("json")!.toString())).toMatchObject({
      identity: null,
      attributes: null,
    });
    const card = await readFile(join(out, "README.md"), "utf8");
    expect(card).toContain("  - split: validation\n    path: validation/celeba-*.tar\n");
    expect(card).toContain("| `cls` | the class index");
    expect(card).toContain("Deep Learning Face Attributes in the Wild");

    const strict = await runCli([
      ...args.slice(0, -1),
      join(c.dir, "strict"),
      "--annotations",
      annotations,
      "--strict-labels",
    ]);
    expect(strict.code).toBe(3); // one photo left out: over --max-failed 0
    expect(strict.stderr).toMatch(
      /most common failure\s+ERR_LABEL_MISSING \(1\), e\.g\. .*000020\.jpg: no identity, split, attributes, bbox, landmarks/,
    );
  });

  it("say which file and line is malformed before any work", async () => {
    const c = await celeba(3);
    const annotations = join(c.dir, "CelebA");
    await writeCelebaAnnotations(annotations, c.images);
    await writeFile(
      join(annotations, "Eval/list_eval_partition.txt"),
      "000001.jpg 0\n000002.jpg x\n",
    );
    const out = join(c.dir, "out");
    const args = ["run", "celeba", "--originals", c.photos, "--masks", c.masks, "--out", out];
    const result = await runCli([...args, "--annotations", annotations]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `maskpipe: ${annotations}/Eval/list_eval_partition.txt: line 2: "x" is not a whole number [ERR_ANNOTATION]\n`,
    );
  });

  it("publish each split to data/{split}/ of a Hub repo, with classes.txt and a card listing the splits", async () => {
    const c = await celeba(12);
    const annotations = join(c.dir, "CelebA");
    await writeCelebaAnnotations(annotations, c.images);
    const hub = await startFakeHub();
    try {
      const report = await runPipeline({
        name: "celeba",
        originals: c.photos,
        masks: c.masks,
        out: "hf://datasets/me/celeba-masked",
        photoKeys: { depth: 1, suffixes: [] },
        maskKeys: { depth: 1, suffixes: ["_mask"] },
        labels: "annotations",
        annotations,
        hub: { token: hub.token, endpoint: hub.url },
      });
      expect(report.problems).toEqual([]);
      const files = [...hub.files("me/celeba-masked").keys()].sort();
      expect(files).toEqual([
        ".gitattributes",
        "README.md",
        "classes.txt",
        "data/test/celeba-000000.tar",
        "data/test/index.json",
        "data/train/celeba-000000.tar",
        "data/train/index.json",
        "data/validation/celeba-000000.tar",
        "data/validation/index.json",
        "preview.jpg",
        "report.json",
        "run.json",
      ]);
      const card = hub.read("me/celeba-masked", "README.md").toString();
      expect(card).toContain(
        "  data_files:\n  - split: train\n    path: data/train/celeba-*.tar\n  - split: validation\n    path: data/validation/celeba-*.tar\n  - split: test\n    path: data/test/celeba-*.tar\n",
      );
    } finally {
      await hub.close();
    }
  });
});

describe("split outputs and the output-folder policy", () => {
  it("--overwrite removes every split's shards, not only the top folder's files", async () => {
    const dir = await tempDir();
    const files = await corpusFiles({ keys: casiaKeys(30, 300, 15), size: 48 });
    const photos = await writeArchive(dir, "p", "zip", files.photos);
    const masks = await writeArchive(dir, "m", "zip", files.masks);
    const out = join(dir, "out");
    const args = ["run", "casia", "--originals", photos, "--masks", masks, "--out", out, "-q"];
    expect((await runCli([...args, "--holdout", "30%", "--shard-max-count", "2"])).code).toBe(0);
    const before = (await readdir(join(out, "train"))).filter((f) => f.endsWith(".tar")).length;
    const again = await runCli([
      ...args,
      "--holdout",
      "30%",
      "--shard-max-count",
      "50",
      "--overwrite",
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(before).toBeGreaterThan(1);
    expect((await readdir(join(out, "train"))).filter((f) => f.endsWith(".tar"))).toEqual([
      "casia-000000.tar",
    ]);
  });
});

describe("label options", () => {
  it("refuse a holdout that is not a share of the identities", async () => {
    const result = await runCli([
      "run",
      "sample",
      "--out",
      join(await tempDir(), "o"),
      "--holdout",
      "150%",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'maskpipe: Expected a share of identities: a percent between 0% and 100% (5%) or a fraction between 0 and 1 (0.05) for --holdout but received "150%" [ERR_INVALID_OPTION]\n',
    );
  });
});
