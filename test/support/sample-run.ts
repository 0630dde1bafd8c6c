import { join } from "node:path";
import { ROOT } from "./cli.js";

/** The embedded sample as the `sample` pipeline runs it (labels from identity folders), minus `out`. */
export const SAMPLE_RUN = {
  name: "sample",
  originals: join(ROOT, "sample/sample-photos.zip"),
  masks: join(ROOT, "sample/sample-masks.tar"),
  photoKeys: { depth: 2, suffixes: [] },
  maskKeys: { depth: 2, suffixes: ["_mask"] },
  labels: "folder" as const,
  shardMaxCount: 16,
  // One mask is drawn larger than its photo (clipped): allowed, as the pipeline allows it.
  maxFailed: 1,
};
