import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pack } from "tar-stream";
import { beforeAll, describe, expect, it } from "vitest";
import { choosePairs } from "../src/commands/pairs/choose-pairs.js";
import type { PairSample } from "../src/commands/pairs/split-samples.js";
import { evaluationPairs } from "../src/index.js";
import { ROOT, runCli } from "./support/cli.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { startFakeHub } from "./support/fake-hub.js";
import { readShard } from "./support/read-shard.js";
import { tempDir, tempDirForFile } from "./support/temp.js";

/** A labelled CASIA-like output: 12 identities of 4 photos, half held out as `test`. */
async function casiaRun(dir: string, keys: string[], extra: string[] = []) {
  const files = await corpusFiles({ keys, size: 32 });
  const photos = await writeArchive(dir, "p", "zip", files.photos);
  const masks = await writeArchive(dir, "m", "zip", files.masks);
  const out = join(dir, "out");
  const args = ["run", "casia", "--originals", photos, "--masks", masks, "--out", out, "-q"];
  const result = await runCli([...args, ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return { out, args };
}

/** Identity of each member key (`0000300/000`) in a split's shards, from the samples' json. */
async function identities(folder: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const shard of (await readdir(folder)).filter((file) => file.endsWith(".tar"))) {
    for (const member of await readShard(join(folder, shard))) {
      if (!member.name.endsWith(".json")) continue;
      found.set(member.name.slice(0, -".json".length), JSON.parse(member.data.toString()).identity);
    }
  }
  return found;
}

/** The CSV's rows as objects by column (the test's keys have no comma or quote). */
function rows(csv: string): Record<string, string>[] {
  const [header, ...lines] = csv.trimEnd().split("\n");
  const columns = header!.split(",");
  return lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [columns[i], v])));
}

let out: string;
let args: string[];

beforeAll(async () => {
  ({ out, args } = await casiaRun(await tempDirForFile(), casiaKeys(48, 300, 12), [
    "--holdout",
    "50%",
  ]));
});

