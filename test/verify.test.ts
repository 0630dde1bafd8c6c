import { readFile, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pack } from "tar-stream";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyOutput } from "../src/commands/verify/verify-output.js";
import { runPipeline } from "../src/run/run-pipeline.js";
import { runCli } from "./support/cli.js";
import { startFakeHub } from "./support/fake-hub.js";
import { readShard } from "./support/read-shard.js";
import { SAMPLE_RUN } from "./support/sample-run.js";
import { tempDir } from "./support/temp.js";

const SAMPLE = SAMPLE_RUN;

/** A fresh copy of the sample run's output: 33 samples in 3 shards, with labels. */
async function output(): Promise<string> {
  const out = join(await tempDir(), "out");
  await runPipeline({ ...SAMPLE, out });
  return out;
}

async function writeTar(path: string, members: { name: string; data: Buffer }[]) {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (chunk) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve) => tar.on("end", () => resolve()));
  for (const member of members) tar.entry({ name: member.name, mtime: new Date(0) }, member.data);
  tar.finalize();
  await done;
  await writeFile(path, Buffer.concat(chunks));
}

describe("maskpipe verify", () => {
  let good: string;
  beforeAll(async () => {
    good = await output();
  });

  it("passes a good output and says what it checked", async () => {
    const result = await runCli(["verify", good, "--decode"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `maskpipe verify ${good}: whole\n` +
        "  checked  3 shards, " +
        `${(await verifyOutput(good)).bytes.toLocaleString("en-US")} bytes: present, sizes and MD5 as in the index, SHA-256 as in the report\n` +
        "  checked  33 samples: each with jpg, json, cls, members consecutive, no key twice\n" +
        "  checked  counts per shard, per split and in all against the index and report\n" +
        "  checked  33 images decoded\n",
    );
  });

  it("finds a flipped byte, naming the shard", async () => {
    const out = await output();
    const path = join(out, "sample-000001.tar");
    const bytes = await readFile(path);
    bytes[bytes.length - 3000]! ^= 0x01;
    await writeFile(path, bytes);
    const result = await runCli(["verify", out]);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(
      /problem {2}sample-000001\.tar: MD5 [0-9a-f]{32} does not match the index's [0-9a-f]{32}\n/,
    );
    expect(result.stdout).toMatch(
      /problem {2}sample-000001\.tar: SHA-256 [0-9a-f]{64} does not match the report's/,
    );
  });

  it("finds a truncated shard and a missing one", async () => {
    const out = await output();
    await truncate(join(out, "sample-000000.tar"), 20_000);
    await rm(join(out, "sample-000002.tar"));
    const result = await verifyOutput(out);
    const messages = result.problems.map((p) => `${p.shard}: ${p.message}`);
    expect(messages).toContain("sample-000002.tar: missing");
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^sample-000000\.tar: cannot be read as a tar: .*\(truncated or damaged\)$/,
      ),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/^sample-000000\.tar: 20,000 bytes, the index says [\d,]+$/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/samples in the shards, the report says 33/),
    );
  });

  it("finds a sample without its json, and a key twice", async () => {
    const out = await output();
    const path = join(out, "sample-000000.tar");
    const members = await readShard(path);
    // Each sample is cls, jpg, json: member 5 is the second sample's json.
    const dropped = members[5];
    expect(dropped?.name.endsWith(".json")).toBe(true);
    const withoutJson = members.filter((_, i) => i !== 5);
    expect(dropped).toBeDefined();
    await writeTar(path, [...withoutJson, ...members.slice(0, 3)]);
    const result = await verifyOutput(out);
    const key = dropped!.name.replace(/\.json$/, "");
    expect(result.problems).toContainEqual({
      shard: "sample-000000.tar",
      member: key,
      message: `sample ${key} has no json`,
    });
    const first = members[0]!.name.replace(/\.[^/]*$/, "");
    expect(result.problems).toContainEqual({
      shard: "sample-000000.tar",
      member: first,
      message: `key ${first} is in the output twice`,
    });
  });

  it("finds a report that does not match the shards", async () => {
    const out = await output();
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    report.written = 40;
    await writeFile(join(out, "report.json"), JSON.stringify(report));
    const result = await verifyOutput(out);
    expect(result.problems).toEqual([
      { message: "33 samples in the shards, the report says 40 (written 40 + resumed 0)" },
    ]);
  });

  it("verifies a Hub repo through its resolve route", async () => {
    const hub = await startFakeHub();
    try {
      await runPipeline({
        ...SAMPLE,
        out: "hf://datasets/me/sample-masked",
        hub: { token: hub.token, endpoint: hub.url },
      });
      const result = await runCli([
        "verify",
        "hf://datasets/me/sample-masked",
        "--hub-url",
        hub.url,
        "--hf-token",
        hub.token,
      ]);
      expect(result.stdout).toContain("maskpipe verify hf://datasets/me/sample-masked: whole\n");
      expect(result.stdout).toContain("33 samples: each with jpg, json, cls");
      expect(result.code).toBe(0);
    } finally {
      await hub.close();
    }
  });
});

describe("maskpipe verify of one shard", () => {
  it("checks its samples without an index or report, and finds one without its json", async () => {
    const out = await output();
    const path = join(out, "sample-000000.tar");
    const whole = await runCli(["verify", path]);
    expect(whole.code).toBe(0);
    expect(whole.stdout).toContain(
      "16 samples in sample-000000.tar: each with the members of the first",
    );
    const members = await readShard(path);
    await writeTar(
      path,
      members.filter((_, i) => i !== 5),
    );
    const result = await verifyOutput(path);
    expect(result.problems).toEqual([
      expect.objectContaining({
        shard: "sample-000000.tar",
        message: expect.stringMatching(/has no json$/),
      }),
    ]);
  });
});
