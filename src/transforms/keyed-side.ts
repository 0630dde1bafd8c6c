import { MaskpipeError } from "../errors.js";
import type { RunStats, Side } from "../run-stats.js";
import { type KeyRule, memberKey } from "../sources/keys.js";
import { skipReason } from "../sources/member-filter.js";
import type { Source, SourceEntry, SourceMember } from "../sources/source.js";

/**
 * What both join strategies do with each member of one side: skip and count non-images, derive
 * the key, refuse a second member with the same key, and record members that could not be read.
 */
export class KeyedSide<S extends Source = Source> {
  /** Every keyed member so far; the lookup join also uses it as its index. */
  readonly members = new Map<string, SourceMember>();

  constructor(
    readonly side: Side,
    readonly source: S,
    private readonly rule: KeyRule,
    private readonly stats: RunStats,
  ) {}

  /** The member's key, or `undefined` when it is skipped (and counted). */
  keyOf(member: SourceMember): string | undefined {
    const reason = skipReason(member.path, member.kind);
    if (reason !== undefined) {
      this.stats.skip(reason);
      return undefined;
    }
    const key = memberKey(member.path, this.rule);
    const earlier = this.members.get(key)?.path;
    if (earlier !== undefined) {
      throw new MaskpipeError(
        "ERR_DUPLICATE_KEY",
        `${this.source.name}: ${earlier} and ${member.path} both give the key "${key}"; each ${this.side === "photos" ? "photo" : "mask"} needs its own key (check the key rule's depth and suffixes in the pipeline file)`,
        { archive: this.source.name, member: member.path },
      );
    }
    this.members.set(key, member);
    return key;
  }

  wanted = (member: SourceMember): boolean => skipReason(member.path, member.kind) === undefined;

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
