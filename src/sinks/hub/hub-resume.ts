import { MaskpipeError } from "../../errors.js";
import { type ResumePoint, readShardStream } from "../resume.js";
import { shardFileName } from "../webdataset-names.js";
import type { HubRepo, RemoteFile } from "./hub-repo.js";
import { HUB_DATA_FOLDER } from "./hub-shard-store.js";

/**
 * `--resume` on the Hub: downloads the repo's shards `{name}-000000.tar`, ... in an unbroken run
 * from 0 and keeps each whose bytes hash to the repo's LFS oid, with the keys of its samples, so
 * the run skips their images instead of making them again. The first shard that differs (an
 * earlier run with other options) ends the run of kept shards: it and those after it are made
 * again and replaced.
 */
export async function findHubResumePoint(
  repo: HubRepo,
  name: string,
  remote: ReadonlyMap<string, RemoteFile>,
): Promise<ResumePoint> {
  const shards: ResumePoint["shards"] = [];
  const keys = new Set<string>();
  for (let index = 0; ; index++) {
    const file = shardFileName(name, index);
    const path = `${HUB_DATA_FOLDER}/${file}`;
    const there = remote.get(path);
    if (there?.sha256 === undefined) break;
    const shardKeys = new Set<string>();
    let shard: ResumePoint["shards"][number];
    try {
      shard = await readShardStream(file, await repo.download(path), shardKeys);
    } catch (cause) {
      if (cause instanceof MaskpipeError) throw cause;
      throw new MaskpipeError(
        "ERR_HUB",
        `${repo.spec}/${path}: cannot be read back to resume (${(cause as Error).message}); run without --resume to make every shard again`,
        { archive: repo.spec, member: path, cause },
      );
    }
    if (shard.sha256 !== there.sha256 || shard.bytes !== there.size) break;
    shards.push(shard);
    for (const key of shardKeys) keys.add(key);
  }
  return { shards, keys };
}
