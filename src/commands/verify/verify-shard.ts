import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import sharp from "sharp";
import type { OutputFiles } from "../../dataset/output-files.js";
import { tarHeaderBytes } from "../../sinks/tar-member-chunks.js";
import { splitMemberName } from "../../sinks/webdataset-names.js";
import { OUTPUT_EXTENSIONS } from "../../transforms/encode.js";
import { memberFault } from "./member-fault.js";
import type { ListedShard } from "./output-shards.js";
import { type ShardMember, tarMembers } from "./tar-members.js";
import type { MemberPlace } from "./verify-dali-index.js";
import type { VerifyReport } from "./verify-report.js";

/**
 * Checks one shard: present, read through as a tar, every sample with the members `expected`
 * names (or those of its first sample), consecutive, no key twice (across `keys`), images
 * decoding with `decode`; then its size, MD5 and SHA-256 and sample count against the index and
 * report (unless `filesize` is -1: a shard alone). When its bytes differ, the member that holds
 * the change is named where it can be told (member-fault.ts). Returns where each member's data
 * lies, for the shard's DALI index.
 */
export async function verifyShard(
  files: OutputFiles,
  shard: ListedShard,
  expected: readonly string[] | undefined,
  keys: Set<string>,
  decode: boolean,
  result: VerifyReport,
): Promise<MemberPlace[]> {
  const problem = (message: string, member?: string) =>
    result.problems.push({ shard: shard.path, ...(member !== undefined && { member }), message });
  const input = await files.stream(shard.path);
  const places: MemberPlace[] = [];
  if (input === undefined) {
    problem("missing");
    return places;
  }
  result.shards++;
  const md5 = createHash("md5");
  const sha256 = createHash("sha256");
  let bytes = 0;
  input.on("data", (chunk: Buffer) => {
    md5.update(chunk);
    sha256.update(chunk);
    bytes += chunk.length;
  });
  const samples = new SampleCheck(expected, keys, decode, result, problem);
  let lastMember: ShardMember | undefined;
  try {
    for await (const member of tarMembers(input)) {
      lastMember = member;
      const offset = member.offset + tarHeaderBytes(member.name);
      places.push({ name: member.name, offset, size: member.data.length });
      await samples.add(member);
    }
    await samples.close();
  } catch (error) {
    const after = lastMember === undefined ? "" : `, after member ${lastMember.name}`;
    problem(
      `cannot be read as a tar: ${(error as Error).message}${after} (truncated or damaged)`,
      lastMember?.name,
    );
    await drain(input); // the size and hashes are of the whole file
  }
  result.samples += samples.count;
  result.bytes += bytes;
  const split = shard.split ?? "";
  result.samplesBySplit[split] = (result.samplesBySplit[split] ?? 0) + samples.count;
  if (shard.filesize < 0) return places; // one shard alone: no index to compare with
  if (bytes !== shard.filesize)
    problem(
      `${bytes.toLocaleString("en-US")} bytes, the index says ${shard.filesize.toLocaleString("en-US")}`,
    );
  const md5sum = md5.digest("hex");
  const sha = sha256.digest("hex");
  const changed = md5sum !== shard.md5sum;
  if (changed) problem(`MD5 ${md5sum} does not match the index's ${shard.md5sum}`);
  if (shard.sha256 !== undefined && sha !== shard.sha256) {
    problem(`SHA-256 ${sha} does not match the report's ${shard.sha256}`);
  }
  if (samples.count !== shard.nsamples)
    problem(`${samples.count} samples, the index says ${shard.nsamples}`);
  if (changed && bytes === shard.filesize) {
    const fault = await memberFault(files, shard.path);
    problem(fault.message, fault.member);
  }
  return places;
}

/** The samples of one shard as its members arrive: whole, consecutive, no key twice. */
class SampleCheck {
  count = 0;
  private current: { key: string; members: Map<string, Buffer> } | undefined;

  constructor(
    private needed: readonly string[] | undefined,
    private readonly keys: Set<string>,
    private readonly decode: boolean,
    private readonly result: VerifyReport,
    private readonly problem: (message: string, member?: string) => void,
  ) {}

  async add({ name, data }: ShardMember): Promise<void> {
    const { key, extension } = splitMemberName(name);
    if (this.current !== undefined && this.current.key !== key) await this.close();
    if (this.current === undefined) {
      this.current = { key, members: new Map() };
    } else if (this.current.members.has(extension)) {
      this.problem(`${name} appears twice in one sample`, name);
    }
    this.current.members.set(extension, data);
    if (extension === "json") {
      try {
        JSON.parse(data.toString("utf8"));
      } catch {
        this.problem(`${name} is not valid JSON`, name);
      }
    }
  }

  async close(): Promise<void> {
    if (this.current === undefined) return;
    const { key, members } = this.current;
    this.current = undefined;
    this.count++;
    this.needed ??= [...members.keys()].sort((a, b) => imageFirst(a) - imageFirst(b));
    const lacking = this.needed.filter((extension) => !members.has(extension));
    if (lacking.length > 0) this.problem(`sample ${key} has no ${lacking.join(", ")}`, key);
    if (this.keys.has(key)) this.problem(`key ${key} is in the output twice`, key);
    this.keys.add(key);
    const imageExtension = this.needed.find((extension) => OUTPUT_EXTENSIONS.includes(extension));
    const image = imageExtension === undefined ? undefined : members.get(imageExtension);
    if (!this.decode || image === undefined) return;
    try {
      await sharp(image).raw().toBuffer();
      this.result.decoded++;
    } catch (error) {
      const member = `${key}.${imageExtension}`;
      this.problem(`${member} does not decode: ${(error as Error).message}`, member);
    }
  }
}

/** Reads what is left of `input` after its tar could not be read. */
async function drain(input: Readable): Promise<void> {
  if (input.readableEnded || input.destroyed) return;
  input.unpipe();
  input.resume();
  await finished(input).catch(() => {});
}

const imageFirst = (extension: string) => (OUTPUT_EXTENSIONS.includes(extension) ? 0 : 1);
