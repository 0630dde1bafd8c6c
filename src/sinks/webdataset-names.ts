import { createHash } from "node:crypto";
import type { Sample } from "../core/sample.js";
import { sampleMetadata } from "../core/sample.js";

/*
 * WebDataset's naming rules as pure functions. A reader takes a member's key to be its path up
 * to the first dot of the file name, and groups consecutive members with the same key.
 */

/** A tar member name every public reader takes whole: the ustar name field, 100 bytes. */
const MEMBER_NAME_BYTES = 100;
/** Room for the longest extension a sample has without paired parts (`.json`, `.webp`). */
export const MAX_MEMBER_KEY_BYTES = MEMBER_NAME_BYTES - ".json".length;
/** Hex digits of the key's SHA-256 that stand for a key too long to spell out. */
const DIGEST_CHARS = 16;

/**
 * The key as tar member names spell it, so that webdataset (1.x and 0.2.x with wids) and
 * Hugging Face `datasets` read every sample whatever the photo's path:
 *
 * - ASCII only: every byte of a path component but `A-Z a-z 0-9 - _` is percent-encoded
 *   (`%XX` of its UTF-8), so no PAX header is ever written (wids would see `PaxHeader`);
 *   dots stay in folder names, but not in the file name, where a dot would end the key.
 * - No component starts with `_` or `.` (webdataset skips `__x__/` folders, `datasets` skips
 *   names starting with `__` or `.`): a leading one is encoded too.
 * - At most `room` bytes (95, so `{key}.json` fits the 100-byte ustar name: wids ignores the
 *   prefix field; less for a sample with longer extensions, `memberKeyRoom`): a longer name
 *   keeps its first bytes and ends in `~` and 16 hex digits of the key's SHA-256 (`~` is always
 *   encoded otherwise, so the two forms never meet).
 *
 * `decodeURIComponent(name)` gives the key back for every name without `~`; every sample's json
 * holds the original `key`, `photo` and `mask` paths in any case.
 */
export function webDatasetKey(key: string, room = MAX_MEMBER_KEY_BYTES): string {
  // Most keys (CelebA's, CASIA's) have nothing to encode: skip the work per character.
  if (key.length <= room && PLAIN_KEY.test(key)) return key;
  const parts = key.split("/");
  const last = parts.length - 1;
  const encoded = parts.map((part, index) => encodeComponent(part, index === last)).join("/");
  if (encoded.length <= room) return encoded;
  const digest = createHash("sha256").update(key).digest("hex").slice(0, DIGEST_CHARS);
  // Any folder may end up as the file name once cut: no dots anywhere. Cut before an escape
  // that would be split, and leave no empty trailing component.
  const head = parts
    .map((part) => encodeComponent(part, true))
    .join("/")
    .slice(0, room - DIGEST_CHARS - 1)
    .replace(/%[0-9A-F]?$/, "")
    .replace(/\/+$/, "");
  return `${head}~${digest}`;
}

/** Keys `encodeComponent` leaves as they are, component by component, with no dot at all. */
const PLAIN_KEY = /^[A-Za-z0-9-][A-Za-z0-9_-]*(?:\/[A-Za-z0-9-][A-Za-z0-9_-]*)*$/;

function encodeComponent(part: string, isFileName: boolean): string {
  let out = "";
  let first = true;
  for (const char of part) {
    const keep =
      /^[A-Za-z0-9-]$/.test(char) || (!first && (char === "_" || (char === "." && !isFileName)));
    out += keep ? char : percentEncode(char);
    first = false;
  }
  return out;
}

function percentEncode(char: string): string {
  let out = "";
  for (const byte of Buffer.from(char, "utf8"))
    out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/**
 * How every WebDataset reader splits a member name: the key is the name up to the first dot
 * of its file name, the extension the rest (`0000045/001.jpg` -> `0000045/001`, `jpg`).
 */
export function splitMemberName(name: string): { key: string; extension: string } {
  const dot = name.indexOf(".", name.lastIndexOf("/") + 1);
  return dot < 0
    ? { key: name, extension: "" }
    : { key: name.slice(0, dot), extension: name.slice(dot + 1) };
}

export function shardFileName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(6, "0")}.tar`;
}

/**
 * Matches the names `shardFileName(prefix, n)` makes, plus `suffix` (a regular expression);
 * `extensions` (an alternation) for the files named after a shard: `tar|idx`.
 */
export function shardFilePattern(prefix: string, suffix = "", extensions = "tar"): RegExp {
  return new RegExp(`^${escapeRegExp(prefix)}-\\d{6}\\.(?:${extensions})${suffix}$`);
}

/** `text` matched literally inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface TarMember {
  name: string;
  data: Buffer;
}

/**
 * Bytes a sample's key may take in its member names: what the 100-byte ustar name leaves beside
 * the longest of its extensions, never more than `MAX_MEMBER_KEY_BYTES` (so a sample without
 * paired parts keeps the spelling it always had). Verify reads it back from the extensions.
 */
export function memberKeyRoom(extensions: readonly string[]): number {
  const longest = Math.max(...extensions.map((extension) => `.${extension}`.length));
  return Math.min(MAX_MEMBER_KEY_BYTES, MEMBER_NAME_BYTES - longest);
}

/**
 * True when `name` is how a sample's members spell `key`, with or without paired parts (whose
 * longer extensions leave the key less room): what a reader of an output checks a json against.
 */
export function spellsKey(name: string, key: string): boolean {
  for (let room = MAX_MEMBER_KEY_BYTES; room >= MEMBER_NAME_BYTES - MAX_EXTENSION_BYTES; room--) {
    if (webDatasetKey(key, room) === name) return true;
  }
  return false;
}

/** The longest extension with its dot a sample may have (`.orig.` and 8 characters). */
const MAX_EXTENSION_BYTES = ".orig.".length + 8;

/** A sample's files by extension (`jpg`, `json`, `cls`, `orig.jpg`, `mask.png`). */
export function sampleFiles(sample: Sample): { extension: string; data: Buffer }[] {
  const files = [
    { extension: sample.extension, data: sample.image },
    { extension: "json", data: Buffer.from(JSON.stringify(sampleMetadata(sample))) },
  ];
  // The class index as decimal text: the WebDataset convention, read as an int by `datasets`.
  if (sample.label !== undefined) {
    files.push({ extension: "cls", data: Buffer.from(String(sample.label.cls)) });
  }
  if (sample.original !== undefined) {
    files.push({ extension: `orig.${sample.original.extension}`, data: sample.original.data });
  }
  if (sample.maskAlpha !== undefined) files.push({ extension: "mask.png", data: sample.maskAlpha });
  return files;
}

/**
 * A sample's files in the order WebDataset wants: consecutive, extensions sorted. The one
 * mapping from a sample to its members, whatever the output (shards, a Hub repo).
 */
export function sampleMembers(sample: Sample): TarMember[] {
  const files = sampleFiles(sample);
  const key = webDatasetKey(sample.key, memberKeyRoom(files.map((file) => file.extension)));
  const members = files.map((file) => ({ name: `${key}.${file.extension}`, data: file.data }));
  return members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
