import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach } from "vitest";

const made: string[] = [];
const toClose: { close(): Promise<void> }[] = [];

/** A source (or anything with `close`) the test opened, closed after it: no handle left to GC. */
export function closeAfterTest<T extends { close(): Promise<void> }>(resource: T): T {
  toClose.push(resource);
  return resource;
}

/** A fresh folder under the OS temp dir, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "maskpipe-test-"));
  made.push(dir);
  return dir;
}

const madeForFile: string[] = [];

/** A fresh folder for tests that share what a `beforeAll` made, removed after the test file. */
export async function tempDirForFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "maskpipe-test-"));
  madeForFile.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(madeForFile.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

afterEach(async () => {
  await Promise.allSettled(toClose.splice(0).map((resource) => resource.close()));
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
