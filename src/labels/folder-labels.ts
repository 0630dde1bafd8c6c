import { MaskpipeError } from "../core/errors.js";
import { memberKey } from "../core/keys.js";
import { skipReason } from "../core/member-filter.js";
import { listedUpFront, listMembers } from "../sources/list-members.js";
import type { Source } from "../sources/source.js";
import type { LabelRequest, LabelSource } from "./label-request.js";
import { folderIdentity, sortIdentities } from "./labeler.js";

/**
 * `folder` labels: identities from the photos' identity folders, classes dense over the sorted
 * identities of the whole photo side (its listing, so the same whatever the archive kind, order,
 * --limit or --resume), or the given class list.
 */
export const folderLabels: LabelSource = async (request, photos, classFile) => {
  const listed = classFile === undefined ? await photoIdentities(photos, request) : undefined;
  return {
    tables: {
      mode: "folder",
      classes: classFile?.classes ?? listed!.identities,
      source:
        listed === undefined ? request.classes! : `the identity folders of the ${listed.side}`,
    },
    files: {},
    notFound: [],
  };
};

/**
 * The sorted identity folders of every image on the photo side, from its listing; when the
 * photos are remote and listed only by being read through (a tar over HTTP), from the listing of
 * the mask side instead, if it has one up front (a zip): the folder of each mask's key, which is
 * the folder of the photo it goes on. Either way every partition gets the same list.
 */
async function photoIdentities(
  photos: Source,
  request: LabelRequest,
): Promise<{ identities: string[]; side: "photos" | "masks" }> {
  const { signal } = request;
  const identities = new Set<string>();
  const add = (path: string, kind: Parameters<typeof skipReason>[1]) => {
    if (skipReason(path, kind) !== undefined) return;
    const identity = folderIdentity(path);
    if (identity !== undefined) identities.add(identity);
  };
  const listed = await listedUpFront(photos, signal);
  if (listed === undefined && /^https?:|^hf:/.test(photos.name)) {
    const fromMasks = await maskIdentities(request.maskSide, signal);
    if (fromMasks !== undefined && fromMasks.length > 0)
      return { identities: fromMasks, side: "masks" };
    throw new MaskpipeError(
      "ERR_INVALID_OPTION",
      `${photos.name}: the class list comes from the photos' listing (or the masks', when they are a zip or a folder), and a remote tar would have to be downloaded twice for it; pass --classes FILE (one identity a line), or the photos or the masks as a zip`,
    );
  }
  // A local tar lists only by being read through: one pass that keeps no member's bytes.
  for (const member of listed ?? (await listMembers(photos, signal))) add(member.path, member.kind);
  return { identities: sortIdentities(identities), side: "photos" };
}

/** The sorted folders of the mask side's keys, when it is listed up front; else `undefined`. */
async function maskIdentities(
  side: LabelRequest["maskSide"],
  signal: AbortSignal | undefined,
): Promise<string[] | undefined> {
  const listed = side === undefined ? undefined : await listedUpFront(side.source, signal);
  if (side === undefined || listed === undefined) return undefined;
  const identities = new Set<string>();
  for (const member of listed) {
    if (skipReason(member.path, member.kind) !== undefined) continue;
    const identity = folderIdentity(memberKey(member.path, side.keys));
    if (identity !== undefined) identities.add(identity);
  }
  return sortIdentities(identities);
}
