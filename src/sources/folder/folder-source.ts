import { lstat, opendir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MaskpipeError, where } from "../../core/errors.js";
import { entriesFromListing, readEach } from "../random-access-entries.js";
import type { EntriesOptions, RandomAccessSource, SourceEntry, SourceMember } from "../source.js";

export interface FolderSourceOptions {
  maxMemberBytes?: number;
}

/** Listed members keep their on-disk spelling: the NFC `path` may differ from it. */
interface FolderMember extends SourceMember {
  readonly diskPath: string;
}

export const FOLDER_DEFAULTS = { maxMemberBytes: 256 * 2 ** 20 } as const;

/** A folder tree read in place; members are listed in code-point order so runs repeat. */
export function folderSource(root: string, options: FolderSourceOptions = {}): RandomAccessSource {
  const maxMemberBytes = options.maxMemberBytes ?? FOLDER_DEFAULTS.maxMemberBytes;
  let listing: Promise<FolderMember[]> | undefined;

  const list = (signal?: AbortSignal) => {
    listing ??= walk(root, "", [], signal);
    return listing;
  };

  async function read(member: SourceMember, signal?: AbortSignal): Promise<Buffer> {
    if (member.size > maxMemberBytes) {
      throw new MaskpipeError(
        "ERR_MEMBER_TOO_LARGE",
        `${where(root, member.path)}: is ${member.size} bytes, more than the ${maxMemberBytes}-byte limit for one member (maxMemberBytes)`,
        { archive: root, member: member.path },
      );
    }
    return readFile(join(root, (member as FolderMember).diskPath), { signal });
  }

  const readMany = (members: readonly SourceMember[], signal?: AbortSignal) =>
    readEach(read, members, signal);

  return {
    name: root,
    kind: "folder",
    randomAccess: true,
    list,
    read,
    readMany,
    entries: (entriesOptions?: EntriesOptions): AsyncIterable<SourceEntry> =>
      entriesFromListing(list, readMany, entriesOptions),
    close: async () => {},
  };
}

async function walk(
  root: string,
  prefix: string,
  members: FolderMember[],
  signal?: AbortSignal,
): Promise<FolderMember[]> {
  signal?.throwIfAborted();
  const names: string[] = [];
  for await (const entry of await opendir(join(root, prefix))) names.push(entry.name);
  names.sort(compareCodePoints);
  for (const name of names) {
    const path = prefix === "" ? name : `${prefix}/${name}`;
    // lstat, not stat: a symlink is reported, never followed out of the tree.
    const stats = await lstat(join(root, path));
    if (stats.isDirectory()) {
      members.push({
        path: `${path}/`.normalize("NFC"),
        size: 0,
        kind: "directory",
        diskPath: path,
      });
      await walk(root, path, members, signal);
    } else {
      members.push({
        path: path.normalize("NFC"),
        size: stats.size,
        kind: stats.isFile() ? "file" : "other",
        diskPath: path,
      });
    }
  }
  return members;
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
