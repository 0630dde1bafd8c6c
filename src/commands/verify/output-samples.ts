import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { OutputFiles } from "../../dataset/output-files.js";
import type { RunIdentity } from "../../dataset/run-identity.js";
import { splitMemberName } from "../../sinks/webdataset-names.js";
import { FILE_EXTENSION, type OutputFormat } from "../../transforms/encode.js";
import { ordinalsPerShard } from "./choose-samples.js";
import type { ListedShard } from "./output-shards.js";
import { tarMembers } from "./tar-members.js";
import { imagesBelow, readAll } from "./verify-folder.js";

/** A member's bytes as a proof compares them: their count and SHA-256, not the bytes. */
export interface MemberDigest {
  bytes: number;
  sha256: string;
}

/**
 * One sample of the output a proof re-derives: its key as the run made it (the json's `key`),
 * where it is, and each of its members (`0000045/001.jpg`, `...json`) by name.
 */
export interface OutputSample {
  key: string;
  /** The shard that holds it; absent in the folder layout, where each file is its own. */
  shard?: string;
  members: Map<string, MemberDigest>;
}

/** What the output holds of the chosen samples, and what about them could not be read. */
export interface ChosenSamples {
  samples: OutputSample[];
  problems: { shard?: string; member?: string; message: string }[];
}

export function digestOf(data: Buffer): MemberDigest {
  return { bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") };
}

/**
 * The samples `choose` picks out of the shards' total (the index's counts), read out of the
 * shards: a shard none is chosen from is not opened, and one is read only up to its last
 * chosen sample.
 */
export async function chosenShardSamples(
  files: OutputFiles,
  shards: readonly ListedShard[],
  choose: (total: number) => number[],
): Promise<ChosenSamples> {
  const counts = shards.map((shard) => Math.max(0, shard.nsamples));
  const total = counts.reduce((sum, count) => sum + count, 0);
  return readChosenSamples(files, shards, ordinalsPerShard(counts, choose(total)));
}

/**
 * The images `choose` picks out of a `--layout folder` output's tree (sorted by path), each its
 * own sample, keyed by its path without the extension, as the run named it.
 */
export async function chosenFolderFiles(
  files: OutputFiles,
  identity: RunIdentity,
  choose: (total: number) => number[],
): Promise<ChosenSamples> {
  const extension = `.${FILE_EXTENSION[identity.format as OutputFormat]}`;
  const images = ((await imagesBelow(files, "", extension)) ?? []).sort();
  const chosen: ChosenSamples = { samples: [], problems: [] };
  for (const ordinal of choose(images.length)) {
    const path = images[ordinal]!;
    const key = path.slice(0, -extension.length);
    const members = new Map<string, MemberDigest>();
    for (const file of [path, ...(await pairedParts(files, key))]) {
      members.set(file, digestOf(await readAll(await files.stream(file))));
    }
    chosen.samples.push({ key, members });
  }
  return chosen;
}

/** The paired parts (`--with`) beside a folder layout's image: `{key}.orig.*`, `{key}.mask.png`. */
async function pairedParts(files: OutputFiles, key: string): Promise<string[]> {
  const slash = key.lastIndexOf("/");
  const folder = key.slice(0, slash + 1);
  const base = key.slice(slash + 1);
  const listing = await files.list(folder);
  return (listing?.files ?? [])
    .filter((file) => file.startsWith(`${base}.orig.`) || file === `${base}.mask.png`)
    .sort()
    .map((file) => folder + file);
}

/** The chosen samples (`ordinals[i]`: the ordinals within `shards[i]`) out of the shards. */
async function readChosenSamples(
  files: OutputFiles,
  shards: readonly ListedShard[],
  ordinals: readonly number[][],
): Promise<ChosenSamples> {
  const chosen: ChosenSamples = { samples: [], problems: [] };
  for (const [i, shard] of shards.entries()) {
    const wanted = new Set(ordinals[i]);
    if (wanted.size === 0) continue;
    const input = await files.stream(shard.path);
    if (input === undefined) {
      chosen.problems.push({ shard: shard.path, message: "missing: its samples cannot be proved" });
      continue;
    }
    try {
      await readShardSamples(input, shard.path, wanted, chosen);
    } catch (error) {
      chosen.problems.push({
        shard: shard.path,
        message: `cannot be read as a tar (${(error as Error).message}): the samples chosen from it after the damage are not proved`,
      });
    } finally {
      input.destroy();
    }
  }
  return chosen;
}

/** The wanted samples of one shard, by their ordinal in it, up to the last one wanted. */
async function readShardSamples(
  input: Readable,
  shard: string,
  wanted: ReadonlySet<number>,
  chosen: ChosenSamples,
): Promise<void> {
  const last = Math.max(...wanted);
  let ordinal = -1;
  let memberKey: string | undefined;
  let current: { members: Map<string, MemberDigest>; json?: Buffer } | undefined;
  const close = () => {
    if (current === undefined || memberKey === undefined) return;
    const key = sampleKey(memberKey, current.json);
    if (key === undefined) {
      chosen.problems.push({
        shard,
        member: `${memberKey}.json`,
        message: `sample ${memberKey}: its json is missing or names no key, so the pair it came from cannot be found`,
      });
    } else {
      chosen.samples.push({ key, shard, members: current.members });
    }
    current = undefined;
  };
  for await (const member of tarMembers(input)) {
    const { key, extension } = splitMemberName(member.name);
    if (key !== memberKey) {
      close();
      memberKey = key;
      ordinal++;
      if (ordinal > last) return;
      if (wanted.has(ordinal)) current = { members: new Map() };
    }
    if (current === undefined) continue;
    current.members.set(member.name, digestOf(member.data));
    if (extension === "json") current.json = member.data;
  }
  close();
}

/** The key a sample was made with: its json's `key`; else its member name decoded, when whole. */
function sampleKey(memberKey: string, json: Buffer | undefined): string | undefined {
  if (json !== undefined) {
    try {
      const parsed = JSON.parse(json.toString("utf8")) as { key?: unknown };
      if (typeof parsed.key === "string") return parsed.key;
    } catch {
      // Said below: no key to go by.
    }
  }
  if (memberKey.includes("~")) return undefined;
  try {
    return decodeURIComponent(memberKey);
  } catch {
    return undefined;
  }
}
