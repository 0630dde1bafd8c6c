import { fileURLToPath } from "node:url";

/** The embedded sample's two archives, as absolute paths. */
export interface SamplePaths {
  /** 36 CASIA-like photos in a zip (`CASIA-WebFace/{identity}/{nnn}.jpg`). */
  photos: string;
  /** 34 masks in a tar (`CASIA-WebFace_masks/{identity}/{nnn}_mask.png`): 33 pair a photo. */
  masks: string;
}

/**
 * Where the synthetic sample that ships with maskpipe is, wherever maskpipe is installed (a
 * clone, a project's node_modules, a global install), so an example runs from any folder.
 *
 * @example
 * ```ts
 * import { openLocalSource, samplePaths } from "maskpipe";
 * const photos = await openLocalSource(samplePaths().photos);
 * ```
 */
export function samplePaths(): SamplePaths {
  // This file is src/core/ or dist/core/: the package root is two folders up.
  const root = new URL("../../sample/", import.meta.url);
  return {
    photos: fileURLToPath(new URL("sample-photos.zip", root)),
    masks: fileURLToPath(new URL("sample-masks.tar", root)),
  };
}