describe("maskpipe pairs: a balanced verification list of a split", () => {
  it("writes N/2 same- and N/2 different-identity pairs, no self pair, none twice, identities as the json says", async () => {
    const result = await runCli(["pairs", out, "--split", "test", "--count", "16", "--seed", "7"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("pairs/test.csv: 8 same-identity and 8 different-identity");
    const csv = await readFile(join(out, "pairs/test.csv"), "utf8");
    expect(csv.split("\n")[0]).toBe(
      "left_key,left_member,left_shard,left_identity,left_masked,right_key,right_member,right_shard,right_identity,right_masked,same_identity",
    );
    const list = rows(csv);
    expect(list).toHaveLength(16);
    const truth = await identities(join(out, "test"));
    const seen = new Set<string>();
    for (const row of list) {
      expect(row.left_key).not.toBe(row.right_key);
      const pair = [row.left_key, row.right_key].sort().join(" ");
      expect(seen.has(pair)).toBe(false);
      seen.add(pair);
      const left = truth.get(row.left_member!.replace(/\.jpg$/, ""));
      const right = truth.get(row.right_member!.replace(/\.jpg$/, ""));
      expect([left, right]).toEqual([row.left_identity, row.right_identity]);
      expect(row.same_identity).toBe(String(left === right));
      expect(row.left_shard).toMatch(/^test\/casia-\d{6}\.tar$/);
      expect([row.left_masked, row.right_masked]).toEqual(["true", "true"]);
    }
    expect(list.filter((row) => row.same_identity === "true")).toHaveLength(8);
    // The card says where the list is and how it was made.
    const card = await readFile(join(out, "README.md"), "utf8");
    expect(card).toContain("## Evaluation pairs");
    expect(card).toContain(
      "| `pairs/test.csv` | test | 16 | image | `maskpipe pairs OUT --split test --count 16 --seed 7 --sides image --format csv` |",
    );
  });

  it("gives the same bytes for the same seed and another list for another seed", async () => {
    const run = (seed: string, name: string) =>
      runCli(["pairs", out, "--split", "test", "--count", "10", "--seed", seed, "--name", name]);
    for (const [seed, name] of [
      ["3", "a"],
      ["3", "b"],
      ["4", "c"],
    ] as const) {
      expect((await run(seed, name)).code).toBe(0);
    }
    const [a, b, c] = await Promise.all(
      ["a", "b", "c"].map((name) => readFile(join(out, `pairs/${name}.csv`), "utf8")),
    );
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    const card = await readFile(join(out, "README.md"), "utf8");
    for (const name of ["a", "b", "c"]) expect(card).toContain(`| \`pairs/${name}.csv\` |`);
    // The samples decide, not how they are spread over shards: the same pairs from 3-sample shards.
    const other = join(out, "..", "small-shards");
    const made = await runCli([
      ...args.map((arg) => (arg === out ? other : arg)),
      ...["--holdout", "50%", "--shard-max-count", "3"],
    ]);
    expect(made.code, made.stderr).toBe(0);
    const again = await runCli(["pairs", other, "--split", "test", "--count", "10", "--seed", "3"]);
    expect(again.code, again.stderr).toBe(0);
    const withoutShards = (csv: string) =>
      rows(csv).map(({ left_shard, right_shard, ...row }) => row);
    const spread = await readFile(join(other, "pairs/test.csv"), "utf8");
    expect(rows(spread).some((row) => row.left_shard !== "test/casia-000000.tar")).toBe(true);
    expect(withoutShards(spread)).toEqual(withoutShards(a!));
  });

  it("writes LFW's pairs.txt: 1 N, N lines name n1 n2, N lines name1 n1 name2 n2", async () => {
    const result = await runCli([
      ...["pairs", out, "--split", "test", "--count", "8", "--format", "lfw"],
    ]);
    expect(result.code, result.stderr).toBe(0);
    const lines = (await readFile(join(out, "pairs/test.txt"), "utf8")).trimEnd().split("\n");
    expect(lines[0]).toBe("1\t4");
    const truth = [...(await identities(join(out, "test")))].sort();
    const nth = (identity: string, n: string) =>
      truth.filter(([, id]) => id === identity)[Number(n) - 1]?.[0];
    for (const line of lines.slice(1, 5)) {
      const [name, n1, n2] = line.split("\t");
      expect(nth(name!, n1!)).toBeDefined();
      expect(nth(name!, n2!)).toBeDefined();
      expect(n1).not.toBe(n2);
    }
    for (const line of lines.slice(5)) {
      const [name1, n1, name2, n2] = line.split("\t");
      expect(name1).not.toBe(name2);
      expect(nth(name1!, n1!)).toBeDefined();
      expect(nth(name2!, n2!)).toBeDefined();
    }
    expect(lines).toHaveLength(9);
  });
});

describe("maskpipe pairs refuses what cannot give a list", () => {
  it("an unknown split (exit 2, naming the splits), an odd count, a count the split cannot give", async () => {
    const unknown = await runCli(["pairs", out, "--split", "val", "--count", "4"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      `Expected one of the splits of ${out} (train, test) for --split but received "val"`,
    );
    const odd = await runCli(["pairs", out, "--split", "test", "--count", "5"]);
    expect(odd.code).toBe(2);
    expect(odd.stderr).toContain(
      "Expected an even number (half same-, half different-identity pairs) for --count but received 5",
    );
    const many = await runCli(["pairs", out, "--split", "test", "--count", "10000"]);
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(
      /Expected at most \d+ \(half same-, half different-identity pairs\) for --count but received 10000: split test holds \d+ samples/,
    );
    expect(existsSync(join(out, "pairs/val.csv"))).toBe(false);
  });

  it("an output without identities, one with a single identity, an interrupted run (exit 1)", async () => {
    const dir = await tempDir();
    const single = await casiaRun(dir, casiaKeys(6, 300, 1));
    const one = await runCli(["pairs", single.out, "--count", "2"]);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/split all holds 6 samples .* of 1 identity .*too few identities/);
    const none = await casiaRun(await tempDir(), casiaKeys(6, 300, 3), ["--labels", "none"]);
    const unlabelled = await runCli(["pairs", none.out, "--count", "2"]);
    expect(unlabelled.code).toBe(1);
    expect(unlabelled.stderr).toContain("its samples have no identities");
    const report = join(single.out, "report.json");
    const finished = JSON.parse(await readFile(report, "utf8"));
    await writeFile(report, JSON.stringify({ ...finished, interrupted: true }));
    const interrupted = await runCli(["pairs", single.out, "--count", "2"]);
    expect(interrupted.code).toBe(1);
    expect(interrupted.stderr).toContain("was interrupted (report.json): resume it");
  });

  it("a file at the list's path that maskpipe did not write is left alone (exit 1)", async () => {
    await mkdir(join(out, "pairs"), { recursive: true });
    await writeFile(join(out, "pairs/mine.csv"), "my own notes\n");
    const result = await runCli([
      ...["pairs", out, "--split", "test", "--count", "4", "--name", "mine"],
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("pairs/mine.csv: holds a file maskpipe did not write");
    expect(await readFile(join(out, "pairs/mine.csv"), "utf8")).toBe("my own notes\n");
  });
});

describe("pairs writes through no link", () => {
  it("refuses a pairs/ that is a link, writing nothing where it points", async () => {
    const dir = await tempDir();
    const small = await casiaRun(dir, casiaKeys(9, 300, 3));
    const elsewhere = join(dir, "elsewhere");
    await mkdir(elsewhere);
    await symlink(elsewhere, join(small.out, "pairs"));
    const result = await runCli(["pairs", small.out, "--count", "4"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is a symbolic link where maskpipe writes");
    expect(await readdir(elsewhere)).toEqual([]);
  });
});

describe("pair lists belong to the run they were made of", () => {
  it("--overwrite removes them with the run; a user's file in pairs/ stays", async () => {
    const small = await casiaRun(await tempDir(), casiaKeys(9, 300, 3));
    expect((await runCli(["pairs", small.out, "--count", "4"])).code).toBe(0);
    await writeFile(join(small.out, "pairs/notes.txt"), "mine\n");
    const again = await runCli(small.args);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already holds files of an earlier run of casia");
    const overwritten = await runCli([...small.args, "--overwrite"]);
    expect(overwritten.code, overwritten.stderr).toBe(0);
    expect(await readdir(join(small.out, "pairs"))).toEqual(["notes.txt"]);
    // A run of another name over this output removes this run's lists as its other files.
    expect((await runCli(["pairs", small.out, "--count", "4"])).code).toBe(0);
    const pipeline = join(small.out, "..", "other.json");
    const casia = JSON.parse(await readFile(join(ROOT, "pipelines/casia.json"), "utf8"));
    await writeFile(pipeline, JSON.stringify({ ...casia, name: "other" }));
    const other = await runCli([...small.args.with(1, pipeline), "--overwrite"]);
    expect(other.code, other.stderr).toBe(0);
    expect(await readdir(join(small.out, "pairs"))).toEqual(["notes.txt"]);
  });
});

describe("verify checks the pair lists", () => {
  it("passes a list of the output's samples and names the line of one naming a sample it lacks", async () => {
    const small = await casiaRun(await tempDir(), casiaKeys(9, 300, 3));
    expect((await runCli(["pairs", small.out, "--count", "4"])).code).toBe(0);
    const good = await runCli(["verify", small.out]);
    expect(good.code, good.stdout).toBe(0);
    expect(good.stdout).toContain(
      "checked  1 pair list in pairs/, 4 pairs: every sample named is in the shards",
    );
    const path = join(small.out, "pairs/all.csv");
    const lines = (await readFile(path, "utf8")).split("\n");
    const fields = lines[2]!.split(",");
    fields[6] = "0000399/000.jpg";
    lines[2] = fields.join(",");
    await writeFile(path, lines.join("\n"));
    const bad = await runCli(["verify", small.out]);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toContain(
      "problem  pairs/all.csv: line 3: names 0000399/000.jpg in casia-000000.tar, a sample the output does not hold",
    );
  });
});

describe("sides: masked against unmasked", () => {
  const sample = (key: string, identity: string, more: Partial<PairSample>): PairSample => ({
    key,
    memberKey: key,
    shard: "test/casia-000000.tar",
    identity,
    masked: true,
    hasOriginal: false,
    ...more,
  });

  it("puts a masked photo left and an unmasked one (orig.jpg, or masked: false) right", () => {
    const samples = [
      ...["a/1", "a/2", "a/3", "b/1", "b/2", "c/1"].map((key) =>
        sample(key, key.split("/")[0]!, { hasOriginal: true }),
      ),
      sample("d/1", "d", { masked: false }),
      sample("d/2", "d", { masked: false }),
    ];
    const pairs = choosePairs(
      { imageExtension: "jpg", samples, unknownIdentity: 0 },
      { count: 8, seed: 1, sides: "masked-unmasked", split: "test" },
    );
    // a's three pairs and b's one: every same-identity pair there is.
    expect(pairs).toHaveLength(8);
    for (const { left, right } of pairs) {
      expect(left).toMatchObject({ masked: true, member: `${left.key}.jpg` });
      expect(right.masked).toBe(false);
      expect(right.member).toBe(
        right.key.startsWith("d/") ? `${right.key}.jpg` : `${right.key}.orig.jpg`,
      );
      expect(left.key).not.toBe(right.key);
    }
    // d's photos are unmasked only: d never pairs with itself.
    expect(pairs.some((p) => p.sameIdentity && p.left.identity === "d")).toBe(false);
  });
});

describe("sides read from the samples: orig.jpg and masked: false", () => {
  /** Every sample of the output's one shard given an `orig.jpg`; identity 0000301's unmasked. */
  async function withOriginals(dir: string): Promise<void> {
    const path = join(dir, "casia-000000.tar");
    const members = await readShard(path);
    const tar = pack();
    for (const member of members) {
      let data = member.data;
      if (member.name.endsWith(".json")) {
        const json = JSON.parse(data.toString());
        if (json.identity === "0000301") json.masked = false;
        data = Buffer.from(JSON.stringify(json));
      }
      tar.entry({ name: member.name }, data);
      if (member.name.endsWith(".json")) {
        tar.entry({ name: member.name.replace(/\.json$/, ".orig.jpg") }, Buffer.from("photo"));
      }
    }
    tar.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of tar) chunks.push(chunk as Buffer);
    await writeFile(path, Buffer.concat(chunks));
  }

  it("pairs a masked photo with an unmasked one by default; --sides image takes the images as written", async () => {
    const small = await casiaRun(await tempDir(), casiaKeys(16, 300, 4));
    await withOriginals(small.out);
    const result = await runCli(["pairs", small.out, "--count", "8", "--seed", "5"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("(sides masked-unmasked)");
    for (const row of rows(await readFile(join(small.out, "pairs/all.csv"), "utf8"))) {
      expect(row.left_member).toMatch(/^\d{7}\/\d{3}\.jpg$/);
      expect([row.left_masked, row.right_masked]).toEqual(["true", "false"]);
      // 0000301's images are unmasked: never on the masked side.
      expect(row.left_identity).not.toBe("0000301");
      expect(row.right_member).toBe(`${row.right_key}.orig.jpg`);
    }
    const image = await runCli([
      ...["pairs", small.out, "--count", "8", "--sides", "image", "--name", "image"],
    ]);
    expect(image.code, image.stderr).toBe(0);
    for (const row of rows(await readFile(join(small.out, "pairs/image.csv"), "utf8"))) {
      expect(row.left_member).toBe(`${row.left_key}.jpg`);
      expect(row.left_masked).toBe(String(row.left_identity !== "0000301"));
      expect(row.right_masked).toBe(String(row.right_identity !== "0000301"));
    }
  });
});

describe("pairs on the Hub", () => {
  it("reads a repo's split and commits the list and the card there", async () => {
    const hub = await startFakeHub();
    try {
      const repo = "hf://datasets/me/casia-pairs";
      const hubArgs = ["--hf-token", hub.token, "--hub-url", hub.url];
      const published = await runCli([
        ...args.map((arg) => (arg === out ? repo : arg)),
        ...["--holdout", "50%", ...hubArgs],
      ]);
      expect(published.code, published.stderr).toBe(0);
      const result = await runCli([
        ...["pairs", repo, "--split", "test", "--count", "6", "--seed", "2", ...hubArgs],
      ]);
      expect(result.code, result.stderr).toBe(0);
      const local = await evaluationPairs(out, { split: "test", count: 6, seed: 2 });
      const remote = hub.read("me/casia-pairs", "pairs/test.csv").toString();
      // The same samples, in data/test/ rather than test/.
      expect(remote).toBe(local.text.replaceAll(",test/casia-", ",data/test/casia-"));
      expect(hub.read("me/casia-pairs", "README.md").toString()).toContain("`pairs/test.csv`");
      expect(hub.commits("me/casia-pairs").at(-1)?.summary).toContain("pairs/test.csv");
      // verify finds the repo's lists by the card.
      const verified = await runCli(["verify", repo, ...hubArgs]);
      expect(verified.code, verified.stdout).toBe(0);
      expect(verified.stdout).toContain("1 pair list in pairs/, 6 pairs");
      // A run made again over the repo takes the list made of the old samples with it.
      const again = await runCli([
        ...args.map((arg) => (arg === out ? repo : arg)),
        ...["--holdout", "50%", "--overwrite", ...hubArgs],
      ]);
      expect(again.code, again.stderr).toBe(0);
      expect(hub.files("me/casia-pairs").has("pairs/test.csv")).toBe(false);
    } finally {
      await hub.close();
    }
  });
});
