import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runPipeline } from "../src/run/run-pipeline.js";
import { casiaKeys, corpusFiles, writeArchive } from "./support/corpus.js";
import { startFileServer } from "./support/http-server.js";
import { readShard } from "./support/read-shard.js";
import { tempDir } from "./support/temp.js";

/** Each sample's `.cls` text by key, from every shard of an output folder. */
async function classesByKey(out: string): Promise<Map<string, string>> {
  const cls = new Map<string, string>();
  for (const shard of (await readdir(out)).filter((name) => name.endsWith(".tar"))) {
    for (const member of await readShard(join(out, shard))) {
      if (member.name.endsWith(".cls")) cls.set(member.name.slice(0, -4), member.data.toString());
    }
  }
  return cls;
}

describe("CASIA classes when the photos are a tar over HTTP", () => {
  it("come from the masks' zip listing: the same classes.txt and cls as with the photos as a zip", async () => {
    const dir = await tempDir();
    // Five identities, each with photos that have masks; one photo without a mask.
    const keys = casiaKeys(20, 45, 5);
    const files = await corpusFiles({ keys, size: 40, withoutMask: [keys[3]!] });
    const zipPhotos = await writeArchive(dir, "CASIA-WebFace", "zip", files.photos);
    const tarPhotos = await writeArchive(dir, "CASIA-WebFace", "tar.gz", files.photos);
    const masks = await writeArchive(dir, "CASIA-WebFace_masks", "zip", files.masks);
    const server = await startFileServer([tarPhotos, masks]);
    try {
      const base = {
        name: "casia",
        photoKeys: { depth: 2, suffixes: [] },
        maskKeys: { depth: 2, suffixes: ["_mask"] },
        labels: "folder" as const,
        shardMaxCount: 6,
      };
      const local = await runPipeline({
        ...base,
        originals: zipPhotos,
        masks,
        out: join(dir, "local"),
      });
      const remote = await runPipeline({
        ...base,
        originals: server.url("CASIA-WebFace.tar.gz"),
        masks: server.url("CASIA-WebFace_masks.zip"),
        out: join(dir, "remote"),
      });
      expect(remote.problems).toEqual([]);
      expect(remote.labels).toMatchObject({
        classes: 5,
        source: "the identity folders of the masks",
      });
      expect(local.labels).toMatchObject({
        classes: 5,
        source: "the identity folders of the photos",
      });
      const classes = await readFile(join(dir, "local", "classes.txt"), "utf8");
      expect(classes).toBe("0000045\n0000046\n0000047\n0000048\n0000049\n");
      expect(await readFile(join(dir, "remote", "classes.txt"), "utf8")).toBe(classes);
      const cls = await classesByKey(join(dir, "local"));
      expect(cls.size).toBe(19);
      expect(await classesByKey(join(dir, "remote"))).toEqual(cls);
    } finally {
      await server.close();
    }
  });
});
