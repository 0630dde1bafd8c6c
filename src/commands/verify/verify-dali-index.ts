import type { OutputFiles } from "../../dataset/output-files.js";
import {
  type DaliComponent,
  daliIndexName,
  daliSamples,
  parseDaliIndex,
} from "../../sinks/dali-index.js";
import type { ListedShard } from "./output-shards.js";
import type { VerifyReport } from "./verify-report.js";

/** Where a member's data lies in its shard, as verify read it. */
export type MemberPlace = Omit<DaliComponent, "extension">;

/**
 * Whether to look for a shard's DALI index: always when the run recorded `--dali-index`
 * (`required`: a missing one is a problem), else only where the folder's listing shows one, so a
 * Hub repo (which cannot be listed) is not asked, shard after shard, for files nothing says are
 * there.
 */
export function daliIndexWanted(
  files: OutputFiles,
  required: boolean,
): (shardPath: string) => Promise<boolean> {
  const listings = new Map<string, Promise<Set<string>>>();
  return async (shardPath) => {
    if (required) return true;
    const folder = shardPath.slice(0, shardPath.lastIndexOf("/") + 1);
    let listing = listings.get(folder);
    if (listing === undefined) {
      listing = files.list(folder).then((found) => new Set(found?.files ?? []));
      listings.set(folder, listing);
    }
    return (await listing).has(daliIndexName(shardPath.slice(folder.length)));
  };
}

/**
 * Checks a shard's DALI index (`X.idx` beside `X.tar`) against the shard's members as read:
 * the same sample count, and each line's members with the offsets and sizes they have in the
 * tar. A missing index is a problem only when the run recorded `--dali-index` (`required`).
 * Returns whether there was an index to check.
 */
export async function verifyDaliIndex(
  files: OutputFiles,
  shard: ListedShard,
  members: readonly MemberPlace[],
  required: boolean,
  result: VerifyReport,
): Promise<boolean> {
  const path = daliIndexName(shard.path);
  const problem = (message: string, member?: string) =>
    result.problems.push({ shard: shard.path, ...(member !== undefined && { member }), message });
  const text = await files.text(path);
  if (text === undefined) {
    if (required) problem(`its DALI index ${path} is missing (the run was made with --dali-index)`);
    return false;
  }
  const parsed = parseDaliIndex(text);
  if ("error" in parsed) {
    problem(`its DALI index ${path} cannot be read: ${parsed.error}`);
    return true;
  }
  const actual = daliSamples(members);
  if (parsed.samples.length !== actual.length) {
    problem(
      `its DALI index ${path} lists ${parsed.samples.length} samples, the shard has ${actual.length}`,
    );
    return true;
  }
  for (const [i, sample] of actual.entries()) {
    const fault = lineFault(parsed.samples[i]!, sample);
    if (fault !== undefined) {
      problem(`its DALI index ${path}, line ${i + 2}: ${fault.message}`, fault.member);
      return true; // one line names the damage; the lines after it follow from it
    }
  }
  return true;
}

/** How one index line differs from the sample's members in the tar; none when it does not. */
function lineFault(
  listed: readonly DaliComponent[],
  actual: readonly DaliComponent[],
): { message: string; member: string } | undefined {
  const first = actual[0]!.name;
  if (listed.length !== actual.length) {
    return {
      message: `${listed.length} members listed, the sample has ${actual.length}`,
      member: first,
    };
  }
  for (const [j, member] of actual.entries()) {
    const entry = listed[j]!;
    if (
      entry.name === member.name &&
      entry.extension === member.extension &&
      entry.offset === member.offset &&
      entry.size === member.size
    ) {
      continue;
    }
    return {
      message: `lists ${entry.name} (${entry.extension}) at ${entry.offset}, ${entry.size} bytes; the shard has ${member.name} at ${member.offset}, ${member.size} bytes`,
      member: member.name,
    };
  }
  return undefined;
}
