import type { MemberKind, MemberList } from "../source.js";
import type { ZipMember } from "./central-directory.js";

const KINDS: readonly MemberKind[] = ["file", "directory", "other"];
const INITIAL_CAPACITY = 1024;

/**
 * A zip's central directory kept as columns: numbers in typed arrays, names as UTF-8 in one
 * buffer. About 36 bytes a member plus its name, where an object per member cost ~160; members
 * are made on demand (`at`, iteration) and dropped by the caller.
 */
export class ZipIndex implements MemberList {
  length = 0;
  private localHeaderOffset = new Float64Array(INITIAL_CAPACITY);
  private compressedSize = new Float64Array(INITIAL_CAPACITY);
  private size = new Float64Array(INITIAL_CAPACITY);
  private crc32 = new Uint32Array(INITIAL_CAPACITY);
  private method = new Uint16Array(INITIAL_CAPACITY);
  private flags = new Uint16Array(INITIAL_CAPACITY);
  private kind = new Uint8Array(INITIAL_CAPACITY);
  /** Where each name starts in `names`; entry `length` is where the next one would. */
  private nameStart = new Uint32Array(INITIAL_CAPACITY + 1);
  private names = Buffer.alloc(INITIAL_CAPACITY * 32);

  add(member: ZipMember): void {
    if (this.length === this.crc32.length) this.growRows();
    const i = this.length;
    this.localHeaderOffset[i] = member.localHeaderOffset;
    this.compressedSize[i] = member.compressedSize;
    this.size[i] = member.size;
    this.crc32[i] = member.crc32;
    this.method[i] = member.method;
    this.flags[i] = member.flags;
    this.kind[i] = KINDS.indexOf(member.kind);
    const start = this.nameStart[i]!;
    const bytes = Buffer.byteLength(member.path);
    if (start + bytes > this.names.length) this.growNames(start + bytes);
    this.names.write(member.path, start, "utf8");
    this.nameStart[i + 1] = start + bytes;
    this.length++;
  }

  /** Drops the spare capacity once the directory is read. */
  seal(): void {
    const n = this.length;
    this.localHeaderOffset = this.localHeaderOffset.slice(0, n);
    this.compressedSize = this.compressedSize.slice(0, n);
    this.size = this.size.slice(0, n);
    this.crc32 = this.crc32.slice(0, n);
    this.method = this.method.slice(0, n);
    this.flags = this.flags.slice(0, n);
    this.kind = this.kind.slice(0, n);
    this.nameStart = this.nameStart.slice(0, n + 1);
    this.names = Buffer.from(this.names.subarray(0, this.nameStart[n]));
  }

  at(index: number): ZipMember | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return undefined;
    return {
      path: this.names.toString("utf8", this.nameStart[index], this.nameStart[index + 1]),
      size: this.size[index]!,
      kind: KINDS[this.kind[index]!]!,
      compressedSize: this.compressedSize[index]!,
      crc32: this.crc32[index]!,
      method: this.method[index]!,
      flags: this.flags[index]!,
      localHeaderOffset: this.localHeaderOffset[index]!,
    };
  }

  *[Symbol.iterator](): Iterator<ZipMember> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  /** Member indices ordered by where their data lies in the file. */
  byOffset(): Uint32Array {
    const order = new Uint32Array(this.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const offsets = this.localHeaderOffset;
    return order.sort((a, b) => offsets[a]! - offsets[b]!);
  }

  offsetOf(index: number): number {
    return this.localHeaderOffset[index]!;
  }

  compressedSizeOf(index: number): number {
    return this.compressedSize[index]!;
  }

  private growRows(): void {
    const capacity = this.crc32.length * 2;
    const grow = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(
      old: T,
      make: (n: number) => T,
      extra = 0,
    ): T => {
      const next = make(capacity + extra);
      next.set(old);
      return next;
    };
    this.localHeaderOffset = grow(this.localHeaderOffset, (n) => new Float64Array(n));
    this.compressedSize = grow(this.compressedSize, (n) => new Float64Array(n));
    this.size = grow(this.size, (n) => new Float64Array(n));
    this.crc32 = grow(this.crc32, (n) => new Uint32Array(n));
    this.method = grow(this.method, (n) => new Uint16Array(n));
    this.flags = grow(this.flags, (n) => new Uint16Array(n));
    this.kind = grow(this.kind, (n) => new Uint8Array(n));
    this.nameStart = grow(this.nameStart, (n) => new Uint32Array(n), 1);
  }

  private growNames(needed: number): void {
    const next = Buffer.alloc(Math.max(needed, this.names.length * 2));
    this.names.copy(next);
    this.names = next;
  }
}
