import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { writeZip } from "../scripts/archives.js";
import { MaskpipeError } from "../src/core/errors.js";
import { memberKey } from "../src/core/keys.js";
import { webDatasetKey } from "../src/sinks/webdataset-names.js";
import type { ByteReader } from "../src/sources/byte-reader.js";
import { zipSource } from "../src/sources/zip/zip-source.js";
import { tempDir } from "./support/temp.js";

const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const name = fc.stringMatching(/^[A-Za-z0-9-]{1,10}$/);

describe("key derivation (property)", () => {
  it("pairs a photo and its mask under any top folders", () => {
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 3 }),
        fc.array(segment, { maxLength: 3 }),
        segment,
        name,
        (photoTop, maskTop, identity, file) => {
          const rule = { depth: 2, suffixes: ["_mask"] };
          const photo = [...photoTop, identity, `${file}.jpg`].join("/");
          const mask = [...maskTop, identity, `${file}_mask.png`].join("/");
          const plainMask = [...maskTop, identity, `${file}.png`].join("/");
          expect(memberKey(photo, rule)).toBe(`${identity}/${file}`);
          expect(memberKey(mask, rule)).toBe(`${identity}/${file}`);
          expect(memberKey(plainMask, rule)).toBe(`${identity}/${file}`);
        },
      ),
      { numRuns: 500 },
    );
  });
});

function memoryReader(bytes: Buffer): ByteReader {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
    close: async () => {},
  };
}

describe("zip reader against mutated archives (property)", () => {
  it("never hangs and never throws anything but a MaskpipeError", async () => {
    const dir = await tempDir();
    const path = join(dir, "seed.zip");
    await writeZip(path, [
      { name: "a/1.jpg", data: Buffer.from("x".repeat(300)) },
      { name: "a/2.png", data: Buffer.from(Array.from({ length: 2000 }, (_, i) => i % 251)) },
      { name: "b/3.jpg", data: Buffer.alloc(10) },
    ]);
    const seed = await readFile(path);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            at: fc.nat({ max: seed.length - 1 }),
            value: fc.integer({ min: 0, max: 255 }),
          }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        fc.nat({ max: seed.length }),
        async (mutations, cut) => {
          const bytes = Buffer.from(seed.subarray(0, Math.max(cut, seed.length - 40)));
          for (const { at, value } of mutations) if (at < bytes.length) bytes[at] = value;
          const source = zipSource("mutated.zip", memoryReader(bytes));
          try {
            for await (const entry of source.entries()) {
              if (entry.error !== undefined) expect(entry.error).toBeInstanceOf(MaskpipeError);
            }
          } catch (error) {
            expect(error).toBeInstanceOf(MaskpipeError);
          }
        },
      ),
      { numRuns: 400, interruptAfterTimeLimit: 20_000 },
    );
  });
});

describe("tar member names (property)", () => {
  const component = fc
    .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
    .filter((part) => !part.includes("/"));
  const key = fc.array(component, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("/"));

  it("are plain ASCII ustar names every WebDataset reader keeps whole", () => {
    fc.assert(
      fc.property(key, (original) => {
        const name = webDatasetKey(original);
        const member = `${name}.json`;
        expect(/^[\x21-\x7e]+$/.test(member)).toBe(true); // ASCII: no PAX header
        expect(Buffer.byteLength(member)).toBeLessThanOrEqual(100); // the ustar name field
        const parts = name.split("/");
        for (const part of parts) expect(part).not.toMatch(/^[._]/); // skipped by readers
        expect(parts.at(-1)).not.toContain("."); // a dot would end the key
        if (!name.includes("~")) expect(decodeURIComponent(name)).toBe(original);
      }),
      { numRuns: 2000 },
    );
  });

  it("never give two keys the same name", () => {
    fc.assert(
      fc.property(fc.uniqueArray(key, { minLength: 2, maxLength: 20 }), (keys) => {
        const names = new Set(keys.map(webDatasetKey));
        expect(names.size).toBe(keys.length);
      }),
      { numRuns: 500 },
    );
  });

  it("spell long keys as a readable head and a digest", () => {
    const long = `${"Ä".repeat(60)}/${"é".repeat(80)}`;
    const name = webDatasetKey(long);
    expect(name).toMatch(/^(%C3%84){13}~[0-9a-f]{16}$/);
    expect(webDatasetKey(`${long}x`)).not.toBe(name);
  });
});
