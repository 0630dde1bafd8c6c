import { MaskpipeError } from "../core/errors.js";
import { type KeyRule, memberKey } from "../core/keys.js";
import { skipReason } from "../core/member-filter.js";
import { inPartition, type Partition } from "../core/partition.js";
import type { RunStats, Side } from "../core/stats.js";
import type { MemberList, Source, SourceEntry, SourceMember } from "../sources/source.js";
import { describeLooks, looksLike } from "./data-set-guess.js";

/**
 * What both join strategies do with each member of one side: skip and count non-images, derive
 * the key, refuse a second member with the same key, and record members that could not be read.
 * With a partition, members of other partitions' keys are neither read nor counted, and a
 * skipped member is counted by the one partition its path falls in, so partitions' counts add up.
 */
export class KeyedSide<S extends Source = Source> {
  /**
   * Every key so far, with the member's position: its index in `listing` when the side was
   * listed (the lookup join's index), else its ordinal. Numbers, not members: a few dozen bytes
   * a member whatever the archive's size.
   */
  readonly positions = new Map<string, number>();
  /** The side's listing, once `keyListing` has keyed it: a duplicate key names the earlier member. */
  private listing: MemberList | undefined;

  constructor(
    readonly side: Side,
    readonly source: S,
    private readonly rule: KeyRule,
    private readonly stats: RunStats,
    private readonly partition?: Partition,
    /** Only these keys (a proof's chosen samples): the others are neither read nor counted. */
    private readonly only?: ReadonlySet<string>,
  ) {}

  /** Keys a whole listing (the lookup side), each key at its member's index in `listing`. */
  keyListing(listing: MemberList): void {
    this.listing = listing;
    let position = 0;
    for (const member of listing) this.keyOf(member, position++);
  }

  /** The member's key, or `undefined` when it is skipped (and counted). */
  keyOf(member: SourceMember, position = this.positions.size): string | undefined {
    const reason = skipReason(member.path, member.kind);
    if (reason !== undefined) {
      if (inPartition(this.partition, member.path)) this.stats.skip(reason);
      return undefined;
    }
    const key = memberKey(member.path, this.rule);
    if (!inPartition(this.partition, key) || this.only?.has(key) === false) return undefined;
    const earlier = this.positions.get(key);
    if (earlier !== undefined) {
      const earlierPath = this.listing?.at(earlier)?.path;
      const both =
        earlierPath === undefined
          ? `${member.path} gives the key "${key}" as an earlier member did`
          : `${earlierPath} and ${member.path} both give the key "${key}"`;
      throw new MaskpipeError(
        "ERR_DUPLICATE_KEY",
        `${this.source.name}: ${both}; each ${this.side === "photos" ? "photo" : "mask"} needs its own key (check the key rule's depth and suffixes in the pipeline file)${duplicateHint(member.path, this.rule)}`,
        { archive: this.source.name, member: member.path },
      );
    }
    this.positions.set(key, position);
    return key;
  }

  wanted = (member: SourceMember): boolean =>
    isWanted(member, this.rule, this.partition, this.only);

  /** Records an unreadable member as a failed sample; true when the entry was one. */
  failedRead(entry: SourceEntry, key: string): boolean {
    if (entry.error === undefined) return false;
    this.stats.fail({
      key,
      archive: this.source.name,
      member: entry.member.path,
      stage: "read",
      code: entry.error.code,
      message: entry.error.message,
    });
    return true;
  }
}

/**
 * True for a member the join reads: an image (not a folder, a non-image or metadata) whose key
 * falls in `partition`'s slice (any key without one) and, when `only` is given, is one of them.
 */
export function isWanted(
  member: SourceMember,
  rule: KeyRule,
  partition: Partition | undefined,
  only?: ReadonlySet<string>,
): boolean {
  if (skipReason(member.path, member.kind) !== undefined) return false;
  if (partition === undefined && only === undefined) return true;
  const key = memberKey(member.path, rule);
  return inPartition(partition, key) && only?.has(key) !== false;
}

/** What a duplicate key's member looks like, when that explains it: another data set's input. */
function duplicateHint(path: string, rule: KeyRule): string {
  const looks = looksLike(path);
  if (looks?.dataSet !== "CASIA-WebFace" || rule.depth >= 2) return "";
  return `; ${path} looks like ${describeLooks(looks)}, whose keys need the identity folder: is this input for the casia pipeline?`;
}
