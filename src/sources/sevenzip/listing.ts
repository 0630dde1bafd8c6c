import { MaskpipeError } from "../../core/errors.js";
import { pathComponents } from "../../core/keys.js";
import type { MemberKind, SourceMember } from "../source.js";

/** One item of a 7z archive, as `7z l -slt` lists it. */
export interface SevenZipMember extends SourceMember {
  /** CRC-32 of the contents as the archive records it; absent for folders and empty files. */
  readonly crc: number | undefined;
  readonly encrypted: boolean;
}

/**
 * Reads `7z l -slt` output line by line: the archive's own properties come first, then, after
 * a line of ten dashes, one block of `Key = value` lines per item, in archive order (the order
 * `7z x -so` writes their contents in). Paths use `/` and are NFC-normalised, as every source's.
 */
export class SltParser {
  readonly members: SevenZipMember[] = [];
  private inItems = false;
  private fields = new Map<string, string>();

  constructor(private readonly archive: string) {}

  line(text: string): void {
    if (!this.inItems) {
      if (text === "----------") this.inItems = true;
      return;
    }
    if (text.trim() === "") {
      this.flush();
      return;
    }
    const eq = text.indexOf(" = ");
    if (eq > 0) this.fields.set(text.slice(0, eq), text.slice(eq + 3));
    else if (text.endsWith(" =")) this.fields.set(text.slice(0, -2), "");
  }

  /** After the last line: the members, in archive order. */
  end(): SevenZipMember[] {
    this.flush();
    if (!this.inItems) {
      throw new MaskpipeError(
        "ERR_7Z_CORRUPT",
        `${this.archive}: 7-Zip listed no items (no "----------" line in its listing)`,
        { archive: this.archive },
      );
    }
    return this.members;
  }

  private flush(): void {
    if (this.fields.size === 0) return;
    const fields = this.fields;
    this.fields = new Map();
    const path = fields.get("Path");
    if (path === undefined) return;
    const attributes = fields.get("Attributes") ?? "";
    const kind: MemberKind =
      fields.get("Folder") === "+" || attributes.startsWith("D")
        ? "directory"
        : /^[A-Z]*\s+l/.test(attributes)
          ? "other" // a symbolic link (`A lrwxrwxrwx`)
          : "file";
    const crc = fields.get("CRC") ?? "";
    this.members.push({
      path: pathComponents(path).join("/").normalize("NFC"),
      size: Number(fields.get("Size") ?? 0),
      kind,
      crc: /^[0-9A-F]{8}$/i.test(crc) ? Number.parseInt(crc, 16) : undefined,
      encrypted: fields.get("Encrypted") === "+",
    });
  }
}
