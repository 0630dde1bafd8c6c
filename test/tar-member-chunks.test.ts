import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { END_OF_ARCHIVE, tarMemberChunks } from "../src/sinks/tar-member-chunks.js";
import type { TarMember } from "../src/sinks/webdataset-names.js";

/** What shards were packed with before: tar-stream, with the fields every member shared. */
async function tarStreamBytes(members: readonly TarMember[]): Promise<Buffer> {
  const fields = { type: "file", mode: 0o644, uid: 0, gid: 0, uname: "", gname: "" } as const;
  const packer = pack();
  const chunks: Buffer[] = [];
  const collected = pipeline(
    packer,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  for (const member of members) {
    await new Promise<void>((resolve, reject) =>
      packer.entry(
        { ...fields, mtime: new Date(0), name: member.name, size: member.data.length },
        member.data,
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  }
  packer.finalize();
  await collected;
  return Buffer.concat(chunks);
}

const ours = (members: readonly TarMember[]) =>
  Buffer.concat([...members.flatMap(tarMemberChunks), END_OF_ARCHIVE]);

describe("tar members packed without tar-stream", () => {
  it("are tar-stream's bytes, whatever the name and size", async () => {
    const long = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(90)}.json`;
    const members: TarMember[] = [
      { name: "0000045/001.jpg", data: Buffer.alloc(9_000, 7) },
      { name: "0000045/001.json", data: Buffer.from('{"key":"0000045/001"}') },
      { name: "0000045/001.cls", data: Buffer.from("3") },
      { name: "empty.txt", data: Buffer.alloc(0) },
      { name: "exact.bin", data: Buffer.alloc(1024, 1) },
      { name: `${"n".repeat(95)}.json`, data: Buffer.from("{}") },
      // Over 100 bytes: split at a slash into the prefix field.
      { name: long, data: Buffer.from("x") },
      // Over 100 bytes and no slash to split at, or not ASCII: a PAX record.
      { name: `${"p".repeat(120)}.jpg`, data: Buffer.alloc(700, 2) },
      { name: "été/ü.json", data: Buffer.from("{}") },
    ];
    const expected = await tarStreamBytes(members);
    expect(ours(members).equals(expected)).toBe(true);
    for (const member of members) {
      expect(ours([member]).equals(await tarStreamBytes([member]))).toBe(true);
    }
  });
});
