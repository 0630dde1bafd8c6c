import { extensionOf, pathComponents } from "./keys.js";

/** What an archive member is: only files are read; the rest is counted as skipped. */
export type MemberKind = "file" | "directory" | "other";

export const IMAGE_EXTENSIONS: readonly string[] = ["jpg", "jpeg", "png", "webp"];

/** Why a member is passed over instead of being joined; each reason is counted in the report. */
/** `unsafe-name`: a `..` component, which no output may carry (tar readers would climb out). */
export type SkipReason =
  | "directory"
  | "macos-metadata"
  | "not-image"
  | "not-a-file"
  | "unsafe-name";

/** `undefined` for an image member to join, else the reason it is skipped. */
export function skipReason(path: string, kind: MemberKind): SkipReason | undefined {
  if (kind === "directory") return "directory";
  if (kind !== "file") return "not-a-file";
  const parts = pathComponents(path);
  if (parts.includes("..")) return "unsafe-name";
  if (parts.includes("__MACOSX") || (parts.at(-1) ?? "").startsWith("._")) return "macos-metadata";
  if (!IMAGE_EXTENSIONS.includes(extensionOf(path))) return "not-image";
  return undefined;
}
