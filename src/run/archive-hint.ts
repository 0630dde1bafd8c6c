import { join } from "node:path";
import type { SourceMember } from "../sources/source.js";

const ARCHIVE = /\.(zip|tar|tar\.gz|tgz|7z|7z\.001)$/i;

/**
 * What to give instead of a folder that holds no image but archives: CelebA's download folder
 * (Img/, Anno/, Eval/) holds its in-the-wild photos as the split 7z Img/img_celeba.7z/; another
 * folder, its first archive. Empty when the listing holds no archive.
 */
export function archiveHint(name: string, listing: Iterable<SourceMember>): string {
  let archive: string | undefined;
  for (const member of listing) {
    if (/(^|\/)img_celeba\.7z(\/img_celeba\.7z\.001|\.001)?$/.test(member.path)) {
      const volumes = member.path.endsWith(".001")
        ? member.path.slice(0, member.path.lastIndexOf("/"))
        : member.path;
      const folder = join(name, volumes);
      return `: this looks like the CelebA download folder, whose in-the-wild photos are the 7z split in ${volumes}/: give --originals ${folder} (the folder of its volumes) or its first volume ${join(folder, "img_celeba.7z.001")}; not img_align_celeba.zip, whose aligned photos the masks do not fit`;
    }
    if (archive === undefined && ARCHIVE.test(member.path)) archive = member.path;
  }
  return archive === undefined
    ? ""
    : `: it holds archives; give one of them, e.g. ${join(name, archive)}`;
}
