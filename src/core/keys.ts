/**
 * How a member path becomes the key that pairs a photo with its mask. The rule is data (it
 * lives in the pipeline file), so one function serves CelebA, CASIA-WebFace and any layout
 * with the same shape.
 */
export interface KeyRule {
  /**
   * How many trailing path components the key keeps, the file name included. 1 keeps the file
   * name only (CelebA: `img_celeba/000001.jpg` -> `000001`); 2 keeps one folder above it
   * (CASIA-WebFace: `CASIA-WebFace/0000045/001.jpg` -> `0000045/001`). Any archive top folder
   * above those components is dropped, so the same rule works with or without one.
   */
  depth: number;
  /** Endings removed from the file name after its extension, first match wins (`_mask`). */
  suffixes: readonly string[];
}

/** Forward slashes, no empty or `.` components: the shape every source reports paths in. */
export function pathComponents(path: string): string[] {
  return path.split(/[\\/]+/).filter((part) => part !== "" && part !== ".");
}

export function extensionOf(path: string): string {
  const name = pathComponents(path).at(-1) ?? "";
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot + 1).toLowerCase();
}

export function memberKey(path: string, rule: KeyRule): string {
  const parts = pathComponents(path).slice(-rule.depth);
  const last = parts.length - 1;
  let name = parts[last] ?? "";
  const dot = name.lastIndexOf(".");
  if (dot > 0) name = name.slice(0, dot);
  for (const suffix of rule.suffixes) {
    if (suffix !== "" && name.endsWith(suffix) && name.length > suffix.length) {
      name = name.slice(0, -suffix.length);
      break;
    }
  }
  parts[last] = name;
  return parts.join("/");
}
