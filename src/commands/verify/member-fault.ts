import sharp from "sharp";
import type { OutputFiles } from "../../dataset/output-files.js";
import { spellsKey, splitMemberName } from "../../sinks/webdataset-names.js";
import { OUTPUT_EXTENSIONS } from "../../transforms/encode.js";
import { type ShardMember, tarMembers } from "./tar-members.js";

/** The member of a changed shard that holds the change, as far as it can be told. */
export interface MemberFault {
  member?: string;
  message: string;
}

/**
 * Reads a shard whose bytes differ from its record again and names the first member that fails
 * a check of its own: a json that does not parse or names another key, a cls that is not a
 * number, an image that does not decode, a tar header that does not read. Changed image data
 * that still decodes cannot be told apart from good data: then it says so.
 */
export async function memberFault(files: OutputFiles, path: string): Promise<MemberFault> {
  const input = await files.stream(path);
  if (input === undefined) return { message: "it went missing while it was checked" };
  let last: ShardMember | undefined;
  try {
    for await (const member of tarMembers(input)) {
      last = member;
      const fault = await checkMember(member);
      if (fault !== undefined) {
        return {
          member: member.name,
          message: `the bytes that differ are in member ${member.name} (key ${splitMemberName(member.name).key}, at byte ${member.offset.toLocaleString("en-US")}): ${fault}`,
        };
      }
    }
  } catch (error) {
    const where = last === undefined ? "the first member" : `the member after ${last.name}`;
    return {
      ...(last !== undefined && { member: last.name }),
      message: `the bytes that differ are in the tar header of ${where}: ${(error as Error).message}`,
    };
  }
  return {
    message:
      "no member fails a check of its own: the bytes that differ are in image data that still decodes, or in padding, so the member cannot be named; make the shard again (the same run with --overwrite)",
  };
}

/** Why one member is not what maskpipe writes; `undefined` when it passes. */
async function checkMember({ name, data }: ShardMember): Promise<string | undefined> {
  const { key, extension } = splitMemberName(name);
  if (extension === "json") {
    let parsed: { key?: unknown };
    try {
      parsed = JSON.parse(data.toString("utf8")) as { key?: unknown };
    } catch (error) {
      return `its JSON does not parse (${(error as Error).message})`;
    }
    if (typeof parsed.key !== "string" || !spellsKey(key, parsed.key))
      return `its JSON names the key ${JSON.stringify(parsed.key)}`;
    return undefined;
  }
  if (extension === "cls") {
    return /^-?\d+$/.test(data.toString("utf8")) ? undefined : "it is not a class number";
  }
  if (!OUTPUT_EXTENSIONS.includes(extension)) return undefined;
  try {
    await sharp(data).raw().toBuffer();
    return undefined;
  } catch (error) {
    return `the image does not decode (${(error as Error).message})`;
  }
}
