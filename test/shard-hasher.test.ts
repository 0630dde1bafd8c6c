import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ShardHasher } from "../src/sinks/shard-hasher.js";

const digestsOf = (bytes: Buffer) => ({
  sha256: createHash("sha256").update(bytes).digest("hex"),
  md5: createHash("md5").update(bytes).digest("hex"),
});

/** Deterministic bytes: a chunk's content depends on its place, so an order mix-up shows. */
const chunk = (seed: number, length: number) =>
  Buffer.from(Array.from({ length }, (_, i) => (seed * 131 + i * 7) & 255));

describe("shard hashing off the main thread", () => {
  it("gives the digests of the bytes in order, batches big and small, shards interleaved", async () => {
    const first = new ShardHasher();
    const second = new ShardHasher();
    const firstBytes: Buffer[] = [];
    const secondBytes: Buffer[] = [];
    // Batches under, at and over the reused buffers' size, and views into a bigger buffer.
    const sizes = [1, 512, 2 ** 20, 3 * 2 ** 20 + 5, 0, 4096, 2 * 2 ** 20];
    for (const [i, size] of sizes.entries()) {
      const batch = [chunk(i, size), chunk(i + 50, 700).subarray(100, 611), Buffer.alloc(0)];
      first.update(batch);
      firstBytes.push(...batch);
      const other = [chunk(i + 99, 1000 + i)];
      second.update(other);
      secondBytes.push(...other);
    }
    expect(await second.digest()).toEqual(digestsOf(Buffer.concat(secondBytes)));
    expect(await first.digest()).toEqual(digestsOf(Buffer.concat(firstBytes)));
    // A shard with no bytes at all.
    expect(await new ShardHasher().digest()).toEqual(digestsOf(Buffer.alloc(0)));
  });

  it("leaves the caller's buffers as they were", async () => {
    const bytes = chunk(3, 10_000);
    const copy = Buffer.from(bytes);
    const hasher = new ShardHasher();
    hasher.update([bytes]);
    await hasher.digest();
    expect(bytes.equals(copy)).toBe(true);
  });

  it("never keeps a process alive: a shard given up or left unfinished lets it exit", () => {
    const source = fileURLToPath(new URL("../src/sinks/shard-hasher.ts", import.meta.url));
    const script = `
      const { ShardHasher } = await import(${JSON.stringify(source)});
      const dropped = new ShardHasher();
      dropped.update([Buffer.alloc(1000, 1)]);
      dropped.drop();
      const left = new ShardHasher();
      left.update([Buffer.alloc(1000, 2)]);
      const done = new ShardHasher();
      done.update([Buffer.from("abc")]);
      console.log((await done.digest()).md5);
    `;
    const started = Date.now();
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 20_000 },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe(createHash("md5").update("abc").digest("hex"));
    expect(run.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
