/**
 * Run in a child process with --expose-gc by test/hostile.test.ts (and by hand for bigger
 * counts): lists a zip of `count` members and keys them as the lookup join does, then prints
 * what that costs a member, on the JS heap and in typed arrays.
 *   node --expose-gc --import tsx test/support/member-index-probe.ts <count> <dir>
 */
import { join } from "node:path";
import { RunStats } from "../../src/core/stats.js";
import { openLocalSource } from "../../src/sources/open-source.js";
import type { RandomAccessSource } from "../../src/sources/source.js";
import { KeyedSide } from "../../src/transforms/keyed-side.js";
import { writeStoredZip64 } from "./stored-zip.js";

const count = Number(process.argv[2]);
const path = join(process.argv[3]!, "members.zip");
await writeStoredZip64(
  path,
  Array.from({ length: count }, (_, i) => ({
    name: `CASIA-WebFace/${String(Math.floor(i / 50)).padStart(7, "0")}/${String(i % 50).padStart(3, "0")}.jpg`,
    data: Buffer.of(i & 255),
  })),
);

const gc = (globalThis as { gc?: () => void }).gc!;
const used = () => {
  // Twice: the first collection can leave what it freed to a second (weak and pooled buffers).
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};
// Every module the measure loads (and tsx compiles) is loaded first, on a one-member zip, so
// the heap measured is the listing's and not the code's.
const warmPath = join(process.argv[3]!, "warm.zip");
await writeStoredZip64(warmPath, [{ name: "CASIA-WebFace/0000000/000.jpg", data: Buffer.of(0) }]);
const warm = (await openLocalSource(warmPath)) as RandomAccessSource;
new KeyedSide("masks", warm, { depth: 2, suffixes: [] }, new RunStats()).keyListing(
  await warm.list(),
);
await warm.close();
// What the write of the big zip left (its member list, pooled buffers) goes before measuring.
await new Promise((resolve) => setTimeout(resolve, 50));
const before = used();
const started = performance.now();
const source = (await openLocalSource(path)) as RandomAccessSource;
const listing = await source.list();
const listed = used();
const side = new KeyedSide("masks", source, { depth: 2, suffixes: [] }, new RunStats());
side.keyListing(listing);
const keyed = used();
console.log(
  JSON.stringify({
    members: listing.length,
    keys: side.positions.size,
    seconds: (performance.now() - started) / 1000,
    listingBytesPerMember: (listed - before) / count,
    bytesPerMember: (keyed - before) / count,
  }),
);
await source.close();
