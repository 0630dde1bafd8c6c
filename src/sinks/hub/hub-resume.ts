import { MaskpipeError } from "../../core/errors.js";
import { HttpClient } from "../../sources/http/http-client.js";
import { daliIndexName } from "../dali-index.js";
import { type ResumePoint, readShardStream } from "../resume.js";
import type { ShardInfo } from "../sink.js";
import { shardFileName } from "../webdataset-names.js";
import type { HubRepo, RemoteFile } from "./hub-repo.js";

/**
 * `--resume` on the Hub: downloads the repo's shards (with the sources' HTTP client: retries,
 * a cut body resumed by Range, the token dropped on the redirect to storage) `{name}-000000.tar`, ... in an unbroken run
 * from 0 and keeps each whose bytes hash to the repo's LFS oid, with the keys of its samples, so
 * the run skips their images instead of making them again. The first shard that differs (an
 * earlier run with other options) ends the run of kept shards: it and those after it are made
 * again and replaced.
 */
export async function findHubResumePoint(
  repo: HubRepo,
  name: string,
  remote: ReadonlyMap<string, RemoteFile>,
  /** The split's folder: `data/train`. */
  folder: string,
  /** The run writes DALI indexes: a shard is kept only with its index beside it. */
  daliIndex = false,
): Promise<ResumePoint> {
  const shards: ResumePoint["shards"] = [];
  const keys = new Set<string>();
  const client = new HttpClient({ headers: repo.authorization });
  try {
    for (let index = 0; ; index++) {
      const file = shardFileName(name, index);
      const path = `${folder}/${file}`;
      const there = remote.get(path);
      if (there?.sha256 === undefined) break;
      if (daliIndex && !remote.has(`${folder}/${daliIndexName(file)}`)) break;
      const shardKeys = new Set<string>();
      const shard = await readRepoShard(client, repo, path, file, shardKeys);
      if (shard.sha256 !== there.sha256 || shard.bytes !== there.size) break;
      shards.push(shard);
      for (const key of shardKeys) keys.add(key);
    }
  } finally {
    await client.close();
  }
  return { shards, keys };
}

async function readRepoShard(
  client: HttpClient,
  repo: HubRepo,
  path: string,
  file: string,
  keys: Set<string>,
): Promise<ShardInfo> {
  try {
    return await readShardStream(file, await client.stream(repo.fileUrl(path)), keys);
  } catch (cause) {
    if (cause instanceof MaskpipeError) throw cause; // the HTTP client names the URL
    throw new MaskpipeError(
      "ERR_HUB",
      `${repo.spec}/${path}: cannot be read back to resume (${(cause as Error).message}); run without --resume to make every shard again`,
      { archive: repo.spec, member: path, cause },
    );
  }
}
